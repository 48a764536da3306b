"""Secrets from SSM Parameter Store (SecureString), read once per cold start."""
from __future__ import annotations

from chalicelib.adapters import aws


def ssm_secret(parameter_name: str) -> str:
    response = aws.client("ssm").get_parameter(Name=parameter_name, WithDecryption=True)
    value = response["Parameter"]["Value"]
    if len(value.encode()) < 32:
        raise ValueError(f"SSM parameter {parameter_name} must hold at least 32 bytes")
    return value
