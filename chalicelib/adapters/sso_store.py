"""An organization's SSO settings and the logins in progress, in the single table.

Settings: one item in the organization's partition (`keys.sso_config_key`). A login in progress: one
item per random state (`keys.sso_state_key`), with a TTL; the callback takes it with a conditional
delete that returns it, so a state is redeemed at most once even by two callbacks at the same moment.
"""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table, from_item, to_item
from chalicelib.domain.roles import Role
from chalicelib.domain.sso import LoginState, ProviderMetadata, SsoConfig


def _config_from(item: dict[str, Any]) -> SsoConfig:
    provider = ProviderMetadata(issuer=item["issuer"], authorization_endpoint=item["authorization_endpoint"],
                                token_endpoint=item["token_endpoint"], jwks_uri=item["jwks_uri"],
                                token_auth_method=item["token_auth_method"])
    return SsoConfig(org_id=item["org_id"], issuer=item["issuer"], client_id=item["client_id"],
                     allowed_domains=tuple(item["allowed_domains"]), default_role=Role(item["default_role"]),
                     provider=provider, updated_at=item["updated_at"], updated_by=item["updated_by"])


class SsoStore:
    """The SsoPort."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def put_config(self, config: SsoConfig) -> None:
        provider = config.provider
        self._table.put({**keys.sso_config_key(config.org_id), "type": "sso_config", "org_id": config.org_id,
                         "issuer": config.issuer, "client_id": config.client_id,
                         "allowed_domains": list(config.allowed_domains), "default_role": config.default_role.value,
                         "authorization_endpoint": provider.authorization_endpoint,
                         "token_endpoint": provider.token_endpoint, "jwks_uri": provider.jwks_uri,
                         "token_auth_method": provider.token_auth_method, "updated_at": config.updated_at,
                         "updated_by": config.updated_by})

    def get_config(self, org_id: str) -> SsoConfig | None:
        item = self._table.get(keys.sso_config_key(org_id))
        return _config_from(item) if item else None

    def delete_config(self, org_id: str) -> bool:
        response = self._table.client.delete_item(TableName=self._table.name,
                                                  Key=to_item(keys.sso_config_key(org_id)), ReturnValues="ALL_OLD")
        return "Attributes" in response

    def put_state(self, login: LoginState) -> None:
        self._table.client.put_item(
            TableName=self._table.name, ConditionExpression="attribute_not_exists(PK)",
            Item=to_item({**keys.sso_state_key(login.state), "type": "sso_state", "org_id": login.org_id,
                          "nonce": login.nonce, "code_verifier": login.code_verifier,
                          "redirect_uri": login.redirect_uri, "expires_at_epoch": login.expires_at}))

    def take_state(self, state: str, now: int) -> LoginState | None:
        try:
            response = self._table.client.delete_item(
                TableName=self._table.name, Key=to_item(keys.sso_state_key(state)), ReturnValues="ALL_OLD",
                ConditionExpression="attribute_exists(PK) AND expires_at_epoch > :now",
                ExpressionAttributeValues=to_item({":now": now}))
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None  # never issued, already used, or expired (TTL deletes lag: the condition decides)
            raise
        item = from_item(response["Attributes"])
        return LoginState(state=state, org_id=item["org_id"], nonce=item["nonce"],
                          code_verifier=item["code_verifier"], redirect_uri=item["redirect_uri"],
                          expires_at=int(item["expires_at_epoch"]))
