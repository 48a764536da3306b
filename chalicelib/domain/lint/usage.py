"""Which imports a file uses, as buf's compiler records it: a type, extendee or custom option (a
`(name)` option or feature) defined in the imported file, or in a file it publicly re-exports."""
from __future__ import annotations

from collections.abc import Iterator

from google.protobuf import descriptor_pb2
from google.protobuf.message import Message

from .source import LintFile

FeatureSet = "google.protobuf.FeatureSet"


def _definitions(files: dict[str, LintFile]) -> dict[str, str]:
    """Full name (no leading dot) of every message, enum and extension -> the file that defines it."""
    defined: dict[str, str] = {}
    for file in files.values():
        for message, _, name in file.messages():
            defined[name] = file.path
            for enum in message.enum_type:
                defined[f"{name}.{enum.name}"] = file.path
            for extension in message.extension:
                defined[f"{name}.{extension.name}"] = file.path
        prefix = f"{file.package}." if file.package else ""
        for enum in file.proto.enum_type:
            defined[prefix + enum.name] = file.path
        for extension in file.proto.extension:
            defined[prefix + extension.name] = file.path
    return defined


def _extensions(files: dict[str, LintFile]) -> dict[tuple[str, int], str]:
    """(extendee without leading dot, field number) -> the file defining that extension."""
    result: dict[tuple[str, int], str] = {}
    for file in files.values():
        for field, _, _, _ in file.fields():
            if field.extendee:
                result.setdefault((field.extendee.lstrip("."), field.number), file.path)
    return result


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7


def _unknown_numbers(options: Message) -> Iterator[tuple[str, int]]:
    """(options type, number) of each field set in `options` that its type does not declare
    (custom options), descending into `features` for feature extensions."""
    known = options.DESCRIPTOR.fields_by_number
    full_name = options.DESCRIPTOR.full_name
    data = options.SerializeToString()
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        if number not in known:
            yield full_name, number
        if wire == 0:
            _, position = _varint(data, position)
        elif wire == 1:
            position += 8
        elif wire == 2:
            length, position = _varint(data, position)
            position += length
        elif wire == 5:
            position += 4
        else:  # groups: stop reading this options message (never written for options)
            return
    if options.DESCRIPTOR.fields_by_name.get("features") is not None and options.HasField("features"):
        yield from _unknown_numbers(options.features)  # type: ignore[attr-defined]


def _options_of(file: LintFile) -> Iterator[Message]:
    proto = file.proto
    if proto.HasField("options"):
        yield proto.options
    for message, _, _ in file.messages():
        if message.HasField("options"):
            yield message.options
        for oneof in message.oneof_decl:
            if oneof.HasField("options"):
                yield oneof.options
        for extension_range in message.extension_range:
            if extension_range.HasField("options"):
                yield extension_range.options
        for enum in message.enum_type:
            yield from _enum_options(enum)
    for enum in proto.enum_type:
        yield from _enum_options(enum)
    for field, _, _, _ in file.fields():
        if field.HasField("options"):
            yield field.options
    for service in proto.service:
        if service.HasField("options"):
            yield service.options
        for method in service.method:
            if method.HasField("options"):
                yield method.options


def _enum_options(enum: descriptor_pb2.EnumDescriptorProto) -> Iterator[Message]:
    if enum.HasField("options"):
        yield enum.options
    for value in enum.value:
        if value.HasField("options"):
            yield value.options


def _referenced_files(file: LintFile, defined: dict[str, str], extensions: dict[tuple[str, int], str]) -> set[str]:
    names: set[str] = set()
    for field, _, _, _ in file.fields():
        if field.type_name:
            names.add(field.type_name.lstrip("."))
        if field.extendee:
            names.add(field.extendee.lstrip("."))
    for service in file.proto.service:
        for method in service.method:
            names.add(method.input_type.lstrip("."))
            names.add(method.output_type.lstrip("."))
    referenced = {defined[name] for name in names if name in defined}
    for options in _options_of(file):
        for key in _unknown_numbers(options):
            if key in extensions:
                referenced.add(extensions[key])
    return referenced


class ImportUsage:
    """Name indexes over the whole image, built once per lint run."""

    def __init__(self, files: dict[str, LintFile]) -> None:
        self.files = files
        self.defined = _definitions(files)
        self.extensions = _extensions(files)

    def used_imports(self, file: LintFile) -> set[str]:
        return used_imports(file, self.files, _referenced_files(file, self.defined, self.extensions))


def _public_closure(name: str, files: dict[str, LintFile]) -> set[str]:
    """`name` and every file it re-exports through (chains of) `import public`."""
    stack, seen = [name], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        imported = files.get(current)
        if imported is not None:
            stack.extend(imported.proto.dependency[i] for i in imported.proto.public_dependency)
    return seen


def used_imports(file: LintFile, files: dict[str, LintFile], referenced: set[str]) -> set[str]:
    """The direct imports of `file` credited with something it references, as buf's compiler credits them:
    the defining file itself when it is imported directly, else the first import (in order) that
    re-exports it publicly."""
    dependencies = list(file.proto.dependency)
    direct = set(dependencies)
    closures: dict[str, set[str]] = {}
    used: set[str] = set()
    for defining in referenced - {file.path}:
        if defining in direct:
            used.add(defining)
            continue
        for name in dependencies:
            if name not in closures:
                closures[name] = _public_closure(name, files)
            if defining in closures[name]:
                used.add(name)
                break
    return used
