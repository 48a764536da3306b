"""buf's lint rules in the registry: warnings on /validate, and the lint a module's policy requires at publish.

Only the version's own files are linted (as `buf lint` lints a module: its imports only resolve names).
The engine (`chalicelib.domain.lint`) loads on the first lint, never on a cold start.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import LintFailed
from chalicelib.domain.policy import LintPolicy, lint_config

if TYPE_CHECKING:
    from chalicelib.domain.models import Module
    from chalicelib.domain.versions import Version

MAX_REPORTED = 1000  # findings in one answer: a 5,000-file module could otherwise answer megabytes


def finding_json(finding: Any) -> dict[str, Any]:
    """A lint finding in the registry's shape (as breaking findings and protoc's messages): `rule` is buf's ID."""
    return {"rule": finding.type, "file": finding.path, "line": finding.start_line, "column": finding.start_column,
            "end_line": finding.end_line, "end_column": finding.end_column, "message": finding.message}


def lint_findings(descriptor_set: bytes, paths: set[str], policy: LintPolicy | None) -> list[dict[str, Any]]:
    """buf's findings on the files `paths` of a compiled set, under `policy` (None: buf's default, STANDARD)."""
    from google.protobuf.descriptor_pb2 import FileDescriptorSet

    from chalicelib.domain import lint

    config = lint_config(policy)  # the imports resolve names; only `paths` are linted
    return [finding_json(f) for f in lint.lint(FileDescriptorSet.FromString(descriptor_set), config, targets=paths)]


def require_lint(module: Module, version: Version, descriptor_set: bytes, paths: set[str]) -> None:
    """Refuse (400 LINT_FAILED, before anything is written) a version that fails its module's lint policy."""
    policy = module.compatibility.lint
    if policy is None:
        return
    findings = lint_findings(descriptor_set, paths, policy)
    if findings:
        raise LintFailed(f"{version.name} has {len(findings)} lint finding(s) under the module's lint policy "
                         f"(use: {', '.join(policy.use)}); see details.findings",
                         details={"lint": policy.as_json(), "total": len(findings),
                                  "findings": findings[:MAX_REPORTED]})
