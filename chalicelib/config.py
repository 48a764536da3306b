"""Settings from the environment, validated once per process.

Chalice puts a stage's `environment_variables` into the environment on Lambda and under
`chalice local`; tests set the same variables. The JWT secret is configuration, never code:
given directly (local, tests) or as the name of an SSM SecureString parameter (AWS stages).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

SERVICE_VERSION = "1.0.0"

# name: (type, low, high, low exclusive). Checked once per process; pydantic stays off the cold path.
_BOUNDS: dict[str, tuple[type, float | None, float | None, bool]] = {
    "token_ttl_seconds": (int, 0, None, True),
    "max_body_bytes": (int, 0, None, True),
    "max_files_per_version": (int, 0, None, True),
    "download_url_ttl_seconds": (int, 0, 7 * 24 * 3600, True),
    "password_hash_time_cost": (int, 1, None, False),
    "password_hash_memory_kib": (int, 8192, None, False),
    "webhook_timeout_seconds": (float, 0, 10, True),
    "webhook_max_attempts": (int, 1, 20, False),
    "webhook_history_days": (int, 1, 365, False),
    "webhook_max_per_org": (int, 1, 100, False),
    # Bounds of each protoc run: the API's (publish, /validate) must answer within API Gateway's 29 s
    # and fit its 1024 MB function; the compile function's run longer, in 3008 MB.
    "protoc_timeout_seconds": (float, 0, 28, True),
    "protoc_memory_mib": (int, 16, 10240, False),
    "compile_timeout_seconds": (float, 0, 900, True),
    "compile_memory_mib": (int, 16, 10240, False),
    # In-container caches of the reads every authenticated request makes (adapters/cached_stores.py):
    # how stale, in seconds, another container's view may be. 0 turns a cache off.
    "cache_seconds": (float, 0, 300, False),
    "revocation_cache_seconds": (float, 0, 60, False),
    "cache_max_entries": (int, 1, 1_000_000, False),
    # A compile job's claim on its languages ("running" until this many seconds have passed): at least
    # the compile function's timeout (900 s), below the compile queue's visibility timeout (960 s), so a
    # receive cut off by the timeout has lost its claim when SQS hands the message out again.
    "compile_lease_seconds": (int, 1, 900, False),
    # Packs and large uploads: a manifest this small is kept in the version item too (DynamoDB items
    # hold 400 KB); an upload grant lives this long, its presigned POST this long; archive bounds.
    "inline_manifest_max_files": (int, 0, 2000, False),
    "inline_manifest_max_bytes": (int, 0, 128 * 1024, False),
    "upload_ttl_seconds": (int, 60, 7 * 24 * 3600, False),
    "upload_url_ttl_seconds": (int, 10, 7 * 24 * 3600, False),
    "archive_max_bytes": (int, 1024, 1024 * 1024 * 1024, False),
    "archive_max_uncompressed_bytes": (int, 1024, 1024 * 1024 * 1024, False),
    "archive_max_entries": (int, 1, 100_000, False),
    "archive_max_ratio": (int, 1, 100_000, False),
    # Login throttling: this many failed logins for one email, or from one source IP, within the window
    # make further attempts 429 (with Retry-After) until the window ends; argon2 is not run for them.
    "login_max_failures": (int, 1, 1000, False),
    "login_failure_window_seconds": (int, 1, 24 * 3600, False),
    # API tokens live at most this many days; SSO logins must finish within this many seconds.
    "api_token_max_days": (int, 1, 3650, False),
    "sso_state_ttl_seconds": (int, 30, 3600, False),
    # The audit trail's stored records expire (DynamoDB TTL) this many days after the mutation.
    "audit_retention_days": (int, 1, 3650, False),
    # How long a browser may reuse a CORS preflight's answer (Firefox caps it at 86400, Chrome at 7200).
    "cors_max_age_seconds": (int, 0, 86400, False),
    # GET .../download/{language}?with_dependencies=true: the closure's stored ZIPs together, and what they
    # unpack to, at most this many bytes (the API function builds the closure ZIP in its memory).
    "closure_max_bytes": (int, 1024, 512 * 1024 * 1024, False),
    "closure_max_unpacked_bytes": (int, 1024, 512 * 1024 * 1024, False),
}


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _number(name: str, value: Any) -> int | float:
    kind, low, high, exclusive = _BOUNDS[name]
    try:
        number = kind(value)
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"SPOKE_{name.upper()} must be {'an integer' if kind is int else 'a number'}, "
                         f"not {value!r}") from None
    if (low is not None and (number <= low if exclusive else number < low)) or (high is not None and number > high):
        raise ValueError(f"SPOKE_{name.upper()} must be {'above' if exclusive else 'at least'} {low}"
                         + (f" and at most {high}" if high is not None else "") + f", not {number}")
    return number


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"SPOKE_{name.upper()} must be true or false, not {value!r}")


def _delays(value: Any) -> tuple[int, ...]:
    """`1,2,4` (seconds): each becomes an SQS DelaySeconds, so 0-900."""
    try:
        delays = tuple(int(part) for part in (value.split(",") if isinstance(value, str) else value)
                       if str(part).strip())
    except (TypeError, ValueError):
        delays = ()
    if not delays or any(not 0 <= delay <= 900 for delay in delays):
        raise ValueError("SPOKE_WEBHOOK_RETRY_DELAYS must list seconds from 0 to 900, e.g. 30,120,480,900")
    return delays


@dataclass(frozen=True)
class Settings:
    table_name: str
    bucket_name: str
    compile_queue_name: str
    events_queue_name: str
    stage: str = "local"
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_secret_parameter: str | None = None
    token_ttl_seconds: int = 24 * 3600
    max_body_bytes: int = 4 * 1024 * 1024
    max_files_per_version: int = 5000
    download_url_ttl_seconds: int = 900
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    webhook_timeout_seconds: float = 5.0
    webhook_max_attempts: int = 5
    webhook_retry_delays: tuple[int, ...] = (30, 120, 480, 900)
    webhook_allow_loopback: bool = False
    webhook_history_days: int = 30
    webhook_max_per_org: int = 20
    protoc_timeout_seconds: float = 20.0
    protoc_memory_mib: int = 768
    compile_timeout_seconds: float = 120.0
    compile_memory_mib: int = 2048
    cache_seconds: float = 15.0
    revocation_cache_seconds: float = 5.0
    cache_max_entries: int = 10_000
    compile_lease_seconds: int = 900
    inline_manifest_max_files: int = 200
    inline_manifest_max_bytes: int = 32 * 1024
    upload_ttl_seconds: int = 3600
    upload_url_ttl_seconds: int = 900
    archive_max_bytes: int = 32 * 1024 * 1024
    archive_max_uncompressed_bytes: int = 64 * 1024 * 1024
    archive_max_entries: int = 10_000
    archive_max_ratio: int = 200
    login_max_failures: int = 10
    login_failure_window_seconds: int = 900
    api_token_max_days: int = 365
    sso_state_ttl_seconds: int = 600
    # OIDC issuers must be https; a local stage (and the tests' own issuer) may allow http on loopback.
    oidc_allow_http: bool = False
    # The plan table (domain/plans.py) with SPOKE_PLANS's overrides: plan name -> Plan.
    plans: Any = None
    # Go import paths the registry gives files with no go_package in modules with no go_package_prefix:
    # <go_module_host>/gen/go/<org slug>/<module>/<directory> (as the Buf Schema Registry's generated SDKs).
    go_module_host: str = "spoke.local"
    # Observability (adapters/telemetry.py): the `spoke` loggers' level, X-Ray tracing, the audit trail's TTL.
    log_level: str = "INFO"
    tracing: bool = False
    audit_retention_days: int = 90
    # HTTP hygiene (api/cors.py, services/system.py): the browser origins allowed to call the API (empty:
    # no CORS headers at all; "*": any origin, safe because the API authenticates with bearer tokens,
    # never cookies), and who may read /metrics and /health's per-backend detail: the bearer of the
    # metrics token (given directly or as an SSM SecureString's name) or a caller from these networks.
    cors_allowed_origins: tuple[str, ...] = ()
    cors_max_age_seconds: int = 600
    metrics_token: str | None = field(default=None, repr=False)
    metrics_token_parameter: str | None = None
    metrics_allowed_cidrs: tuple[str, ...] = ()
    # Dependency closures (services/dependency_bundles.py): bounds of the one ZIP of a module and its closure.
    closure_max_bytes: int = 32 * 1024 * 1024
    closure_max_unpacked_bytes: int = 128 * 1024 * 1024

    def __post_init__(self) -> None:
        """Coerce environment text to each field's type and refuse values out of bounds (ValueError)."""
        for name in ("table_name", "bucket_name", "compile_queue_name", "events_queue_name", "stage"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"SPOKE_{name.upper()} is required")
        for name in _BOUNDS:
            object.__setattr__(self, name, _number(name, getattr(self, name)))
        object.__setattr__(self, "webhook_allow_loopback", _boolean("webhook_allow_loopback",
                                                                    self.webhook_allow_loopback))
        object.__setattr__(self, "webhook_retry_delays", _delays(self.webhook_retry_delays))
        object.__setattr__(self, "oidc_allow_http", _boolean("oidc_allow_http", self.oidc_allow_http))
        object.__setattr__(self, "tracing", _boolean("tracing", self.tracing))
        level = str(self.log_level).strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"SPOKE_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, not {self.log_level!r}")
        object.__setattr__(self, "log_level", level)
        if not isinstance(self.plans, dict):
            from chalicelib.domain.plans import parse_plans

            object.__setattr__(self, "plans", parse_plans(self.plans))
        from chalicelib.domain.go_paths import go_import_path_problem

        host = self.go_module_host.strip().rstrip("/") if isinstance(self.go_module_host, str) else ""
        problem = go_import_path_problem(host)
        if problem or len(host) > 100:
            raise ValueError(f"SPOKE_GO_MODULE_HOST must be a Go import path of at most 100 characters such as "
                             f"spoke.local or go.acme.com/protos, not {self.go_module_host!r}"
                             + (f" ({problem})" if problem else ""))
        object.__setattr__(self, "go_module_host", host)
        if self.jwt_secret is not None and len(self.jwt_secret.encode()) < 32:
            raise ValueError("SPOKE_JWT_SECRET must be at least 32 bytes")
        if not self.jwt_secret and not self.jwt_secret_parameter:
            raise ValueError("set SPOKE_JWT_SECRET, or SPOKE_JWT_SECRET_PARAMETER naming an SSM SecureString")
        object.__setattr__(self, "cors_allowed_origins", _origins(self.cors_allowed_origins))
        object.__setattr__(self, "metrics_allowed_cidrs", _cidrs(self.metrics_allowed_cidrs))
        if self.metrics_token is not None and len(self.metrics_token.encode()) < 32:
            raise ValueError("SPOKE_METRICS_TOKEN must be at least 32 bytes")

    @classmethod
    def default_of(cls, name: str) -> Any:
        return next(f.default for f in fields(cls) if f.name == name)


