"""Rules over pairs of enums with the same full name: values, names, reserved ranges, open/closed, JSON."""
from __future__ import annotations

from collections.abc import Callable

from . import features as feat
from .context import ENUM_MAX, Ctx, check_tag_ranges, first_span
from .index import ENUM_OPTIONS, ENUM_VALUES, FEATURES_IN_ENUM_OPTIONS, EnumIdx
from .text import join_quoted, q

EnumPairRule = Callable[[Ctx, EnumIdx, EnumIdx], None]


def _features_span(enum: EnumIdx, feature: int) -> object:
    return first_span(enum.file.option_span(enum.path + (ENUM_OPTIONS,), FEATURES_IN_ENUM_OPTIONS, feature),
                      enum.span())


def enum_same_type(ctx: Ctx, new: EnumIdx, old: EnumIdx) -> None:
    if old.is_closed != new.is_closed:
        previous, current = ("open", "closed") if new.is_closed else ("closed", "open")
        ctx.add("ENUM_SAME_TYPE", new.file, _features_span(new, 2), old.file,  # type: ignore[arg-type]
                f"Enum {q(new.name)} changed from {previous} to {current}.")


def _enum_value_no_delete(rule: str, unless_number: bool, unless_name: bool) -> EnumPairRule:
    def check(ctx: Ctx, new: EnumIdx, old: EnumIdx) -> None:
        new_numbers = {value.number for value in new.proto.value}
        for number, names in old.numbers_to_names().items():
            if number in new_numbers:
                continue
            suffix = ""
            if unless_number:
                if any(r.start <= number <= r.end for r in new.proto.reserved_range):
                    continue
                suffix = f" without reserving the number {q(number)}"
            if unless_name:
                reserved = set(new.proto.reserved_name)
                if all(name in reserved for name in names):
                    continue
                unique = sorted(set(names))
                suffix = f" without reserving the name{'s' if len(unique) > 1 else ''} {join_quoted(unique)}"
            ctx.add(rule, new.file, new.span(), old.file,
                    f"Previously present enum value {q(number)} on enum {q(new.name)} was deleted{suffix}.")

    check.__name__ = rule.lower()
    return check


def enum_value_same_name(ctx: Ctx, new: EnumIdx, old: EnumIdx) -> None:
    old_by_number = old.numbers_to_names()
    new_by_number = new.numbers_to_names()
    for number, old_names in old_by_number.items():
        names = new_by_number.get(number)
        if names is None:
            continue
        previous_sorted, current_sorted = sorted(set(old_names)), sorted(set(names))
        if set(previous_sorted) <= set(current_sorted):
            continue
        suffix = "s" if len(previous_sorted) > 1 and len(current_sorted) > 1 else ""
        message = (f"Enum value {q(number)} on enum {q(new.name)} changed name{suffix} from "
                   f"{join_quoted(previous_sorted)} to {join_quoted(current_sorted)}.")
        for index, value in enumerate(new.proto.value):
            if value.number == number:
                ctx.add("ENUM_VALUE_SAME_NAME", new.file, new.file.span(new.path + (ENUM_VALUES, index, 2)),
                        old.file, message)


def enum_same_json_format(ctx: Ctx, new: EnumIdx, old: EnumIdx) -> None:
    previous, current = old.features.json_format, new.features.json_format
    if previous == feat.JSON_ALLOW and current != feat.JSON_ALLOW:
        ctx.add("ENUM_SAME_JSON_FORMAT", new.file, _features_span(new, 6), old.file,  # type: ignore[arg-type]
                f"Enum {q(new.name)} JSON format support changed from "
                f"{feat.JSON_FORMAT_NAMES[previous]} to {feat.JSON_FORMAT_NAMES[current]}.")


def reserved_enum_no_delete(ctx: Ctx, new: EnumIdx, old: EnumIdx) -> None:
    check_tag_ranges(ctx, "RESERVED_ENUM_NO_DELETE", "reserved", "enum", new, old,
                     [(r.start, r.end) for r in old.proto.reserved_range],
                     [(r.start, r.end) for r in new.proto.reserved_range], ENUM_MAX, ENUM_MAX)
    new_names = set(new.proto.reserved_name)
    for name in dict.fromkeys(old.proto.reserved_name):
        if name not in new_names:
            ctx.add("RESERVED_ENUM_NO_DELETE", new.file, new.span(), old.file,
                    f"Previously present reserved name {q(name)} on enum {q(new.name)} was deleted.")


ENUM_PAIR_RULES: dict[str, EnumPairRule] = {
    "ENUM_SAME_TYPE": enum_same_type,
    "ENUM_VALUE_NO_DELETE": _enum_value_no_delete("ENUM_VALUE_NO_DELETE", False, False),
    "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED": _enum_value_no_delete(
        "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED", True, False),
    "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED": _enum_value_no_delete(
        "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED", False, True),
    "ENUM_VALUE_SAME_NAME": enum_value_same_name,
    "ENUM_SAME_JSON_FORMAT": enum_same_json_format,
    "RESERVED_ENUM_NO_DELETE": reserved_enum_no_delete,
}
