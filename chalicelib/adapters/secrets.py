"""Secrets in SSM Parameter Store (SecureString): the JWT secret, read once per cold start, and each
organization's OIDC client secret (written by its admins, read by its SSO logins, never returned)."""
from __future__ import annotations

from botocore.exceptions import ClientError

from chalicelib.adapters import aws, keys


def ssm_secret(parameter_name: str) -> str:
    response = aws.client("ssm").get_parameter(Name=parameter_name, WithDecryption=True)
    value = response["Parameter"]["Value"]
    if len(value.encode()) < 32:
        raise ValueError(f"SSM parameter {parameter_name} must hold at least 32 bytes")
    return value


class SsmSsoSecrets:
    """The SsoSecretsPort: one SecureString per organization, `keys.sso_secret_parameter(stage, org_id)`."""

    def __init__(self, stage: str) -> None:
        self._stage = stage

    def _name(self, org_id: str) -> str:
        return keys.sso_secret_parameter(self._stage, org_id)

    def put_client_secret(self, org_id: str, secret: str) -> None:
        aws.client("ssm").put_parameter(Name=self._name(org_id), Value=secret, Type="SecureString", Overwrite=True,
                                        Description="Spoke: an organization's OpenID Connect client secret")

    def get_client_secret(self, org_id: str) -> str | None:
        try:
            response = aws.client("ssm").get_parameter(Name=self._name(org_id), WithDecryption=True)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ParameterNotFound":
                return None
            raise
        return str(response["Parameter"]["Value"])

    def delete_client_secret(self, org_id: str) -> None:
        try:
            aws.client("ssm").delete_parameter(Name=self._name(org_id))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ParameterNotFound":
                raise
