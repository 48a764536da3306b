"""Rules over pairs of fields (same message full name and number) and extensions (same extendee, number)."""
from __future__ import annotations

from collections.abc import Callable

from google.protobuf import descriptor_pb2

from . import features as feat
from .context import Ctx, field_description, first_span
from .defaults import can_have_default, defaults_equal, get_default
from .index import (
    FEATURES_IN_FIELD_OPTIONS,
    TYPE_BYTES,
    TYPE_ENUM,
    TYPE_GROUP,
    TYPE_MESSAGE,
    TYPE_STRING,
    FieldIdx,
    Index,
    Span,
)
from .text import q

FieldPairRule = Callable[[Ctx, FieldIdx, FieldIdx], None]
FIELD_OPTIONS = 8

# https://protobuf.dev/programming-guides/proto3/#updating : kinds that share a wire encoding.
WIRE_GROUPS = {5: 1, 3: 1, 13: 1, 4: 1, 8: 1, 17: 2, 18: 2, 9: 3, 12: 4, 7: 5, 15: 5, 6: 6, 16: 6,
               1: 7, 2: 8, 10: 9, 11: 10, 14: 11}
# Kinds that are both wire- and JSON-compatible with each other.
WIRE_JSON_GROUPS = {5: 1, 13: 1, 3: 2, 4: 2, 7: 3, 15: 3, 6: 4, 16: 4, 8: 5, 17: 6, 18: 7, 9: 8, 12: 9,
                    1: 10, 2: 11, 10: 12, 11: 13, 14: 14}
CARDINALITY_WIRE = {"optional with explicit presence": 1, "optional with implicit presence": 1,
                    "required": 2, "repeated": 3, "map": 3}
CARDINALITY_WIRE_JSON = {**CARDINALITY_WIRE, "map": 4}
INT64_TYPES = {3, 4, 6, 16, 18}
WIRE_NOTE = "See https://developers.google.com/protocol-buffers/docs/proto3#updating for wire compatibility rules."
WIRE_JSON_NOTE = ("See https://developers.google.com/protocol-buffers/docs/proto3#updating for wire compatibility "
                  "rules and https://developers.google.com/protocol-buffers/docs/proto3#json for JSON "
                  "compatibility rules.")
BYTES_TO_STRING_NOTE = ("Note that while string and bytes are compatible if the data is valid UTF-8, there is no way "
                        "to enforce that a bytes field is UTF-8, so these fields may be incompatible.")


def _in_map_entries(new: FieldIdx, old: FieldIdx) -> bool:
    return (new.message is not None and new.message.is_map_entry
            and old.message is not None and old.message.is_map_entry)


def _cardinality_rule(rule: str, groups: dict[str, int] | None) -> FieldPairRule:
    def check(ctx: Ctx, new: FieldIdx, old: FieldIdx) -> None:
        if _in_map_entries(new, old):
            return  # map entries are generated; their presence is not meaningful
        previous, current = ctx.old.cardinality(old), ctx.new.cardinality(new)
        changed = previous != current if groups is None else groups[previous] != groups[current]
        if changed:
            ctx.add(rule, new.file, new.span(), old.file,
                    f"{field_description(new)} changed cardinality from {q(previous)} to {q(current)}.")

    check.__name__ = rule.lower()
    return check


def _cpp_string_type(field: FieldIdx) -> tuple[int, bool]:
    """(pb.cpp).string_type, with the legacy ctype option winning before edition 2024."""
    proto = field.proto
    if field.file.edition < feat.EDITION_2024 and proto.HasField("options") and proto.options.HasField("ctype"):
        ctype = proto.options.ctype
        if ctype == descriptor_pb2.FieldOptions.CORD:
            return feat.CPP_STRING_CORD, False
        if ctype == descriptor_pb2.FieldOptions.STRING_PIECE:
            return feat.CPP_STRING_STRING, True
        return feat.CPP_STRING_STRING, False
    return field.features.cpp_string_type, False


