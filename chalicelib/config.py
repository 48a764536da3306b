"""Settings from the environment, validated once per process.

Chalice puts a stage's `environment_variables` into the environment on Lambda and under
`chalice local`; tests set the same variables. The JWT secret is configuration, never code:
given directly (local, tests) or as the name of an SSM SecureString parameter (AWS stages).
"""
from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field, field_validator, model_validator

SERVICE_VERSION = "1.0.0"


class Settings(BaseModel):
    stage: str = "local"
    table_name: str
    bucket_name: str
    compile_queue_name: str
    events_queue_name: str
    jwt_secret: str | None = Field(default=None, repr=False)
    jwt_secret_parameter: str | None = None
    token_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    max_files_per_version: int = Field(default=5000, gt=0)
    download_url_ttl_seconds: int = Field(default=900, gt=0, le=7 * 24 * 3600)
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=65536, ge=8192)

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) < 32:
            raise ValueError("SPOKE_JWT_SECRET must be at least 32 bytes")
        return value

    @model_validator(mode="after")
    def _secret_source(self) -> "Settings":
        if not self.jwt_secret and not self.jwt_secret_parameter:
            raise ValueError("set SPOKE_JWT_SECRET, or SPOKE_JWT_SECRET_PARAMETER naming an SSM SecureString")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    values = {
        "stage": env.get("SPOKE_STAGE", "local"),
        "table_name": env.get("SPOKE_TABLE_NAME"),
        "bucket_name": env.get("SPOKE_BUCKET_NAME"),
        "compile_queue_name": env.get("SPOKE_COMPILE_QUEUE_NAME"),
        "events_queue_name": env.get("SPOKE_EVENTS_QUEUE_NAME"),
        "jwt_secret": env.get("SPOKE_JWT_SECRET"),
        "jwt_secret_parameter": env.get("SPOKE_JWT_SECRET_PARAMETER"),
        "token_ttl_seconds": env.get("SPOKE_TOKEN_TTL_SECONDS", 24 * 3600),
        "max_body_bytes": env.get("SPOKE_MAX_BODY_BYTES", 4 * 1024 * 1024),
        "max_files_per_version": env.get("SPOKE_MAX_FILES_PER_VERSION", 5000),
        "download_url_ttl_seconds": env.get("SPOKE_DOWNLOAD_URL_TTL_SECONDS", 900),
        "password_hash_time_cost": env.get("SPOKE_PASSWORD_HASH_TIME_COST", 3),
        "password_hash_memory_kib": env.get("SPOKE_PASSWORD_HASH_MEMORY_KIB", 65536),
    }
    return Settings(**{k: v for k, v in values.items() if v is not None})
