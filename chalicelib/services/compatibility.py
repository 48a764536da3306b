"""Compatibility: the contract's check between stored versions, the same check of unpublished files
against a stored version (what CI runs before it pushes), and the policy enforced on publish.

Stored versions are compared through the descriptor sets stored at publish time: nothing is ever
recompiled. Unpublished files are compiled by the same protoc judgement as publish and /validate
(SchemaService: bounded, imports from the dependencies' stored descriptor sets) and never stored.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.domain.dependencies import parse_dependencies
from chalicelib.domain.errors import BreakingChange, ValidationFailed
from chalicelib.domain.models import Module, RequestContext
from chalicelib.domain.policy import MAX_RULES, CompatibilityMode, CompatibilityPolicy, Direction
from chalicelib.domain.roles import Action
from chalicelib.domain.uploads import validate_upload
from chalicelib.domain.versions import Version, parse_version
from chalicelib.services.common import require, require_principal
from chalicelib.services.modules import ModulesService
from chalicelib.services.ports import BlobsPort, RegistryPort

if TYPE_CHECKING:  # the breaking engine and protobuf are imported where a check runs (lean cold start)
    from google.protobuf.descriptor_pb2 import FileDescriptorSet

    from chalicelib.domain.breaking import BreakingConfig
    from chalicelib.services.schemas import SchemaService

DEFAULT_MAX_FILES = 5000


def check_rule_ids(ids: list[str]) -> None:
    """Refuses rule or category IDs buf does not know (deprecated ones are mapped as buf maps them)."""
    from chalicelib.domain import breaking

    breaking.BreakingConfig(use=ids or ["FILE"]).resolve()


def own_files(descriptor_set: bytes, paths: set[str]) -> FileDescriptorSet:
    """Only the version's own files, as buf checks a module without its imports."""
    from google.protobuf.descriptor_pb2 import FileDescriptorSet

    full = FileDescriptorSet.FromString(descriptor_set)
    return FileDescriptorSet(file=[f for f in full.file if f.name in paths])


_CATEGORY_ORDER = ("FILE", "PACKAGE", "WIRE_JSON", "WIRE")


def finding_json(finding: Any, used: list[str], direction: Direction = Direction.BACKWARD) -> dict[str, Any]:
    """`category` is the configured category that selected the rule (else buf's strictest that holds it).
    A forward finding's position is in the older schema (the one checked as "new")."""
    ordered = [c for c in used if c in finding.categories] + [c for c in _CATEGORY_ORDER if c in finding.categories]
    category = (ordered or list(finding.categories) or [""])[0]
    return {"rule": finding.rule, "category": category,
            "categories": list(finding.categories), "file": finding.path, "line": finding.start_line,
            "column": finding.start_column, "end_line": finding.end_line, "end_column": finding.end_column,
            "message": finding.message, "direction": direction.value}


def directional_findings(new_fds: FileDescriptorSet, old_fds: FileDescriptorSet, config: BreakingConfig,
                         directions: tuple[Direction, ...]) -> list[dict[str, Any]]:
    """buf's findings in each direction, backward first: backward checks the new schema against the older
    one; forward checks the older one against the new (the older schema read by newer code's data)."""
    from chalicelib.domain import breaking

    findings: list[dict[str, Any]] = []
    for direction in directions:
        pair = (new_fds, old_fds) if direction is Direction.BACKWARD else (old_fds, new_fds)
        findings += [finding_json(f, config.use, direction) for f in breaking.check_breaking(*pair, config)]
    return findings


def request_directions(module: Module, mode: Any) -> tuple[Direction, ...]:
    """The directions a check runs: the request's `mode` (any of the seven but NONE; for two schemas a
    transitive mode is its plain one), else the module's (backward when the module's mode is NONE)."""
    if mode is None:
        return module.compatibility.mode.directions or (Direction.BACKWARD,)
    names = [m.value for m in CompatibilityMode if m is not CompatibilityMode.NONE]
    if not isinstance(mode, str) or mode.strip().upper() not in names:
        raise ValidationFailed(f"mode must be one of {', '.join(names)}", validation_errors=[
            {"field": "mode", "code": "INVALID_VALUE", "message": "one of " + ", ".join(names)}])
    return CompatibilityMode(mode.strip().upper()).directions


