"""Runs the configured lint rules over an image's non-import files and applies buf's ignores."""
from __future__ import annotations

from collections.abc import Collection

from google.protobuf import descriptor_pb2

from chalicelib.domain.buf_paths import path_is_covered

from . import rules_files as files_rules
from . import rules_rpc as rpc
from . import rules_style as style
from .config import LintConfig, ResolvedLintConfig
from .context import Context, Hit, Rule
from .findings import LintFinding
from .source import LintFile, associated_paths

RULES: dict[str, Rule] = {
    "COMMENT_ENUM": style.comment_enum,
    "COMMENT_ENUM_VALUE": style.comment_enum_value,
    "COMMENT_FIELD": style.comment_field,
    "COMMENT_MESSAGE": style.comment_message,
    "COMMENT_ONEOF": style.comment_oneof,
    "COMMENT_RPC": style.comment_rpc,
    "COMMENT_SERVICE": style.comment_service,
    "DIRECTORY_SAME_PACKAGE": files_rules.directory_same_package,
    "ENUM_FIRST_VALUE_ZERO": style.enum_first_value_zero,
    "ENUM_NO_ALLOW_ALIAS": style.enum_no_allow_alias,
    "ENUM_PASCAL_CASE": style.enum_pascal_case,
    "ENUM_VALUE_PREFIX": style.enum_value_prefix,
    "ENUM_VALUE_UPPER_SNAKE_CASE": style.enum_value_upper_snake_case,
    "ENUM_ZERO_VALUE_SUFFIX": style.enum_zero_value_suffix,
    "FIELD_LOWER_SNAKE_CASE": style.field_lower_snake_case,
    "FIELD_NO_DESCRIPTOR": style.field_no_descriptor,
    "FIELD_NOT_REQUIRED": style.field_not_required,
    "FILE_LOWER_SNAKE_CASE": files_rules.file_lower_snake_case,
    "IMPORT_NO_PUBLIC": files_rules.import_no_public,
    "IMPORT_NO_WEAK": files_rules.import_no_weak,
    "IMPORT_USED": files_rules.import_used,
    "MESSAGE_PASCAL_CASE": style.message_pascal_case,
    "ONEOF_LOWER_SNAKE_CASE": style.oneof_lower_snake_case,
    "PACKAGE_DEFINED": files_rules.package_defined,
    "PACKAGE_DIRECTORY_MATCH": files_rules.package_directory_match,
    "PACKAGE_LOWER_SNAKE_CASE": files_rules.package_lower_snake_case,
    "PACKAGE_NO_IMPORT_CYCLE": files_rules.package_no_import_cycle,
    "PACKAGE_SAME_CSHARP_NAMESPACE": files_rules.package_same_csharp_namespace,
    "PACKAGE_SAME_DIRECTORY": files_rules.package_same_directory,
    "PACKAGE_SAME_GO_PACKAGE": files_rules.package_same_go_package,
    "PACKAGE_SAME_JAVA_MULTIPLE_FILES": files_rules.package_same_java_multiple_files,
    "PACKAGE_SAME_JAVA_PACKAGE": files_rules.package_same_java_package,
    "PACKAGE_SAME_PHP_NAMESPACE": files_rules.package_same_php_namespace,
    "PACKAGE_SAME_RUBY_PACKAGE": files_rules.package_same_ruby_package,
    "PACKAGE_SAME_SWIFT_PREFIX": files_rules.package_same_swift_prefix,
    "PACKAGE_VERSION_SUFFIX": files_rules.package_version_suffix,
    "PROTOVALIDATE": lambda context: (),  # protovalidate constraints are not checked (see README)
    "RPC_NO_CLIENT_STREAMING": rpc.rpc_no_client_streaming,
    "RPC_NO_SERVER_STREAMING": rpc.rpc_no_server_streaming,
    "RPC_PASCAL_CASE": style.rpc_pascal_case,
    "RPC_REQUEST_RESPONSE_UNIQUE": rpc.rpc_request_response_unique,
    "RPC_REQUEST_STANDARD_NAME": rpc.rpc_request_standard_name,
    "RPC_RESPONSE_STANDARD_NAME": rpc.rpc_response_standard_name,
    "SERVICE_PASCAL_CASE": style.service_pascal_case,
    "SERVICE_SUFFIX": style.service_suffix,
    "STABLE_PACKAGE_NO_IMPORT_UNSTABLE": files_rules.stable_package_no_import_unstable,
    "SYNTAX_SPECIFIED": files_rules.syntax_specified,
}

IGNORE_PREFIX = "buf:lint:ignore"
WELL_KNOWN_PREFIX = "google/protobuf/"


def _comment_ignored(rule_id: str, file: LintFile, source_path: tuple[int, ...]) -> bool:
    wanted = f"{IGNORE_PREFIX} {rule_id}"
    for associated in associated_paths(source_path):
        comments = file.leading_comments(associated)
        if comments:
            for line in comments.split("\n"):
                if line.strip().startswith(wanted):
                    return True
    return False


def _ignored(rule_id: str, hit: Hit, resolved: ResolvedLintConfig) -> bool:
    file, source_path, _ = hit
    if path_is_covered(resolved.ignore_paths, file.path):
        return True
    if path_is_covered(resolved.ignore_rule_paths.get(rule_id, frozenset()), file.path):
        return True
    return bool(resolved.config.allow_comment_ignores and source_path
                and _comment_ignored(rule_id, file, source_path))


def _finding(rule_id: str, hit: Hit) -> LintFinding:
    file, source_path, message = hit
    start_line, start_column, end_line, end_column = file.span(source_path) if source_path else (1, 1, 1, 1)
    return LintFinding(file.path, start_line, start_column, end_line, end_column, rule_id, message)


def lint(fds: descriptor_pb2.FileDescriptorSet, config: LintConfig,
         targets: Collection[str] | None = None, *, infer_unmarked: bool = True) -> list[LintFinding]:
    """Lint the image's non-import files with buf's rules, in buf's order.

    `fds` should carry source info (protoc --include_source_info) and every import. `targets` names the
    files to lint (the others are imports, used only to resolve names); by default every file except
    the well-known types (google/protobuf/*), which is right for an image of one module.
    Unused imports and a missing syntax statement are what buf's compiler records: read from a `buf
    build` image's marks, else inferred from the descriptors and source info (`infer_unmarked=False`:
    not reported, as buf does for a protoc image).
    """
    resolved = config.resolve()
    wanted = set(targets) if targets is not None else None
    files: dict[str, LintFile] = {}
    for proto in fds.file:
        is_target = (proto.name in wanted) if wanted is not None else not proto.name.startswith(WELL_KNOWN_PREFIX)
        files[proto.name] = LintFile.of(proto, is_target)
    context = Context([f for f in files.values() if f.target], files, config, infer_unmarked)
    findings: list[LintFinding] = []
    for rule_id in resolved.rule_ids:
        for hit in RULES[rule_id](context):
            if not _ignored(rule_id, hit, resolved):
                findings.append(_finding(rule_id, hit))
    findings.sort(key=LintFinding.sort_key)
    return findings