def _feature_span(field: FieldIdx, *feature_path: int) -> Span | None:
    return field.file.option_span(field.path + (FIELD_OPTIONS,), FEATURES_IN_FIELD_OPTIONS, *feature_path)


def field_same_cpp_string_type(ctx: Ctx, new: FieldIdx, old: FieldIdx) -> None:
    if _in_map_entries(new, old):
        return
    if old.proto.type not in (TYPE_STRING, TYPE_BYTES) or new.proto.type not in (TYPE_STRING, TYPE_BYTES):
        return
    previous, previous_piece = _cpp_string_type(old)
    current, current_piece = _cpp_string_type(new)
    if (previous, previous_piece) == (current, current_piece):
        return
    if previous_piece and current == feat.CPP_STRING_STRING:
        return  # string_piece -> string is allowed
    before = "STRING_PIECE" if previous_piece else feat.CPP_STRING_TYPE_NAMES.get(previous, str(previous))
    after = "STRING_PIECE" if current_piece else feat.CPP_STRING_TYPE_NAMES.get(current, str(current))
    span = first_span(new.span(FIELD_OPTIONS, 1), _feature_span(new, feat.CPP_FEATURES_NUMBER, 2), new.span())
    ctx.add("FIELD_SAME_CPP_STRING_TYPE", new.file, span, old.file,
            f"{field_description(new)} changed C++ string type from {q(before)} to {q(after)}.")


def _java_utf8(field: FieldIdx) -> int:
    default = field.features.utf8_validation
    explicit, check_utf8 = field.file.java_string_check_utf8
    if field.file.syntax != "editions" or explicit:
        return feat.UTF8_VERIFY if check_utf8 else default
    return feat.UTF8_VERIFY if field.features.java_utf8_validation == feat.JAVA_UTF8_VERIFY else default


def field_same_java_utf8_validation(ctx: Ctx, new: FieldIdx, old: FieldIdx) -> None:
    if old.proto.type != TYPE_STRING or new.proto.type != TYPE_STRING:
        return
    previous, current = _java_utf8(old), _java_utf8(new)
    if previous != current:
        span = first_span(new.file.span((8, 27)), _feature_span(new, feat.JAVA_FEATURES_NUMBER, 2), new.span())
        ctx.add("FIELD_SAME_JAVA_UTF8_VALIDATION", new.file, span, old.file,
                f"{field_description(new)} changed Java string UTF8 validation from "
                f"{q(feat.UTF8_NAMES[previous])} to {q(feat.UTF8_NAMES[current])}.")


def field_same_jstype(ctx: Ctx, new: FieldIdx, old: FieldIdx) -> None:
    if old.proto.type not in INT64_TYPES or new.proto.type not in INT64_TYPES:
        return
    previous, current = old.proto.options.jstype, new.proto.options.jstype
    if previous != current:
        name = descriptor_pb2.FieldOptions.JSType.Name
        ctx.add("FIELD_SAME_JSTYPE", new.file, first_span(new.span(FIELD_OPTIONS, 6), new.span()), old.file,
                f'{field_description(new)} changed option "jstype" from {q(name(previous))} to {q(name(current))}.')


def _type_span(index: Index, field: FieldIdx) -> Span | None:
    return field.span(6) if index.kind(field) in (TYPE_MESSAGE, TYPE_ENUM, TYPE_GROUP) else field.span(5)


def _changed_type(ctx: Ctx, rule: str, new: FieldIdx, old: FieldIdx, *notes: str) -> None:
    extra = " ".join(notes).strip()
    ctx.add(rule, new.file, _type_span(ctx.new, new), old.file,
            f"{field_description(new)} changed type from {q(ctx.old.kind_pretty(old))} to "
            f"{q(ctx.new.kind_pretty(new))}.{' ' + extra if extra else ''}")


