"""The composition root: builds each service with its adapters on first use, once per process.

Nothing is built, and no adapter or service module is imported, until a handler asks for it: each
builder below imports what it needs. A cold start therefore loads only what its first request uses
(GET /health: the stores and the health check; not the breaking engine, code generation, webhook
delivery, argon2 or JWT), and each Lambda function only what it runs. Adapters that a service holds
but uses on few paths (the code generator, webhook delivery, password hashing) are `Deferred`: their
modules are imported when the service first calls them. tests/unit/test_cold_imports.py guards this.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from chalicelib.config import Settings, get_settings

if TYPE_CHECKING:
    from chalicelib.adapters.blobs import BlobStore
    from chalicelib.adapters.cached_stores import CachedAccountsStore, CachedOrganizationsStore
    from chalicelib.adapters.collaborators_store import CollaboratorsStore
    from chalicelib.adapters.counters import DynamoCounters
    from chalicelib.adapters.cursors import CursorSigner
    from chalicelib.adapters.dynamo import Table
    from chalicelib.adapters.protoc import ProtocRunner
    from chalicelib.adapters.queues import Queues
    from chalicelib.adapters.registry_store import RegistryStore
    from chalicelib.adapters.telemetry import EmfMetrics
    from chalicelib.domain.webhooks import DeliveryPolicy
    from chalicelib.services.accounts import AccountsService
    from chalicelib.services.api_tokens import ApiTokensService
    from chalicelib.services.audit import AuditService
    from chalicelib.services.collaborators import CollaboratorsService
    from chalicelib.services.compatibility import CompatibilityService
    from chalicelib.services.compilation import CompilationService
    from chalicelib.services.dependency_bundles import DependencyBundlesService
    from chalicelib.services.events import EventPublisher
    from chalicelib.services.modules import ModulesService
    from chalicelib.services.organizations import OrganizationsService
    from chalicelib.services.outbox import OutboxRelay
    from chalicelib.services.rate_limits import RateLimitsService
    from chalicelib.services.source_archives import SourceArchivesService
    from chalicelib.services.sso import SsoService
    from chalicelib.services.system import OperatorAccess, SystemService
    from chalicelib.services.uploads import UploadsService
    from chalicelib.services.versions import VersionsService
    from chalicelib.services.webhooks import WebhooksService

T = TypeVar("T")


class Deferred:
    """Stands for an adapter until its first use: then `build()` runs (importing the adapter's module)
    and every attribute comes from what it built. Attributes set on the stand-in (a test's
    monkeypatch) take precedence, as they would on the adapter itself."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._built: Any = None
        self._lock = threading.Lock()

    def deferred_target(self) -> Any:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
        return self._built

    def __getattr__(self, name: str) -> Any:  # only for names the stand-in itself lacks
        if name.startswith("__") or name in ("_build", "_built", "_lock"):
            raise AttributeError(name)
        return getattr(self.deferred_target(), name)


def deferred(build: Callable[[], T]) -> T:
    """A Deferred typed as what `build` returns: it forwards every attribute to it."""
    return cast(T, Deferred(build))


class LazyMapping(Mapping[str, T], Generic[T]):
    """A read-only mapping whose contents are computed on first access (the compile outputs, whose
    names the API needs but whose module brings the whole code generator)."""

    def __init__(self, load: Callable[[], Mapping[str, T]]) -> None:
        self._load = load
        self._data: Mapping[str, T] | None = None

    def _mapping(self) -> Mapping[str, T]:
        if self._data is None:
            self._data = dict(self._load())
        return self._data

    def __getitem__(self, key: str) -> T:
        return self._mapping()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())


class _Once(Generic[T]):
    """A property of Services that builds its value on first access, once, under the container's lock."""

    def __init__(self, build: Callable[[Services], T]) -> None:
        self._build = build
        self._name = build.__name__
        self.__doc__ = build.__doc__

    def __get__(self, services: Services | None, owner: type) -> T:
        if services is None:
            return self  # type: ignore[return-value]
        built = services.__dict__.get(self._name, _MISSING)
        if built is _MISSING:
            with services._lock:  # reentrant: a builder asks for the parts it needs
                built = services.__dict__.get(self._name, _MISSING)
                if built is _MISSING:
                    built = services.__dict__[self._name] = self._build(services)
        return built

    def __set__(self, services: Services, value: T) -> None:  # tests may replace a part
        services.__dict__[self._name] = value


_MISSING = object()


