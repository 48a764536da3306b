"""Compatibility between stored versions: the contract's check, and the policy enforced on publish.

Works on the descriptor sets stored at publish time: nothing is ever recompiled.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import BreakingChange, ValidationFailed
from chalicelib.domain.models import Module, RequestContext
from chalicelib.domain.policy import MAX_RULES, CompatibilityMode, CompatibilityPolicy
from chalicelib.domain.roles import Action
from chalicelib.domain.versions import Version, parse_version
from chalicelib.services.common import require, require_principal
from chalicelib.services.modules import ModulesService
from chalicelib.services.ports import BlobsPort, RegistryPort

if TYPE_CHECKING:  # the breaking engine and protobuf are imported where a check runs (lean cold start)
    from google.protobuf.descriptor_pb2 import FileDescriptorSet


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


def finding_json(finding: Any, used: list[str]) -> dict[str, Any]:
    """`category` is the configured category that selected the rule (else buf's strictest that holds it)."""
    ordered = [c for c in used if c in finding.categories] + [c for c in _CATEGORY_ORDER if c in finding.categories]
    category = (ordered or list(finding.categories) or [""])[0]
    return {"rule": finding.rule, "category": category,
            "categories": list(finding.categories), "file": finding.path, "line": finding.start_line,
            "column": finding.start_column, "end_line": finding.end_line, "end_column": finding.end_column,
            "message": finding.message}


class CompatibilityService:
    def __init__(self, registry: RegistryPort, blobs: BlobsPort, modules: ModulesService) -> None:
        self._registry = registry
        self._blobs = blobs
        self._modules = modules

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
        use = body.get("use", list(module.compatibility.use))
        except_ = body.get("except", list(module.compatibility.except_))
        if not isinstance(use, list) or not isinstance(except_, list) or len(use) + len(except_) > MAX_RULES or not all(
                isinstance(i, str) and len(i) <= 64 for i in use + except_):
            raise ValidationFailed("use and except must be lists of buf rule or category IDs", validation_errors=[
                {"field": "use", "code": "INVALID_TYPE", "message": f"lists of at most {MAX_RULES} IDs such as FILE or FIELD_NO_DELETE"}])
        from chalicelib.domain import breaking

        config = breaking.BreakingConfig(use=[i.upper() for i in use], except_=[i.upper() for i in except_])
        config.resolve()
        new_fds, old_fds = self._descriptor(new), self._descriptor(old)
        findings = breaking.check_breaking(new_fds, old_fds, config)
        return {"compatible": not findings, "breaking_changes": [finding_json(f, config.use) for f in findings],
                "warnings": breaking.additions(new_fds, old_fds),
                "version1": old["version"], "version2": new["version"], "use": config.use,
                "except": config.except_}

    def enforce(self, org_id: str, module: Module, version: Version, descriptor_set: bytes, paths: set[str]
                ) -> list[str]:
        """Refuse a new version that breaks the module's policy; return the versions it was checked against."""
        policy: CompatibilityPolicy = module.compatibility
        if policy.mode is CompatibilityMode.NONE:
            return []
        limit = 1 if policy.mode is CompatibilityMode.BACKWARD else None
        lower = self._registry.versions_below(org_id, module.name, version.sort_key, limit)
        if policy.allow_breaking_major:
            lower = [item for item in lower if parse_version(item["version"]).major == version.major]
        if not lower:
            return []
        from chalicelib.domain import breaking

        config = breaking.BreakingConfig(use=list(policy.use), except_=list(policy.except_))
        new_fds = own_files(descriptor_set, paths)
        for item in lower:
            findings = breaking.check_breaking(new_fds, self._descriptor(item), config)
            if findings:
                raise BreakingChange(
                    f"{version.name} breaks {len(findings)} rule(s) of the module's policy against {item['version']}",
                    details={"against": item["version"], "policy": policy.as_json(),
                             "breaking_changes": [finding_json(f, config.use) for f in findings]})
        return [item["version"] for item in lower]