def _changed_type_name(ctx: Ctx, rule: str, new: FieldIdx, old: FieldIdx) -> None:
    ctx.add(rule, new.file, new.span(6), old.file,
            f"{field_description(new)} changed type from {q(old.proto.type_name.lstrip('.'))} to "
            f"{q(new.proto.type_name.lstrip('.'))}.")


def field_same_type(ctx: Ctx, new: FieldIdx, old: FieldIdx) -> None:
    if ctx.old.kind(old) != ctx.new.kind(new):
        _changed_type(ctx, "FIELD_SAME_TYPE", new, old)
        return
    if new.proto.type in (TYPE_ENUM, TYPE_GROUP, TYPE_MESSAGE) and old.proto.type_name != new.proto.type_name:
        _changed_type_name(ctx, "FIELD_SAME_TYPE", new, old)


def _enum_wire_compatible(ctx: Ctx, rule: str, new: FieldIdx, old: FieldIdx) -> None:
    """Another enum is fine if it has the same short name and keeps every old value (name and number)."""
    if old.proto.type_name.rsplit(".", 1)[-1] != new.proto.type_name.rsplit(".", 1)[-1]:
        _changed_type_name(ctx, rule, new, old)
        return
    old_enum, new_enum = ctx.old.enum_of(old), ctx.new.enum_of(new)
    if old_enum is None or new_enum is None:
        return  # its file is left out of the check (--limit-to-input-files --exclude-imports): buf keeps quiet
    new_values = {value.name: value.number for value in new_enum.proto.value}
    if any(new_values.get(value.name) != value.number for value in old_enum.proto.value):
        _changed_type_name(ctx, rule, new, old)


def field_wire_compatible_type(ctx: Ctx, new: FieldIdx, old: FieldIdx) -> None:
    rule = "FIELD_WIRE_COMPATIBLE_TYPE"
    old_kind, new_kind = ctx.old.kind(old), ctx.new.kind(new)
    if WIRE_GROUPS[old_kind] != WIRE_GROUPS[new_kind]:
        if old_kind == TYPE_STRING and new_kind == TYPE_BYTES:
            return
        notes = [WIRE_NOTE]
        if old_kind == TYPE_BYTES and new_kind == TYPE_STRING:
            notes.append(BYTES_TO_STRING_NOTE)
        _changed_type(ctx, rule, new, old, *notes)
        return
    if old.proto.type_name == new.proto.type_name:
        return
    if new.proto.type == TYPE_ENUM:
        _enum_wire_compatible(ctx, rule, new, old)
    elif new.proto.type in (TYPE_GROUP, TYPE_MESSAGE):
        _changed_type_name(ctx, rule, new, old)


def field_wire_json_compatible_type(ctx: Ctx, new: FieldIdx, old: FieldIdx) -> None:
    rule = "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
    old_kind, new_kind = ctx.old.kind(old), ctx.new.kind(new)
    if WIRE_JSON_GROUPS[old_kind] != WIRE_JSON_GROUPS[new_kind]:
        _changed_type(ctx, rule, new, old, WIRE_JSON_NOTE)
        return
    if old.proto.type_name == new.proto.type_name:
        return
    if new_kind == TYPE_ENUM:
        _enum_wire_compatible(ctx, rule, new, old)
    elif new_kind in (TYPE_GROUP, TYPE_MESSAGE):
        _changed_type_name(ctx, rule, new, old)


def field_same_utf8_validation(ctx: Ctx, new: FieldIdx, old: FieldIdx) -> None:
    if old.proto.type != TYPE_STRING or new.proto.type != TYPE_STRING:
        return
    previous, current = old.features.utf8_validation, new.features.utf8_validation
    if previous != current:
        ctx.add("FIELD_SAME_UTF8_VALIDATION", new.file, first_span(_feature_span(new, 4), new.span()), old.file,
                f"{field_description(new)} changed UTF8 validation from {feat.UTF8_NAMES[previous]} to "
                f"{feat.UTF8_NAMES[current]}.")


