"""Use cases of modules: create, list, read, edit; and who may write to one.

Every module records its creator (`owner_id`). In the shared default organization that is what stops
one signed-in user from rewriting another's module: only its owner and the collaborators the owner
adds may edit it, publish to it, upload for it or recompile it (`writable`). In a named organization,
roles alone govern writes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain.errors import (
    Conflict,
    Forbidden,
    ModuleNotFound,
    UserNotFound,
    ValidationFailed,
    VersionNotFound,
)
from chalicelib.domain.go_paths import GO_IMPORT_PATH_RULE, go_import_path_problem
from chalicelib.domain.models import DEFAULT_ORG_ID, Module, RequestContext
from chalicelib.domain.names import is_module_name, is_user_id, shown, validate_module_name
from chalicelib.domain.policy import CompatibilityPolicy, parse_policy
from chalicelib.domain.roles import Action
from chalicelib.domain.search import parse_query
from chalicelib.domain.text import bounded_text
from chalicelib.domain.versions import LATEST, is_latest, parse_version
from chalicelib.services.common import PageRequest, next_cursor, pagination, require, resume_after, utc_now
from chalicelib.services.events import EventPublisher
from chalicelib.services.ports import AccountsPort, CollaboratorsPort, CursorsPort, OrganizationsPort, RegistryPort
from chalicelib.services.quotas import Plans, quotas_for

MAX_DESCRIPTION = 1000


def validate_description(value: Any) -> str:
    return bounded_text("description", value, MAX_DESCRIPTION)


def validate_go_prefix(value: Any) -> str | None:
    if value in (None, ""):
        return None
    prefix = value.rstrip("/") if isinstance(value, str) else None
    problem = go_import_path_problem(prefix) if prefix is not None else "it is not text"
    if problem or prefix is None:
        raise ValidationFailed(f"go_package_prefix is not a Go import path: {problem}", validation_errors=[
            {"field": "go_package_prefix", "code": "INVALID_FORMAT", "message": GO_IMPORT_PATH_RULE}])
    return prefix


class ModulesService:
    def __init__(self, registry: RegistryPort, orgs: OrganizationsPort, cursors: CursorsPort,
                 rules_check: Callable[[list[str]], None], events: EventPublisher, *,
                 collaborators: CollaboratorsPort, accounts: AccountsPort, plans: Plans | None = None) -> None:
        self._plans = plans  # the plan table (quotas); None: no quotas
        self._collaborators = collaborators
        self._accounts = accounts
        self._events = events
        self._rules_check = rules_check
        self._registry = registry
        self._orgs = orgs
        self._cursors = cursors

    def create(self, ctx: RequestContext, name: Any, description: Any, compatibility: Any = None,
               go_package_prefix: Any = None) -> Module:
        require(ctx, Action.PUBLISH)
        now = utc_now()
        module = Module(org_id=ctx.org.id, name=validate_module_name(name),
                        description=validate_description(description), created_at=now, updated_at=now,
                        compatibility=self._policy(compatibility),
                        go_package_prefix=validate_go_prefix(go_package_prefix),
                        owner_id=ctx.principal.user_id if ctx.principal else None)
        self._registry.create_module(module, outbox=[self._events.message(
            ctx.org.id, "module.created", {"module": module.name, "description": module.description})],
            quotas=quotas_for(ctx, self._plans))  # the `modules` quota: a condition of the same write
        return module

    def get(self, ctx: RequestContext, name: str) -> tuple[Module, list[str]]:
        """The module and its versions, lowest to highest precedence."""
        require(ctx, Action.READ)
        module = self.find(ctx, name)
        return module, self._registry.version_names(ctx.org.id, module.name)

    def find(self, ctx: RequestContext, name: str) -> Module:
        module = self._registry.get_module(ctx.org.id, name) if is_module_name(name) else None
        if module is None:
            raise ModuleNotFound(f"Module '{shown(name)}' not found", details={"module": shown(name)})
        return module

    def find_version(self, ctx: RequestContext, module: Module, version_text: Any) -> dict[str, Any]:
        """The stored item of one version of a module (either spelling of the version, or `latest`: the
        highest release, pre-releases excluded, found by one descending Query)."""
        if is_latest(version_text):
            latest = self._registry.latest_release(ctx.org.id, module.name)
            if latest is None:
                raise VersionNotFound(f"Module '{module.name}' has no released version yet (latest ignores "
                                      "pre-releases)", details={"module": module.name, "version": LATEST})
            return latest
        version = parse_version(version_text)
        item = self._registry.get_version(ctx.org.id, module.name, version.sort_key)
        if item is None:
            raise VersionNotFound(f"Version '{version.name}' of module '{module.name}' not found",
                                  details={"module": module.name, "version": version.name})
        return item

    def writable(self, ctx: RequestContext, name: str, owner_only: bool = False) -> Module:
        """The module, if the caller may change it; every write to a module asks here first.

        Their role (and an API token's scopes) must allow publishing; in the default organization the
        module must also be theirs, or (unless `owner_only`) they must be one of its collaborators:
        one GetItem, made only for a caller who is not the owner."""
        require(ctx, Action.PUBLISH)
        module = self.find(ctx, name)
        if not ctx.org.is_default or ctx.principal is None:
            return module
        caller = ctx.principal.user_id
        details = {"module": module.name, "owner_id": module.owner_id}
        if module.owner_id is None:
            raise Forbidden(f"Module '{module.name}' in the default organization has no owner (it was created "
                            "before modules had owners): it is read-only until an operator assigns one "
                            "(spoke-admin set-module-owner)", details=details)
        if module.owner_id == caller:
            return module
        if owner_only:
            raise Forbidden(f"Only the owner of module '{module.name}' may manage its collaborators",
                            details=details)
        if self._collaborators.get(ctx.org.id, module.name, caller) is None:
            raise Forbidden(f"Module '{module.name}' in the default organization belongs to its owner: ask them "
                            "to add you as a collaborator", details=details)
        return module

    def assign_owner(self, module_name: str, user_id: str) -> Module:
        """The operator's way to give a default-organization module made before owners existed an owner
        (`spoke-admin set-module-owner`). Conditional on it still having none; assigning the same owner
        again is a no-op."""
        if not is_module_name(module_name):
            named = shown(str(module_name))
            raise ModuleNotFound(f"Module '{named}' not found", details={"module": named})
        if not is_user_id(user_id) or self._accounts.get_user(user_id) is None:
            raise UserNotFound(f"No user with id '{shown(user_id)}'", details={"user_id": shown(user_id)})
        assigned = self._registry.assign_owner(DEFAULT_ORG_ID, module_name, user_id)
        if assigned is not None:
            return assigned
        current = self._registry.get_module(DEFAULT_ORG_ID, module_name)
        if current is None:
            raise ModuleNotFound(f"Module '{module_name}' not found", details={"module": module_name})
        if current.owner_id != user_id:
            raise Conflict(f"Module '{module_name}' already belongs to user '{current.owner_id}': an owner is "
                           "assigned once", details={"module": module_name, "owner_id": current.owner_id})
        return current

    def update(self, ctx: RequestContext, name: str, changes: dict[str, Any]) -> tuple[Module, list[str]]:
        require(ctx, Action.PUBLISH)
        editable = {"description", "compatibility", "go_package_prefix"}
        unknown = sorted(set(changes) - editable)
        if unknown or not changes:
            raise ValidationFailed("Only 'description' and 'compatibility' can be changed", validation_errors=[
                {"field": f, "code": "NOT_EDITABLE", "message": "cannot be changed"} for f in unknown] or [
                {"field": "description", "code": "REQUIRED", "message": "send description or compatibility"}])
        module = self.writable(ctx, name)
        description = (validate_description(changes["description"]) if "description" in changes
                       else module.description)
        policy = self._policy(changes.get("compatibility"), module.compatibility)
        prefix = (validate_go_prefix(changes["go_package_prefix"]) if "go_package_prefix" in changes
                  else module.go_package_prefix)
        updated = self._registry.update_module(ctx.org.id, name, description, policy, prefix, utc_now())
        return updated, self._registry.version_names(ctx.org.id, module.name)

    def _policy(self, value: Any, current: CompatibilityPolicy | None = None) -> CompatibilityPolicy:
        policy = parse_policy(value, current)
        self._rules_check(list(policy.use) + list(policy.except_))
        return policy

    def list(self, ctx: RequestContext, page: PageRequest, query: Any) -> tuple[list[Module], dict[str, Any]]:
        """Modules by name; with `q`, those whose name starts with it or whose description holds its
        words (domain/search.py), read from the search index in proportion to the page."""
        require(ctx, Action.READ)
        search = parse_query(query)
        scope = {"org": ctx.org.id, "q": search.text if search else None}
        after = resume_after(self._cursors, page.cursor, scope)
        if search:
            if search.finds_nothing:
                modules, more, total = [], False, 0
            else:
                found = self._registry.search_modules(ctx.org.id, search, after=after,
                                                      skip=0 if after is not None else page.offset,
                                                      limit=page.page_size)
                modules, more = found.modules, found.more
                # A first walk that reached the end has seen every match; otherwise DynamoDB counts them.
                total = (found.matched if after is None and not more
                         else self._registry.count_search(ctx.org.id, search))
        else:
            if after is not None:
                modules, more = self._registry.list_modules(ctx.org.id, after=after, limit=page.page_size)
            else:
                modules, more = self._registry.list_modules(ctx.org.id, after=None,
                                                            limit=page.offset + page.page_size)
                modules = modules[page.offset:]
            # From the table, not ctx.org: the organization is cached for seconds, its counters move.
            total = self._orgs.counters(ctx.org.id)["module_count"]
        following = next_cursor(self._cursors, scope, modules[-1].name if modules else None, more)
        return modules, pagination(page, total, following)