class Services:
    """Every service and the adapters they share, each built on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()

    # adapters

    @_Once
    def jwt_secret(self) -> str:
        from chalicelib.adapters.secrets import ssm_secret

        return self.settings.jwt_secret or ssm_secret(str(self.settings.jwt_secret_parameter))

    @_Once
    def table(self) -> Table:
        from chalicelib.adapters.dynamo import Table

        return Table(self.settings.table_name)

    @_Once
    def cached_stores(self) -> tuple[CachedAccountsStore, CachedOrganizationsStore]:
        return _cached_stores(self.table, self.settings)

    @_Once
    def counters(self) -> DynamoCounters:
        """Atomic counters with a TTL: rate limits and login throttling."""
        from chalicelib.adapters.counters import DynamoCounters

        return DynamoCounters(self.table)

    @_Once
    def registry(self) -> RegistryStore:
        from chalicelib.adapters.registry_store import RegistryStore

        return RegistryStore(self.table)

    @_Once
    def blobs(self) -> BlobStore:
        from chalicelib.adapters.blobs import BlobStore

        return BlobStore(self.settings.bucket_name)

    @_Once
    def cursors(self) -> CursorSigner:
        from chalicelib.adapters.cursors import CursorSigner

        return CursorSigner(self.jwt_secret)

    @_Once
    def queues(self) -> Queues:
        from chalicelib.adapters.queues import Queues

        return Queues(self.settings.compile_queue_name, self.settings.events_queue_name)

    @_Once
    def events(self) -> EventPublisher:
        from chalicelib.services.events import EventPublisher

        return EventPublisher()

    # services

    @_Once
    def accounts(self) -> AccountsService:
        from chalicelib.adapters.tokens import JwtTokens
        from chalicelib.services.accounts import AccountsService

        settings = self.settings

        from chalicelib.services.accounts import LoginThrottle

        def passwords() -> Any:  # argon2: register, login and password change only
            from chalicelib.adapters.passwords import Argon2Passwords

            return Argon2Passwords(settings.password_hash_time_cost, settings.password_hash_memory_kib)

        accounts_store, orgs_store = self.cached_stores
        return AccountsService(accounts_store, JwtTokens(self.jwt_secret, settings.token_ttl_seconds),
                               Deferred(passwords), api_tokens=self.api_tokens, counters=self.counters,
                               organizations=orgs_store,
                               throttle=LoginThrottle(settings.login_max_failures,
                                                      settings.login_failure_window_seconds))

    @_Once
    def api_tokens(self) -> ApiTokensService:
        """API tokens for machines: created, listed and revoked by their user; authenticated by accounts."""
        from chalicelib.adapters.api_tokens_store import ApiTokensStore
        from chalicelib.services.api_tokens import ApiTokensService

        return ApiTokensService(ApiTokensStore(self.table), self.cached_stores[1], self.settings.api_token_max_days)

    @_Once
    def organizations(self) -> OrganizationsService:
        from chalicelib.services.organizations import OrganizationsService

        accounts_store, orgs_store = self.cached_stores
        return OrganizationsService(orgs_store, accounts_store, self.settings.plans)

    @_Once
    def modules(self) -> ModulesService:
        from chalicelib.services.modules import ModulesService

        return ModulesService(self.registry, self.cached_stores[1], self.cursors, _check_rule_ids, self.events,
                              collaborators=self.collaborators_store, accounts=self.cached_stores[0],
                              plans=self.settings.plans)

    @_Once
    def collaborators_store(self) -> CollaboratorsStore:
        """Who may write to a default-organization module besides its owner."""
        from chalicelib.adapters.collaborators_store import CollaboratorsStore

        return CollaboratorsStore(self.table)

    @_Once
    def collaborators(self) -> CollaboratorsService:
        from chalicelib.services.collaborators import CollaboratorsService

        return CollaboratorsService(self.modules, self.collaborators_store, self.cached_stores[0])

    @_Once
    def compatibility(self) -> CompatibilityService:
        from chalicelib.services.compatibility import CompatibilityService

        def schemas() -> Any:  # protoc: only a check of unpublished files compiles
            from chalicelib.services.schemas import SchemaService

            return SchemaService(self.registry, self.blobs, _protoc_runner(self.settings))

        return CompatibilityService(self.registry, self.blobs, self.modules, schemas=deferred(schemas),
                                    max_files=self.settings.max_files_per_version)

    @_Once
    def compilation(self) -> CompilationService:
        from chalicelib.services.compilation import CompilationService

        settings = self.settings

        def generator() -> Any:  # the compile function generates; the API only names languages
            from chalicelib.adapters.codegen import CodeGenerator

            return CodeGenerator(timeout=settings.compile_timeout_seconds, memory_mib=settings.compile_memory_mib)

        def languages() -> dict[str, str]:
            from chalicelib.adapters.codegen import LANGUAGES
            from chalicelib.domain.source_archive import SOURCE_DOWNLOADS

            # proto and descriptor_set are downloads of their own (source_archives), never compile outputs
            return {name: language.description for name, language in LANGUAGES.items()
                    if name not in SOURCE_DOWNLOADS}

        return CompilationService(self.registry, self.blobs, Deferred(generator),
                                  LazyMapping(languages), settings.download_url_ttl_seconds, self.events,
                                  lease_seconds=settings.compile_lease_seconds, plans=settings.plans,
                                  organizations=self.cached_stores[1], go_module_host=settings.go_module_host,
                                  metrics=self.metrics)

    @_Once
    def source_archives(self) -> SourceArchivesService:
        """download/proto (the sources as a ZIP, built once) and download/descriptor_set (as published)."""
        from chalicelib.services.source_archives import SourceArchivesService

        return SourceArchivesService(self.registry, self.blobs, self.modules, self.settings.download_url_ttl_seconds)

    @_Once
    def dependency_bundles(self) -> DependencyBundlesService:
        """download/{language}?with_dependencies=true: one ZIP of a version's closure, built once."""
        from chalicelib.adapters.closures_store import ClosureStore
        from chalicelib.services.dependency_bundles import DependencyBundlesService

        settings = self.settings
        return DependencyBundlesService(self.registry, self.blobs, ClosureStore(settings.bucket_name), self.modules,
                                        self.compilation, settings.download_url_ttl_seconds,
                                        settings.closure_max_bytes, settings.closure_max_unpacked_bytes)

    @_Once
    def versions(self) -> VersionsService:
        from chalicelib.services.schemas import SchemaService
        from chalicelib.services.versions import VersionsService

        return VersionsService(self.registry, self.blobs, self.modules, self.cursors,
                               SchemaService(self.registry, self.blobs, _protoc_runner(self.settings)),
                               self.compatibility, self.compilation, self.events,
                               self.settings.max_files_per_version, uploads=deferred(lambda: self.uploads),
                               inline_max_files=self.settings.inline_manifest_max_files,
                               inline_max_bytes=self.settings.inline_manifest_max_bytes,
                               plans=self.settings.plans, metrics=self.metrics)

    @_Once
    def uploads(self) -> UploadsService:
        """Archive uploads: presigned S3 POSTs under grants, read back when a version is published."""
        from chalicelib.adapters.uploads_store import UploadsStore
        from chalicelib.domain.archives import ArchiveLimits
        from chalicelib.services.uploads import UploadPolicy, UploadsService

        settings = self.settings
        return UploadsService(UploadsStore(self.table, settings.bucket_name), self.modules, UploadPolicy(
            ttl_seconds=settings.upload_ttl_seconds, url_ttl_seconds=settings.upload_url_ttl_seconds,
            max_archive_bytes=settings.archive_max_bytes,
            archive=ArchiveLimits(max_entries=settings.archive_max_entries,
                                  max_total_bytes=settings.archive_max_uncompressed_bytes,
                                  max_ratio=settings.archive_max_ratio)))

    @_Once
    def rate_limits(self) -> RateLimitsService:
        """Requests per hour per organization, user or address: the plan's rate, one counter call each."""
        from chalicelib.services.rate_limits import RateLimitsService

        return RateLimitsService(self.counters, self.settings.plans)

    @_Once
    def system(self) -> SystemService:
        from chalicelib.adapters.keys import health_key
        from chalicelib.domain.names import DEFAULT_ORG_ID
        from chalicelib.services.system import SystemService

        checks = {"dynamodb": lambda: self.table.get(health_key()), "s3": lambda: self.blobs.ping(),
                  "sqs": lambda: self.queues.ping()}
        return SystemService(checks, totals=lambda: self.registry.totals(),
                             public_totals=lambda: self.cached_stores[1].counters(DEFAULT_ORG_ID),
                             access=_operator_access(self.settings))

    @_Once
    def webhooks(self) -> WebhooksService:
        from chalicelib.adapters.webhooks_store import WebhooksStore
        from chalicelib.services.webhooks import WebhooksService

        settings = self.settings

        def delivery() -> Any:  # HTTP(S) delivery: the events function and pings
            from chalicelib.adapters.http_delivery import HttpDelivery

            return HttpDelivery(settings.webhook_timeout_seconds, settings.webhook_allow_loopback)

        return WebhooksService(WebhooksStore(self.table), Deferred(delivery), self.queues, self.cursors,
                               _delivery_policy(settings), plans=settings.plans, metrics=self.metrics)

    @_Once
    def outbox(self) -> OutboxRelay:
        """The table stream's consumer: forwards outbox items to their queues, aggregates the totals."""
        from chalicelib.adapters.outbox_store import OutboxStore
        from chalicelib.services.outbox import OutboxRelay

        return OutboxRelay(OutboxStore(self.table), self.queues)

    @_Once
    def sso(self) -> SsoService:
        """Single sign-on: settings in the table, client secrets in SSM, the issuer over vetted HTTP."""
        from chalicelib.adapters.secrets import SsmSsoSecrets
        from chalicelib.adapters.sso_store import SsoStore
        from chalicelib.adapters.tokens import JwtTokens
        from chalicelib.services.sso import SsoService

        settings = self.settings

        def oidc() -> Any:  # HTTP and JOSE: configuration and the callback only
            from chalicelib.adapters.oidc import OidcClient

            return OidcClient(settings.oidc_allow_http)

        accounts_store, orgs_store = self.cached_stores
        return SsoService(SsoStore(self.table), SsmSsoSecrets(settings.stage), Deferred(oidc), accounts_store,
                          orgs_store, JwtTokens(self.jwt_secret, settings.token_ttl_seconds),
                          state_ttl_seconds=settings.sso_state_ttl_seconds, allow_http=settings.oidc_allow_http,
                          plans=settings.plans)


    @_Once
    def metrics(self) -> EmfMetrics:
        """Operational metrics (CloudWatch EMF), flushed once per invocation by the handlers."""
        from chalicelib.adapters.telemetry import EmfMetrics

        return EmfMetrics(self.settings.stage)

    @_Once
    def audit(self) -> AuditService:
        """The audit trail: a log line per successful mutation, stored per organization with a TTL."""
        from chalicelib.adapters.audit_store import AuditStore
        from chalicelib.services.audit import AuditService

        return AuditService(AuditStore(self.table), self.cursors, self.settings.audit_retention_days)


