"""Services built from in-memory fakes (tests/unit/services/fakes.py), as chalicelib/wiring.py builds
them from adapters: no moto, no network; protoc runs once per distinct schema per session."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from chalicelib.domain.models import Organization, Principal, RequestContext
from chalicelib.domain.roles import Role
from chalicelib.domain.webhooks import DeliveryPolicy
from chalicelib.services.accounts import AccountsService
from chalicelib.services.compatibility import CompatibilityService
from chalicelib.services.compilation import CompilationService
from chalicelib.services.events import EventPublisher
from chalicelib.services.modules import ModulesService
from chalicelib.services.organizations import DEFAULT_ORG, OrganizationsService
from chalicelib.services.schemas import SchemaService
from chalicelib.services.versions import VersionsService
from chalicelib.services.webhooks import WebhooksService
from tests.unit.services.fakes import (
    FakeAccounts,
    FakeBlobs,
    FakeCursors,
    FakeHttp,
    FakeOrganizations,
    FakePasswords,
    FakeQueues,
    FakeRegistry,
    FakeTokens,
    FakeWebhooksStore,
    MemoCompiler,
    NullGenerator,
)
from tests.unit.services.fakes_collaborators import FakeCollaborators

LANGUAGES = {"python": "Python (protoc)", "go": "Go (protoc-gen-go)"}


def _check_rule_ids(ids: list[str]) -> None:
    from chalicelib.services.compatibility import check_rule_ids

    check_rule_ids(ids)


@pytest.fixture(scope="session")
def compiler() -> MemoCompiler:
    """The real protoc behind a session-wide memo: each distinct schema is compiled once per run."""
    from chalicelib.adapters.protoc import ProtocRunner

    return MemoCompiler(ProtocRunner())


@dataclass
class World:
    """Every fake and every service, wired like chalicelib/wiring.py wires the adapters."""

    compiler: MemoCompiler
    accounts_store: FakeAccounts = field(default_factory=FakeAccounts)
    orgs_store: FakeOrganizations = field(default_factory=FakeOrganizations)
    blobs: FakeBlobs = field(default_factory=FakeBlobs)
    cursors: FakeCursors = field(default_factory=FakeCursors)
    tokens: FakeTokens = field(default_factory=FakeTokens)
    passwords: FakePasswords = field(default_factory=FakePasswords)
    events: EventPublisher = field(default_factory=EventPublisher)
    webhooks_store: FakeWebhooksStore = field(default_factory=FakeWebhooksStore)
    http: FakeHttp = field(default_factory=FakeHttp)
    queues: FakeQueues = field(default_factory=FakeQueues)

    def __post_init__(self) -> None:
        self.registry = FakeRegistry(self.orgs_store)
        self.accounts = AccountsService(self.accounts_store, self.tokens, self.passwords)
        self.organizations = OrganizationsService(self.orgs_store, self.accounts_store)
        self.collaborators_store = FakeCollaborators()
        self.modules = ModulesService(self.registry, self.orgs_store, self.cursors, _check_rule_ids, self.events,
                                      collaborators=self.collaborators_store, accounts=self.accounts_store)
        self.compatibility = CompatibilityService(self.registry, self.blobs, self.modules)
        self.compilation = CompilationService(self.registry, self.blobs, NullGenerator(), dict(LANGUAGES), 600,
                                              self.events)
        self.versions = VersionsService(self.registry, self.blobs, self.modules, self.cursors,
                                        SchemaService(self.registry, self.blobs, self.compiler),
                                        self.compatibility, self.compilation, self.events, max_files=1000)
        self.webhooks = WebhooksService(self.webhooks_store, self.http, self.queues, self.cursors,
                                        DeliveryPolicy(max_attempts=3, retry_delays=(30, 120), max_per_org=3))

    # Given helpers

    def user(self, email: str = "dev@example.com", password: str = "correct horse") -> Principal:
        """A registered user, signed in: the principal a request of theirs carries."""
        self.accounts.register(email, password)
        token, _, _ = self.accounts.login(email, password)
        return self.accounts.authenticate(token)

    def org(self, owner: Principal, slug: str = "acme") -> Organization:
        return self.organizations.create(owner, slug.title(), slug)

    def ctx(self, principal: Principal | None, org: Organization | None = None) -> RequestContext:
        """The request context as the API builds it (membership role from the store)."""
        return self.organizations.context_for("req-test", principal, org.id if org else None)

    def as_role(self, org: Organization, role: Role, email: str) -> RequestContext:
        """A new user who is a member of `org` with `role`."""
        principal = self.user(email)
        owner_ctx = self.ctx(self.owner_of(org), org)
        self.organizations.add_member(owner_ctx, email, role.value)
        return self.ctx(principal, org)

    def owner_of(self, org: Organization) -> Principal:
        member = next(m for m in self.orgs_store.list_members(org.id) if m.role is Role.OWNER)
        return Principal(user_id=member.user_id, email=member.email, token_id="t", token_expires_at=0)


@pytest.fixture
def world(compiler: MemoCompiler) -> World:
    return World(compiler=compiler)


@pytest.fixture
def dev(world: World) -> Principal:
    return world.user("dev@example.com")


@pytest.fixture
def default_ctx(world: World, dev: Principal) -> RequestContext:
    """A signed-in developer in the shared default organization."""
    ctx = world.ctx(dev)
    assert ctx.org == DEFAULT_ORG
    return ctx

