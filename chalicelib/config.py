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
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=10)
    webhook_max_attempts: int = Field(default=5, ge=1, le=20)
    webhook_retry_delays: tuple[int, ...] = (30, 120, 480, 900)
    webhook_allow_loopback: bool = False
    webhook_history_days: int = Field(default=30, ge=1, le=365)
    webhook_max_per_org: int = Field(default=20, ge=1, le=100)
    # Bounds of each protoc run: the API's (publish, /validate) must answer within API Gateway's 29 s
    # and fit its 1024 MB function; the compile function's run longer, in 3008 MB.
    protoc_timeout_seconds: float = Field(default=20.0, gt=0, le=28)
    protoc_memory_mib: int = Field(default=768, ge=16, le=10240)
    compile_timeout_seconds: float = Field(default=120.0, gt=0, le=900)
    compile_memory_mib: int = Field(default=2048, ge=16, le=10240)
    # In-container caches of the reads every authenticated request makes (adapters/cached_stores.py):
    # how stale, in seconds, another container's view may be. 0 turns a cache off.
    cache_seconds: float = Field(default=15.0, ge=0, le=300)  # organizations, slugs, memberships
    revocation_cache_seconds: float = Field(default=5.0, ge=0, le=60)  # a logout elsewhere
    cache_max_entries: int = Field(default=10_000, ge=1, le=1_000_000)  # per cache

    # A compile job's claim on its languages ("running" until this many seconds have passed): at least
    # the compile function's timeout (900 s), below the compile queue's visibility timeout (960 s), so a
    # receive cut off by the timeout has lost its claim when SQS hands the message out again.
    compile_lease_seconds: int = Field(default=900, ge=1, le=900)

    # Packs and large uploads (services/versions.py, services/uploads.py): a manifest this small is kept in
    # the version item too (DynamoDB items hold 400 KB; every read of the item pays for its size); an upload
    # grant lives this long (to post and to publish), its presigned POST this long; archive bounds.
    inline_manifest_max_files: int = Field(default=200, ge=0, le=2000)
    inline_manifest_max_bytes: int = Field(default=32 * 1024, ge=0, le=128 * 1024)
    upload_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    upload_url_ttl_seconds: int = Field(default=900, ge=10, le=7 * 24 * 3600)
    archive_max_bytes: int = Field(default=32 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    archive_max_uncompressed_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    archive_max_entries: int = Field(default=10_000, ge=1, le=100_000)
    archive_max_ratio: int = Field(default=200, ge=1, le=100_000)

    @field_validator("webhook_retry_delays", mode="before")
    @classmethod
    def _delays(cls, value: object) -> object:
        """`1,2,4` (seconds): each becomes an SQS DelaySeconds, so 0-900."""
        if isinstance(value, str):
            value = tuple(int(part) for part in value.split(",") if part.strip())
        if not value or any(not 0 <= int(delay) <= 900 for delay in value):
            raise ValueError("SPOKE_WEBHOOK_RETRY_DELAYS must list seconds from 0 to 900, e.g. 30,120,480,900")
        return value

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
        "webhook_timeout_seconds": env.get("SPOKE_WEBHOOK_TIMEOUT_SECONDS"),
        "webhook_max_attempts": env.get("SPOKE_WEBHOOK_MAX_ATTEMPTS"),
        "webhook_retry_delays": env.get("SPOKE_WEBHOOK_RETRY_DELAYS"),
        "webhook_allow_loopback": env.get("SPOKE_WEBHOOK_ALLOW_LOOPBACK"),
        "webhook_history_days": env.get("SPOKE_WEBHOOK_HISTORY_DAYS"),
        "webhook_max_per_org": env.get("SPOKE_WEBHOOK_MAX_PER_ORG"),
        "protoc_timeout_seconds": env.get("SPOKE_PROTOC_TIMEOUT_SECONDS"),
        "protoc_memory_mib": env.get("SPOKE_PROTOC_MEMORY_MIB"),
        "compile_timeout_seconds": env.get("SPOKE_COMPILE_TIMEOUT_SECONDS"),
        "compile_memory_mib": env.get("SPOKE_COMPILE_MEMORY_MIB"),
        "cache_seconds": env.get("SPOKE_CACHE_SECONDS"),
        "revocation_cache_seconds": env.get("SPOKE_REVOCATION_CACHE_SECONDS"),
        "cache_max_entries": env.get("SPOKE_CACHE_MAX_ENTRIES"),
    }
    values["compile_lease_seconds"] = env.get("SPOKE_COMPILE_LEASE_SECONDS")
    values.update({name: env.get(f"SPOKE_{name.upper()}") for name in (
        "inline_manifest_max_files", "inline_manifest_max_bytes", "upload_ttl_seconds", "upload_url_ttl_seconds",
        "archive_max_bytes", "archive_max_uncompressed_bytes", "archive_max_entries", "archive_max_ratio")})
    return Settings(**{k: v for k, v in values.items() if v is not None})