def _cached_stores(table: Table, settings: Settings) -> tuple[CachedAccountsStore, CachedOrganizationsStore]:
    """Revocation, organization and membership reads remembered per container, within their bounds."""
    from chalicelib.adapters.cache import TtlCache
    from chalicelib.adapters.cached_stores import CachedAccountsStore, CachedOrganizationsStore

    return (CachedAccountsStore(table, TtlCache(settings.revocation_cache_seconds, settings.cache_max_entries)),
            CachedOrganizationsStore(table, TtlCache(settings.cache_seconds, settings.cache_max_entries)))


def _operator_access(settings: Settings) -> OperatorAccess:
    """Who sees /metrics and /health's detail: the metrics token (from SSM: read once, when first needed)
    or the allowed networks."""
    from chalicelib.services.system import OperatorAccess

    @lru_cache(maxsize=1)
    def token() -> str | None:
        if settings.metrics_token or not settings.metrics_token_parameter:
            return settings.metrics_token
        from chalicelib.adapters.secrets import ssm_secret

        return ssm_secret(settings.metrics_token_parameter)

    return OperatorAccess(token=token, networks=settings.metrics_allowed_cidrs)


def _protoc_runner(settings: Settings) -> ProtocRunner:
    """The registry's protoc, bounded so that a request over it is a 422, never a stuck or killed function."""
    from chalicelib.adapters.protoc import ProtocLimits, ProtocRunner

    return ProtocRunner(limits=ProtocLimits(settings.protoc_timeout_seconds, settings.protoc_memory_mib))


def _delivery_policy(settings: Settings) -> DeliveryPolicy:
    from chalicelib.domain.webhooks import DeliveryPolicy

    return DeliveryPolicy(timeout_seconds=settings.webhook_timeout_seconds,
                          max_attempts=settings.webhook_max_attempts, retry_delays=settings.webhook_retry_delays,
                          allow_loopback=settings.webhook_allow_loopback,
                          history_days=settings.webhook_history_days, max_per_org=settings.webhook_max_per_org)


def _check_rule_ids(ids: list[str]) -> None:
    """The breaking engine's rule-ID check, imported when a policy is first set (not for every request)."""
    from chalicelib.services.compatibility import check_rule_ids

    check_rule_ids(ids)


@lru_cache(maxsize=1)
def services() -> Services:
    return Services(get_settings())


def reset() -> None:
    """Forget settings and services (tests change the environment between apps)."""
    get_settings.cache_clear()
    services.cache_clear()