class CompatibilityService:
    def __init__(self, registry: RegistryPort, blobs: BlobsPort, modules: ModulesService,
                 schemas: SchemaService | None = None, max_files: int = DEFAULT_MAX_FILES) -> None:
        self._registry = registry
        self._blobs = blobs
        self._modules = modules
        self._schemas = schemas  # protoc, for unpublished files; None: only stored versions are checked
        self._max_files = max_files

    def _descriptor(self, item: dict[str, Any]) -> FileDescriptorSet:
        paths = {f["path"] for f in self._blobs.get_manifest(item["manifest_sha256"])}
        return own_files(self._blobs.get_descriptor_set(item["descriptor_set_sha256"]), paths)

    def _item(self, ctx: RequestContext, module: Module, text: Any, field: str) -> dict[str, Any]:
        if not isinstance(text, str):
            raise ValidationFailed(f"{field} is required", validation_errors=[
                {"field": field, "code": "REQUIRED", "message": "a version of this module, e.g. v1.0.0"}])
        return self._modules.find_version(ctx, module, text)

    def check(self, ctx: RequestContext, module_name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Is version2 compatible with version1 (the older), under the module's rules or the request's?

        Signed-in callers only: a check on a large module costs seconds of CPU."""
        require(ctx, Action.READ)
        require_principal(ctx.principal)
        module = self._modules.find(ctx, module_name)
        old = self._item(ctx, module, body.get("version1"), "version1")
        new = self._item(ctx, module, body.get("version2"), "version2")
        config = self._config(module, body.get("use"), body.get("except"))
        directions = request_directions(module, body.get("mode"))
        return {**self._verdict(self._descriptor(new), self._descriptor(old), config, directions),
                "version1": old["version"], "version2": new["version"], "use": config.use,
                "except": config.except_, "directions": [d.value for d in directions]}

    def check_files(self, ctx: RequestContext, module_name: str, against: Any, files: list[tuple[str, bytes]],
                    dependencies: list[Any] | None, use: Any = None, except_: Any = None, mode: Any = None
                    ) -> dict[str, Any]:
        """Would these unpublished files be compatible with the stored version `against`?

        The files get publish's judgement (path grammar, bounds, protoc) and are never stored. Without
        `dependencies` (None), they import from the dependencies `against` was published with."""
        require(ctx, Action.READ)
        require_principal(ctx.principal)
        if self._schemas is None:
            raise RuntimeError("CompatibilityService was built without a schema service")
        module = self._modules.find(ctx, module_name)
        old = self._item(ctx, module, against, "against")
        config = self._config(module, use, except_)
        directions = request_directions(module, mode)
        uploads = validate_upload(files, self._max_files)
        refs = parse_dependencies(old.get("dependencies", []) if dependencies is None else dependencies)
        paths = {u.path for u in uploads}
        compiled = self._schemas.compile(uploads, self._schemas.resolve(ctx.org.id, refs, paths))
        new_fds = own_files(compiled.descriptor_set or b"", paths)
        return {**self._verdict(new_fds, self._descriptor(old), config, directions), "against": old["version"],
                "files": len(uploads), "dependencies": [r.as_dict() for r in refs], "use": config.use,
                "except": config.except_, "directions": [d.value for d in directions]}

    @staticmethod
    def _config(module: Module, use: Any, except_: Any) -> BreakingConfig:
        """The request's rules (`use`, `except`), else the module's policy; unknown IDs are refused."""
        use = list(module.compatibility.use) if use is None else use
        except_ = list(module.compatibility.except_) if except_ is None else except_
        if not isinstance(use, list) or not isinstance(except_, list) or len(use) + len(except_) > MAX_RULES or not all(
                isinstance(i, str) and len(i) <= 64 for i in use + except_):
            raise ValidationFailed("use and except must be lists of buf rule or category IDs", validation_errors=[
                {"field": "use", "code": "INVALID_TYPE",
                 "message": f"lists of at most {MAX_RULES} IDs such as FILE or FIELD_NO_DELETE"}])
        from chalicelib.domain import breaking

        config = breaking.BreakingConfig(use=[i.upper() for i in use], except_=[i.upper() for i in except_])
        config.resolve()
        return config

    @staticmethod
    def _verdict(new_fds: FileDescriptorSet, old_fds: FileDescriptorSet, config: BreakingConfig,
                 directions: tuple[Direction, ...]) -> dict[str, Any]:
        from chalicelib.domain import breaking

        findings = directional_findings(new_fds, old_fds, config, directions)
        return {"compatible": not findings, "breaking_changes": findings,
                "warnings": breaking.additions(new_fds, old_fds)}

    def enforce(self, org_id: str, module: Module, version: Version, descriptor_set: bytes, paths: set[str]
                ) -> list[str]:
        """Refuse a new version that breaks the module's policy; return the versions it was checked against.

        The mode says which lower versions (the closest, or every one when transitive; a new major skips
        older majors under `allow_breaking_major`) and which directions (see `directional_findings`)."""
        policy: CompatibilityPolicy = module.compatibility
        directions = policy.mode.directions
        if not directions:
            return []
        limit = None if policy.mode.transitive else 1
        lower = self._registry.versions_below(org_id, module.name, version.sort_key, limit)
        if policy.allow_breaking_major:
            lower = [item for item in lower if parse_version(item["version"]).major == version.major]
        if not lower:
            return []
        from chalicelib.domain import breaking

        config = breaking.BreakingConfig(use=list(policy.use), except_=list(policy.except_))
        new_fds = own_files(descriptor_set, paths)
        for item in lower:
            findings = directional_findings(new_fds, self._descriptor(item), config, directions)
            if findings:
                failed = list(dict.fromkeys(f["direction"] for f in findings))
                raise BreakingChange(
                    f"{version.name} breaks {len(findings)} rule(s) of the module's {policy.mode.value} policy "
                    f"against {item['version']} ({' and '.join(failed)})",
                    details={"against": item["version"], "direction": failed[0], "directions": failed,
                             "policy": policy.as_json(), "breaking_changes": findings})
        return [item["version"] for item in lower]