def _listed(value: Any) -> list[str]:
    """A comma-separated variable (or a sequence, from tests) as its non-empty items."""
    parts = value.split(",") if isinstance(value, str) else list(value or ())
    return [str(part).strip() for part in parts if str(part).strip()]


def _origins(value: Any) -> tuple[str, ...]:
    """Exact browser origins (`https://ui.example.com`, `http://localhost:3000`), or `*` alone."""
    from urllib.parse import urlsplit

    origins = _listed(value)
    if origins == ["*"]:
        return ("*",)
    for origin in origins:
        parts = urlsplit(origin)
        try:
            port_ok = parts.port is None or 0 < parts.port
        except ValueError:
            port_ok = False
        if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or origin != (
                f"{parts.scheme}://{parts.netloc}") or "@" in parts.netloc:
            raise ValueError("SPOKE_CORS_ALLOWED_ORIGINS must list origins such as https://ui.example.com "
                             f"(scheme, host and port only, no path or slash), or be '*' alone, not {origin!r}")
    return tuple(origin.lower() for origin in origins)


def _cidrs(value: Any) -> tuple[str, ...]:
    """Networks in CIDR notation (`10.0.0.0/8`, `203.0.113.7/32`, `2001:db8::/32`), normalized."""
    import ipaddress

    networks = []
    for text in _listed(value):
        try:
            networks.append(str(ipaddress.ip_network(text, strict=False)))
        except ValueError:
            raise ValueError(f"SPOKE_METRICS_ALLOWED_CIDRS must list networks such as 10.0.0.0/8 or "
                             f"203.0.113.7/32, not {text!r}") from None
    return tuple(networks)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Every field from its variable, SPOKE_<FIELD NAME>; an unset variable leaves the field's default."""
    found = {f.name: os.environ.get(f"SPOKE_{f.name.upper()}") for f in fields(Settings)}
    text: dict[str, Any] = {name: value for name, value in found.items() if value is not None}
    return Settings(**text)  # environment text: __post_init__ coerces each field to its type
