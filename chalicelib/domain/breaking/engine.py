"""Runs the configured rules over two FileDescriptorSets, applies ignores, and orders findings like buf.

Pair iteration (files by path, messages and enums by full name, fields by number, services by name) is
done once here for all enabled rules of a kind, so the cost is one pass per kind, not one per rule.
Messages, enums and services whose descriptors (and inherited context) did not change are skipped, since
their rules could only report a change; that keeps a large, mostly unchanged schema cheap to check.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from google.protobuf import descriptor_pb2

from chalicelib.domain.buf_paths import path_is_covered

from . import rules_enum, rules_field, rules_file, rules_message, rules_package, rules_service
from .config import BreakingConfig, ResolvedConfig
from .context import Ctx
from .findings import Finding, RawFinding
from .index import LABEL_REPEATED, TYPE_ENUM, FileIdx, Index, MessageIdx

GLOBAL_RULES: dict[str, Callable[[Ctx], None]] = {**rules_file.GLOBAL_RULES, **rules_package.GLOBAL_RULES}
FILE_PAIR_RULES = rules_file.FILE_PAIR_RULES
MESSAGE_PAIR_RULES = rules_message.MESSAGE_PAIR_RULES
FIELD_PAIR_RULES = rules_field.FIELD_PAIR_RULES
ENUM_PAIR_RULES = rules_enum.ENUM_PAIR_RULES
SERVICE_PAIR_RULES = rules_service.SERVICE_PAIR_RULES

IMPLEMENTED_RULE_IDS: frozenset[str] = frozenset(
    {*GLOBAL_RULES, *FILE_PAIR_RULES, *MESSAGE_PAIR_RULES, *FIELD_PAIR_RULES, *ENUM_PAIR_RULES, *SERVICE_PAIR_RULES}
)


def run_rules(new: Index, old: Index, rule_ids: Iterable[str], skip_unchanged: bool = True) -> list[RawFinding]:
    """All findings of the given rules, before ignores (`skip_unchanged=False` compares everything)."""
    enabled = set(rule_ids)
    ctx = Ctx(new, old)
    for rule_id, rule in GLOBAL_RULES.items():
        if rule_id in enabled:
            rule(ctx)

    file_rules = [rule for rule_id, rule in FILE_PAIR_RULES.items() if rule_id in enabled]
    if file_rules:
        for path, old_file in old.files.items():
            new_file = new.files.get(path)
            if new_file is not None:
                for file_rule in file_rules:
                    file_rule(ctx, new_file, old_file)

    message_rules = [rule for rule_id, rule in MESSAGE_PAIR_RULES.items() if rule_id in enabled]
    field_rules = [rule for rule_id, rule in FIELD_PAIR_RULES.items() if rule_id in enabled]
    default_rule = FIELD_PAIR_RULES["FIELD_SAME_DEFAULT"] if "FIELD_SAME_DEFAULT" in enabled else None
    if message_rules or field_rules:
        for name, old_message in old.messages.items():
            new_message = new.messages.get(name)
            if new_message is None:
                continue
            if skip_unchanged and new_message.proto == old_message.proto and new_message.same_context(old_message):
                # Unchanged message in an unchanged context: only an enum default can still differ,
                # through the enum it refers to.
                if default_rule is not None and new_message.file.syntax != "proto3":  # proto3 enums default to 0
                    _check_enum_defaults(ctx, new_message, old_message, default_rule)
                continue
            for message_rule in message_rules:
                message_rule(ctx, new_message, old_message)
            if field_rules:
                new_fields = new_message.fields_by_number
                for number, old_field in old_message.fields_by_number.items():
                    new_field = new_fields.get(number)
                    if new_field is not None:
                        for field_rule in field_rules:
                            field_rule(ctx, new_field, old_field)
    if field_rules:
        for extendee, old_extensions in old.extensions.items():
            new_extensions = new.extensions.get(extendee, {})
            for number, old_extension in old_extensions.items():
                new_extension = new_extensions.get(number)
                if new_extension is not None:
                    for field_rule in field_rules:
                        field_rule(ctx, new_extension, old_extension)

    enum_rules = [rule for rule_id, rule in ENUM_PAIR_RULES.items() if rule_id in enabled]
    if enum_rules:
        for name, old_enum in old.enums.items():
            new_enum = new.enums.get(name)
            if new_enum is None:
                continue
            if skip_unchanged and new_enum.proto == old_enum.proto and new_enum.features == old_enum.features:
                continue  # enum rules read nothing but the enum and its resolved features
            for enum_rule in enum_rules:
                enum_rule(ctx, new_enum, old_enum)

    service_rules = [rule for rule_id, rule in SERVICE_PAIR_RULES.items() if rule_id in enabled]
    if service_rules:
        for name, old_service in old.services.items():
            new_service = new.services.get(name)
            if new_service is not None and (not skip_unchanged or new_service.proto != old_service.proto):
                for service_rule in service_rules:
                    service_rule(ctx, new_service, old_service)
    return ctx.findings


def _enum_default_number(index: Index, field: descriptor_pb2.FieldDescriptorProto) -> int | None:
    enum = index.enums.get(field.type_name.lstrip("."))
    if enum is None or not enum.proto.value:
        return None
    if field.HasField("default_value"):
        return next((v.number for v in enum.proto.value if v.name == field.default_value), None)
    return enum.proto.value[0].number


def _check_enum_defaults(ctx: Ctx, new: MessageIdx, old: MessageIdx, rule: Callable[..., None]) -> None:
    """FIELD_SAME_DEFAULT for the enum fields of an unchanged message (the enum itself may have changed)."""
    for position, field in enumerate(new.proto.field):
        if field.type != TYPE_ENUM or field.label == LABEL_REPEATED:
            continue
        if _enum_default_number(ctx.new, field) != _enum_default_number(ctx.old, old.proto.field[position]):
            rule(ctx, new.fields[position], old.fields[position])


_NUMBER = re.compile(r"[+-]?[0-9]+")


def _positive(text: str) -> bool:
    if not _NUMBER.fullmatch(text):
        return False
    value = int(text)
    return 1 <= value <= 2**31 - 1


def is_unstable_package(package: str) -> bool:
    """buf's protoversion: a last component like v1alpha1, v2beta, v1p1beta1 or v1test is unstable."""
    parts = package.split(".")
    if not package or len(parts) < 2:
        return False
    last = parts[-1]
    if len(last) < 2 or last[0] != "v":
        return False
    version = last[1:]
    if "test" in version:
        return _positive(version.split("test", 1)[0])
    alpha, beta = "alpha" in version, "beta" in version
    if alpha == beta:
        return False  # stable (neither) or invalid (both): not ignored
    major_part, minor = version.split("alpha" if alpha else "beta", 1)
    if minor and not _positive(minor):
        return False
    if "p" in major_part:
        major, patch = major_part.split("p", 1)
        return _positive(major) and _positive(patch)
    return _positive(major_part)