def field_same_json_name(ctx: Ctx, new: FieldIdx, old: FieldIdx) -> None:
    if old.is_extension:
        return  # extensions cannot set json_name
    if old.proto.json_name != new.proto.json_name:
        ctx.add("FIELD_SAME_JSON_NAME", new.file, first_span(new.span(10), new.span()), old.file,
                f'{field_description(new)} changed option "json_name" from {q(old.proto.json_name)} to '
                f"{q(new.proto.json_name)}.")


def field_same_name(ctx: Ctx, new: FieldIdx, old: FieldIdx) -> None:
    previous, current = (old.full_name, new.full_name) if old.is_extension else (old.name, new.name)
    if previous != current:
        ctx.add("FIELD_SAME_NAME", new.file, new.span(1), old.file,
                f"{field_description(new, '')} changed name from {q(previous)} to {q(current)}.")


def field_same_default(ctx: Ctx, new: FieldIdx, old: FieldIdx) -> None:
    if not can_have_default(ctx.old, old) or not can_have_default(ctx.new, new):
        return
    if (old.proto.type == TYPE_ENUM and ctx.old.enum_of(old) is None
            or new.proto.type == TYPE_ENUM and ctx.new.enum_of(new) is None):
        return  # the enum's file is left out of the check (--limit-to-input-files --exclude-imports), as buf
    previous, current = get_default(ctx.old, old), get_default(ctx.new, new)
    if previous.is_zero() and current.is_zero():
        return
    if not defaults_equal(previous, current):
        ctx.add("FIELD_SAME_DEFAULT", new.file, first_span(new.span(7), new.span()), old.file,
                f"{field_description(new)} changed default value from {previous.printable} to {current.printable}.")


def _real_oneof(field: FieldIdx) -> str | None:
    proto = field.proto
    if field.is_extension or not proto.HasField("oneof_index") or proto.proto3_optional:
        return None
    assert field.message is not None
    return field.message.proto.oneof_decl[proto.oneof_index].name


def field_same_oneof(ctx: Ctx, new: FieldIdx, old: FieldIdx) -> None:
    if old.is_extension:
        return
    previous, current = _real_oneof(old), _real_oneof(new)
    if previous is None and current is None:
        return
    if previous is not None and current is not None:
        if previous != current:
            ctx.add("FIELD_SAME_ONEOF", new.file, new.span(), old.file,
                    f"{field_description(new)}q moved from oneof {q(previous)} to oneof {q(current)}.")
        return
    before, after = ("outside", "inside") if current is not None else ("inside", "outside")
    ctx.add("FIELD_SAME_ONEOF", new.file, new.span(), old.file,
            f"{field_description(new)} moved from {before} to {after} a oneof.")


FIELD_PAIR_RULES: dict[str, FieldPairRule] = {
    "FIELD_SAME_CARDINALITY": _cardinality_rule("FIELD_SAME_CARDINALITY", None),
    "FIELD_WIRE_COMPATIBLE_CARDINALITY": _cardinality_rule("FIELD_WIRE_COMPATIBLE_CARDINALITY", CARDINALITY_WIRE),
    "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY": _cardinality_rule(
        "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY", CARDINALITY_WIRE_JSON),
    "FIELD_SAME_CPP_STRING_TYPE": field_same_cpp_string_type,
    "FIELD_SAME_JAVA_UTF8_VALIDATION": field_same_java_utf8_validation,
    "FIELD_SAME_JSTYPE": field_same_jstype,
    "FIELD_SAME_TYPE": field_same_type,
    "FIELD_WIRE_COMPATIBLE_TYPE": field_wire_compatible_type,
    "FIELD_WIRE_JSON_COMPATIBLE_TYPE": field_wire_json_compatible_type,
    "FIELD_SAME_UTF8_VALIDATION": field_same_utf8_validation,
    "FIELD_SAME_JSON_NAME": field_same_json_name,
    "FIELD_SAME_NAME": field_same_name,
    "FIELD_SAME_DEFAULT": field_same_default,
    "FIELD_SAME_ONEOF": field_same_oneof,
}
