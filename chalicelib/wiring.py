"""The composition root: builds each service with its adapters, once per process."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from chalicelib.adapters.accounts_store import AccountsStore
from chalicelib.adapters.blobs import BlobStore
from chalicelib.adapters.cursors import CursorSigner
from chalicelib.adapters.dynamo import Table
from chalicelib.adapters.organizations_store import OrganizationsStore
from chalicelib.adapters.passwords import Argon2Passwords
from chalicelib.adapters.protoc import ProtocLimits, ProtocRunner
from chalicelib.adapters.queues import Queues
from chalicelib.adapters.registry_store import RegistryStore
from chalicelib.adapters.secrets import ssm_secret
from chalicelib.adapters.tokens import JwtTokens
from chalicelib.adapters.http_delivery import HttpDelivery
from chalicelib.adapters.webhooks_store import WebhooksStore
from chalicelib.domain.webhooks import DeliveryPolicy
from chalicelib.config import Settings, get_settings
from chalicelib.services.accounts import AccountsService
from chalicelib.adapters.codegen import LANGUAGES, CodeGenerator
from chalicelib.services.compatibility import CompatibilityService, check_rule_ids
from chalicelib.services.compilation import CompilationService
from chalicelib.services.events import EventPublisher
from chalicelib.services.modules import ModulesService
from chalicelib.services.organizations import OrganizationsService
from chalicelib.services.schemas import SchemaService
from chalicelib.services.system import SystemService
from chalicelib.services.versions import VersionsService
from chalicelib.services.webhooks import WebhooksService


@dataclass(frozen=True)
class Services:
    settings: Settings
    accounts: AccountsService
    organizations: OrganizationsService
    modules: ModulesService
    versions: VersionsService
    compatibility: CompatibilityService
    compilation: CompilationService
    system: SystemService
    webhooks: WebhooksService


@lru_cache(maxsize=1)
def services() -> Services:
    settings = get_settings()
    jwt_secret = settings.jwt_secret or ssm_secret(str(settings.jwt_secret_parameter))
    table = Table(settings.table_name)
    accounts_store, orgs_store, registry = AccountsStore(table), OrganizationsStore(table), RegistryStore(table)
    blobs = BlobStore(settings.bucket_name)
    cursors = CursorSigner(jwt_secret)
    queues = Queues(settings.compile_queue_name, settings.events_queue_name)
    events = EventPublisher(queues)
    modules = ModulesService(registry, orgs_store, cursors, check_rule_ids, events)
    compatibility = CompatibilityService(registry, blobs, modules)
    generator = CodeGenerator(timeout=settings.compile_timeout_seconds, memory_mib=settings.compile_memory_mib)
    compilation = CompilationService(registry, blobs, queues, generator,
                                     {name: language.description for name, language in LANGUAGES.items()},
                                     settings.download_url_ttl_seconds, events)
    return Services(
        settings=settings,
        accounts=AccountsService(accounts_store, JwtTokens(jwt_secret, settings.token_ttl_seconds),
                                 Argon2Passwords(settings.password_hash_time_cost,
                                                 settings.password_hash_memory_kib)),
        organizations=OrganizationsService(orgs_store, accounts_store),
        modules=modules,
        versions=VersionsService(registry, blobs, modules, cursors,
                                 SchemaService(registry, blobs, _protoc_runner(settings)), compatibility,
                                 compilation, events, settings.max_files_per_version),
        compatibility=compatibility,
        compilation=compilation,
        system=SystemService(registry, blobs, queues),
        webhooks=WebhooksService(WebhooksStore(table), HttpDelivery(settings.webhook_timeout_seconds,
                                                                    settings.webhook_allow_loopback),
                                 queues, cursors, _delivery_policy(settings)),
    )


def _protoc_runner(settings: Settings) -> ProtocRunner:
    """The registry's protoc, bounded so that a request over it is a 422, never a stuck or killed function."""
    return ProtocRunner(limits=ProtocLimits(settings.protoc_timeout_seconds, settings.protoc_memory_mib))


def _delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(timeout_seconds=settings.webhook_timeout_seconds,
                          max_attempts=settings.webhook_max_attempts, retry_delays=settings.webhook_retry_delays,
                          allow_loopback=settings.webhook_allow_loopback,
                          history_days=settings.webhook_history_days, max_per_org=settings.webhook_max_per_org)


def reset() -> None:
    """Forget settings and services (tests change the environment between apps)."""
    get_settings.cache_clear()
    services.cache_clear()