def _ignored_at(resolved: ResolvedConfig, rule: str, file: FileIdx) -> bool:
    if path_is_covered(resolved.ignore_paths, file.path):
        return True
    if path_is_covered(resolved.ignore_rule_paths.get(rule, frozenset()), file.path):
        return True
    return resolved.ignore_unstable_packages and is_unstable_package(file.package)


def is_ignored(resolved: ResolvedConfig, finding: RawFinding) -> bool:
    """buf ignores a finding when either its new-side or its old-side file is ignored."""
    if finding.file is not None and _ignored_at(resolved, finding.rule, finding.file):
        return True
    return finding.against is not None and _ignored_at(resolved, finding.rule, finding.against)


def _findings_of(new: Index, old: Index, config: BreakingConfig, policy: str) -> list[Finding]:
    resolved = config.resolve()
    if not resolved.rule_ids:
        return []
    unique: dict[Finding, None] = {}
    for finding in run_rules(new, old, resolved.rule_ids):
        if not is_ignored(resolved, finding):
            unique.setdefault(finding.finalize(resolved.categories[finding.rule], policy), None)
    return list(unique)


def check_breaking(
    new: descriptor_pb2.FileDescriptorSet,
    old: descriptor_pb2.FileDescriptorSet,
    config: BreakingConfig | None = None,
) -> list[Finding]:
    """Compare `new` against `old` with buf's breaking rules; findings are sorted and de-duplicated as buf does.

    The module's own rules (unless `disable_builtin`) and then each policy run separately: a finding of a
    policy names it, and equal findings of different runs are all kept, in run order (a stable sort).
    """
    config = config or BreakingConfig()
    for policy in config.policies:
        policy.config.resolve()  # a bad policy fails the run before anything is reported, as in buf
    new_index, old_index = Index(new), Index(old)
    findings = _findings_of(new_index, old_index, config, "")
    for policy in config.policies:
        findings += _findings_of(new_index, old_index, policy.config, policy.name)
    return sorted(findings, key=Finding.sort_key)
