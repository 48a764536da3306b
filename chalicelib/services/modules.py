"""Use cases of modules: create, list, read, edit."""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.domain.errors import ModuleNotFound, ValidationFailed, VersionNotFound
from chalicelib.domain.text import bounded_text
from chalicelib.domain.go_paths import GO_IMPORT_PATH_RULE, go_import_path_problem
from chalicelib.domain.models import Module, RequestContext
from chalicelib.domain.names import is_module_name, shown, validate_module_name
from chalicelib.domain.versions import parse_version
from chalicelib.domain.policy import CompatibilityPolicy, parse_policy
from chalicelib.domain.search import parse_query
from chalicelib.domain.roles import Action
from chalicelib.services.events import EventPublisher
from chalicelib.services.common import PageRequest, next_cursor, pagination, require, resume_after, utc_now
from chalicelib.services.ports import CursorsPort, OrganizationsPort, RegistryPort

MAX_DESCRIPTION = 1000


def validate_description(value: Any) -> str:
    return bounded_text("description", value, MAX_DESCRIPTION)


def validate_go_prefix(value: Any) -> str | None:
    if value in (None, ""):
        return None
    problem = go_import_path_problem(value.rstrip("/")) if isinstance(value, str) else "it is not text"
    if problem:
        raise ValidationFailed(f"go_package_prefix is not a Go import path: {problem}", validation_errors=[
            {"field": "go_package_prefix", "code": "INVALID_FORMAT", "message": GO_IMPORT_PATH_RULE}])
    return value.rstrip("/")


class ModulesService:
    def __init__(self, registry: RegistryPort, orgs: OrganizationsPort, cursors: CursorsPort,
                 rules_check: Callable[[list[str]], None], events: EventPublisher) -> None:
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
                        go_package_prefix=validate_go_prefix(go_package_prefix))
        self._registry.create_module(module, outbox=[self._events.message(
            ctx.org.id, "module.created", {"module": module.name, "description": module.description})])
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
        """The stored item of one version of a module (either spelling of the version)."""
        version = parse_version(version_text)
        item = self._registry.get_version(ctx.org.id, module.name, version.sort_key)
        if item is None:
            raise VersionNotFound(f"Version '{version.name}' of module '{module.name}' not found",
                                  details={"module": module.name, "version": version.name})
        return item

    def update(self, ctx: RequestContext, name: str, changes: dict[str, Any]) -> tuple[Module, list[str]]:
        require(ctx, Action.PUBLISH)
        editable = {"description", "compatibility", "go_package_prefix"}
        unknown = sorted(set(changes) - editable)
        if unknown or not changes:
            raise ValidationFailed("Only 'description' and 'compatibility' can be changed", validation_errors=[
                {"field": f, "code": "NOT_EDITABLE", "message": "cannot be changed"} for f in unknown] or [
                {"field": "description", "code": "REQUIRED", "message": "send description or compatibility"}])
        module = self.find(ctx, name)
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
