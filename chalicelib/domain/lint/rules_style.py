"""Naming and documentation rules: casing, prefixes and suffixes, comments, enum and field shape."""
from __future__ import annotations

from collections.abc import Iterator

from google.protobuf import descriptor_pb2

from .casing import to_lower_snake_case, to_pascal_case, to_upper_snake_case
from .context import Context, Hit, quoted
from .source import (
    ENUM_ALLOW_ALIAS,
    ENUM_NAME,
    ENUM_OPTIONS,
    ENUM_VALUE,
    F_SERVICE,
    FIELD_NAME,
    M_NAME,
    M_ONEOF,
    METHOD_NAME,
    SERVICE_NAME,
    VALUE_NAME,
    VALUE_NUMBER,
    LintFile,
    Path,
)

FieldProto = descriptor_pb2.FieldDescriptorProto


def _enum_values(context: Context) -> Iterator[tuple[LintFile, Path, descriptor_pb2.EnumDescriptorProto,
                                                      descriptor_pb2.EnumValueDescriptorProto, Path]]:
    for file in context.targets:
        for enum, path in file.enums():
            for index, value in enumerate(enum.value):
                yield file, path, enum, value, path + (ENUM_VALUE, index)


def enum_pascal_case(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for enum, path in file.enums():
            expected = to_pascal_case(enum.name)
            if enum.name != expected:
                yield file, file.at(path + (ENUM_NAME,)), (
                    f"Enum name {quoted(enum.name)} should be PascalCase, such as {quoted(expected)}.")


def enum_no_allow_alias(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for enum, path in file.enums():
            if enum.options.allow_alias:
                yield file, file.at(path + (ENUM_OPTIONS, ENUM_ALLOW_ALIAS)), (
                    f'Enum option "allow_alias" on enum {quoted(enum.name)} must be false.')


def enum_first_value_zero(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for enum, path in file.enums():
            if enum.value and enum.value[0].number != 0:
                yield file, file.at(path + (ENUM_VALUE, 0, VALUE_NUMBER)), (
                    f"First enum value {quoted(enum.value[0].name)} should have a numeric value of 0")


def enum_value_prefix(context: Context) -> Iterator[Hit]:
    for file, _, enum, value, path in _enum_values(context):
        prefix = to_upper_snake_case(enum.name) + "_"
        if not value.name.startswith(prefix):
            yield file, file.at(path + (VALUE_NAME,)), (
                f"Enum value name {quoted(value.name)} should be prefixed with {quoted(prefix)}.")


def enum_value_upper_snake_case(context: Context) -> Iterator[Hit]:
    for file, _, _, value, path in _enum_values(context):
        expected = to_upper_snake_case(value.name)
        if value.name != expected:
            yield file, file.at(path + (VALUE_NAME,)), (
                f"Enum value name {quoted(value.name)} should be UPPER_SNAKE_CASE, such as {quoted(expected)}.")


def enum_zero_value_suffix(context: Context) -> Iterator[Hit]:
    suffix = context.config.enum_zero_value_suffix
    for file, _, _, value, path in _enum_values(context):
        if value.number == 0 and not value.name.endswith(suffix):
            yield file, file.at(path + (VALUE_NAME,)), (
                f"Enum zero value name {quoted(value.name)} should be suffixed with {quoted(suffix)}.")


def field_lower_snake_case(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for field, path, message, _ in file.fields():
            if message is not None and message.options.map_entry:
                continue
            expected = to_lower_snake_case(field.name)
            if field.name != expected:
                yield file, file.at(path + (FIELD_NAME,)), (
                    f"Field name {quoted(field.name)} should be lower_snake_case, such as {quoted(expected)}.")


def field_no_descriptor(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for field, path, _, _ in file.fields():
            if field.name.strip("_").lower() == "descriptor":
                yield file, file.at(path + (FIELD_NAME,)), (
                    f"Field name {quoted(field.name)} cannot be any capitalization of \"descriptor\" with any "
                    "number of prefix or suffix underscores.")


_LEGACY_REQUIRED = descriptor_pb2.FeatureSet.LEGACY_REQUIRED


def _required(field: FieldProto, message_chain: list[descriptor_pb2.DescriptorProto],
              file_proto: descriptor_pb2.FileDescriptorProto) -> bool:
    if field.label == FieldProto.LABEL_REQUIRED:
        return True
    if file_proto.syntax != "editions" or field.label == FieldProto.LABEL_REPEATED or field.HasField("oneof_index"):
        return False
    features = [field.options.features, *[m.options.features for m in reversed(message_chain)],
                file_proto.options.features]
    for feature_set in features:  # the nearest explicit field_presence wins, as editions resolve features
        if feature_set.HasField("field_presence"):
            return bool(feature_set.field_presence == _LEGACY_REQUIRED)
    return False


def field_not_required(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        parents: dict[Path, descriptor_pb2.DescriptorProto] = {p: m for m, p, _ in file.messages()}
        for field, path, message, message_path in file.fields():
            chain: list[descriptor_pb2.DescriptorProto] = []
            if message_path is not None and message is not None and field.extendee == "":
                prefix = message_path
                while prefix:
                    if prefix in parents:
                        chain.insert(0, parents[prefix])
                    prefix = prefix[:-2]
            if _required(field, chain, file.proto):
                yield file, file.at(path + (FIELD_NAME,)), f"Field named {quoted(field.name)} should not be required."


def message_pascal_case(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for message, path, _ in file.messages():
            if message.options.map_entry:
                continue
            expected = to_pascal_case(message.name)
            if message.name != expected:
                yield file, file.at(path + (M_NAME,)), (
                    f"Message name {quoted(message.name)} should be PascalCase, such as {quoted(expected)}.")


def _synthetic(message: descriptor_pb2.DescriptorProto, index: int) -> bool:
    members = [f for f in message.field if f.HasField("oneof_index") and f.oneof_index == index]
    return len(members) == 1 and members[0].proto3_optional


def oneof_lower_snake_case(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for message, path, _ in file.messages():
            for index, oneof in enumerate(message.oneof_decl):
                expected = to_lower_snake_case(oneof.name)
                if oneof.name != expected and not _synthetic(message, index):
                    yield file, file.at(path + (M_ONEOF, index, 1)), (
                        f"Oneof name {quoted(oneof.name)} should be lower_snake_case, such as {quoted(expected)}.")


def service_pascal_case(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for index, service in enumerate(file.proto.service):
            expected = to_pascal_case(service.name)
            if service.name != expected:
                yield file, file.at((F_SERVICE, index, SERVICE_NAME)), (
                    f"Service name {quoted(service.name)} should be PascalCase, such as {quoted(expected)}.")


def service_suffix(context: Context) -> Iterator[Hit]:
    suffix = context.config.service_suffix
    for file in context.targets:
        for index, service in enumerate(file.proto.service):
            if not service.name.endswith(suffix):
                yield file, file.at((F_SERVICE, index, SERVICE_NAME)), (
                    f"Service name {quoted(service.name)} should be suffixed with {quoted(suffix)}.")


def rpc_pascal_case(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for method, path, _ in file.methods():
            expected = to_pascal_case(method.name)
            if method.name != expected:
                yield file, file.at(path + (METHOD_NAME,)), (
                    f"RPC name {quoted(method.name)} should be PascalCase, such as {quoted(expected)}.")


# ------------------------------------------------------------------------------------------ comments
def _valid_comment(comment: str) -> bool:
    """buf: at least one non-blank line that is not a `buf:lint:ignore` line."""
    return any(line.strip() and not line.strip().startswith("buf:lint:ignore") for line in comment.split("\n"))


def _comment_hits(file: LintFile, path: Path, kind: str, name: str) -> Iterator[Hit]:
    """buf skips declarations without a location (map entries, synthetic oneofs)."""
    comments = file.leading_comments(path)
    if comments is not None and not _valid_comment(comments):
        yield file, path, f"{kind} {quoted(name)} should have a non-empty comment for documentation."


def comment_enum(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for enum, path in file.enums():
            yield from _comment_hits(file, path, "Enum", enum.name)


def comment_enum_value(context: Context) -> Iterator[Hit]:
    for file, _, _, value, path in _enum_values(context):
        yield from _comment_hits(file, path, "Enum value", value.name)


def comment_field(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for field, path, message, _ in file.fields():
            if message is not None and message.options.map_entry or field.type == FieldProto.TYPE_GROUP:
                continue
            yield from _comment_hits(file, path, "Field", field.name)


def comment_message(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for message, path, _ in file.messages():
            if not message.options.map_entry:
                yield from _comment_hits(file, path, "Message", message.name)


def comment_oneof(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for message, path, _ in file.messages():
            for index, oneof in enumerate(message.oneof_decl):
                if not _synthetic(message, index):
                    yield from _comment_hits(file, path + (M_ONEOF, index), "Oneof", oneof.name)


def comment_service(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for index, service in enumerate(file.proto.service):
            yield from _comment_hits(file, (F_SERVICE, index), "Service", service.name)


def comment_rpc(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for method, path, _ in file.methods():
            yield from _comment_hits(file, path, "RPC", method.name)
