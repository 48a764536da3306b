"""Rules over pairs of messages with the same full name: fields, oneofs, ranges and message options."""
from __future__ import annotations

from collections.abc import Callable

from . import features as feat
from .context import MESSAGE_MAX, MESSAGE_SET_MAX, Ctx, check_tag_ranges, field_description, first_span
from .index import FEATURES_IN_MESSAGE_OPTIONS, LABEL_REQUIRED, MSG_OPTIONS, MessageIdx
from .text import q

MessagePairRule = Callable[[Ctx, MessageIdx, MessageIdx], None]


def _max_tag(message: MessageIdx) -> int:
    return MESSAGE_SET_MAX if message.proto.options.message_set_wire_format else MESSAGE_MAX


def _ranges(ranges: object) -> list[tuple[int, int]]:
    """Message ranges are end-exclusive in descriptors; buf reasons with inclusive ends."""
    return [(r.start, r.end - 1) for r in ranges]  # type: ignore[attr-defined]


def extension_message_no_delete(ctx: Ctx, new: MessageIdx, old: MessageIdx) -> None:
    check_tag_ranges(ctx, "EXTENSION_MESSAGE_NO_DELETE", "extension", "message", new, old,
                     _ranges(old.proto.extension_range), _ranges(new.proto.extension_range),
                     _max_tag(old), _max_tag(new))


def _field_no_delete(rule: str, unless_number: bool, unless_name: bool) -> MessagePairRule:
    def check(ctx: Ctx, new: MessageIdx, old: MessageIdx) -> None:
        for number, old_field in old.fields_by_number.items():
            if number in new.fields_by_number:
                continue
            suffix = ""
            if unless_number:
                if any(r.start <= number < r.end for r in new.proto.reserved_range):
                    continue
                suffix = f" without reserving the number {q(number)}"
            if unless_name:
                if old_field.name in new.proto.reserved_name:
                    continue
                suffix = f" without reserving the name {q(old_field.name)}"
            description = field_description(old_field)
            description = description[:1].lower() + description[1:]
            ctx.add(rule, new.file, new.span(), old.file, f"Previously present {description} was deleted{suffix}.")

    check.__name__ = rule.lower()
    return check


def message_no_remove_standard_descriptor_accessor(ctx: Ctx, new: MessageIdx, old: MessageIdx) -> None:
    if not old.proto.options.no_standard_descriptor_accessor and new.proto.options.no_standard_descriptor_accessor:
        ctx.add("MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR", new.file,
                new.file.span(new.path + (MSG_OPTIONS, 2)), old.file,
                'Message option "no_standard_descriptor_accessor" changed from "false" to "true".')


def oneof_no_delete(ctx: Ctx, new: MessageIdx, old: MessageIdx) -> None:
    synthetic = old.synthetic_oneofs()
    new_names = set(new.oneofs)
    for index, name in enumerate(old.oneofs):
        if name in new_names or index in synthetic:
            continue
        ctx.add("ONEOF_NO_DELETE", new.file, new.span(), old.file,
                f"Previously present oneof {q(name)} on message {q(new.name)} was deleted.")


def message_same_json_format(ctx: Ctx, new: MessageIdx, old: MessageIdx) -> None:
    previous, current = old.features.json_format, new.features.json_format
    if previous == feat.JSON_ALLOW and current != feat.JSON_ALLOW:
        span = first_span(new.file.option_span(new.path + (MSG_OPTIONS,), FEATURES_IN_MESSAGE_OPTIONS, 6), new.span())
        ctx.add("MESSAGE_SAME_JSON_FORMAT", new.file, span, old.file,
                f"Message {q(new.name)} JSON format support changed from "
                f"{feat.JSON_FORMAT_NAMES[previous]} to {feat.JSON_FORMAT_NAMES[current]}.")


def message_same_required_fields(ctx: Ctx, new: MessageIdx, old: MessageIdx) -> None:
    # buf reads the declared label here, so editions' LEGACY_REQUIRED fields do not count.
    old_required = {f.number for f in old.fields if f.proto.label == LABEL_REQUIRED}
    new_required = {f.number: f for f in new.fields if f.proto.label == LABEL_REQUIRED}
    for number in old_required:
        if number not in new_required:
            ctx.add("MESSAGE_SAME_REQUIRED_FIELDS", new.file, new.span(), old.file,
                    f'Message {q(old.name)} had required field "{number}" deleted. Required fields must always '
                    "be sent, so if one side does not know about the required field, this will result in a breakage.")
    for number, field in new_required.items():
        if number not in old_required:
            ctx.add("MESSAGE_SAME_REQUIRED_FIELDS", new.file, field.span(), None,
                    f'Message {q(new.name)} had required field "{number}" added. Required fields must always '
                    "be sent, so if one side does not know about the required field, this will result in a breakage.")


def reserved_message_no_delete(ctx: Ctx, new: MessageIdx, old: MessageIdx) -> None:
    check_tag_ranges(ctx, "RESERVED_MESSAGE_NO_DELETE", "reserved", "message", new, old,
                     _ranges(old.proto.reserved_range), _ranges(new.proto.reserved_range),
                     _max_tag(old), _max_tag(new))
    new_names = set(new.proto.reserved_name)
    for name in dict.fromkeys(old.proto.reserved_name):
        if name not in new_names:
            ctx.add("RESERVED_MESSAGE_NO_DELETE", new.file, new.span(), old.file,
                    f"Previously present reserved name {q(name)} on message {q(new.name)} was deleted.")


MESSAGE_PAIR_RULES: dict[str, MessagePairRule] = {
    "EXTENSION_MESSAGE_NO_DELETE": extension_message_no_delete,
    "FIELD_NO_DELETE": _field_no_delete("FIELD_NO_DELETE", False, False),
    "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED": _field_no_delete("FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", True, False),
    "FIELD_NO_DELETE_UNLESS_NAME_RESERVED": _field_no_delete("FIELD_NO_DELETE_UNLESS_NAME_RESERVED", False, True),
    "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR": message_no_remove_standard_descriptor_accessor,
    "ONEOF_NO_DELETE": oneof_no_delete,
    "MESSAGE_SAME_JSON_FORMAT": message_same_json_format,
    "MESSAGE_SAME_REQUIRED_FIELDS": message_same_required_fields,
    "RESERVED_MESSAGE_NO_DELETE": reserved_message_no_delete,
}
