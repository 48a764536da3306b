"""The schema model the generator builds and mutates, and its rendering to .proto source files.

Types refer to each other by object (not by name), so renaming or moving a message keeps every
reference to it valid; full names and imports are computed at rendering time.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SCALARS = ("int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32",
           "sfixed64", "bool", "string", "bytes", "double", "float")
MAP_KEYS = ("int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32",
            "sfixed64", "bool", "string")
PACKABLE = tuple(s for s in SCALARS if s not in ("string", "bytes"))
INT64S = ("int64", "uint64", "sint64", "fixed64", "sfixed64")


@dataclass(eq=False)
class External:
    """A message of a well-known-type file (google/protobuf/*.proto): always there, imported when used."""

    full_name: str
    path: str


WELL_KNOWN = (
    External("google.protobuf.Timestamp", "google/protobuf/timestamp.proto"),
    External("google.protobuf.Duration", "google/protobuf/duration.proto"),
    External("google.protobuf.Any", "google/protobuf/any.proto"),
    External("google.protobuf.Empty", "google/protobuf/empty.proto"),
    External("google.protobuf.Struct", "google/protobuf/struct.proto"),
    External("google.protobuf.Int32Value", "google/protobuf/wrappers.proto"),
    External("google.protobuf.StringValue", "google/protobuf/wrappers.proto"),
    External("google.protobuf.FieldMask", "google/protobuf/field_mask.proto"),
)


@dataclass(eq=False)
class Field:
    name: str
    number: int
    type: str  # a scalar, "message", "enum", "map" or "group" (proto2; `ref` is its body, a nested message)
    ref: Message | Enum | External | None = None  # the message or enum of a "message"/"enum" field, or of a map value
    label: str = ""  # "", "optional", "required" or "repeated"
    map_key: str = ""
    map_value: str = ""  # a scalar, "message" or "enum" (then `ref`)
    json_name: str | None = None
    default: str | None = None
    options: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class Oneof:
    name: str
    fields: list[Field] = field(default_factory=list)


@dataclass(eq=False)
class EnumValue:
    name: str
    number: int
    options: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class Enum:
    name: str
    values: list[EnumValue] = field(default_factory=list)
    reserved_ranges: list[tuple[int, int]] = field(default_factory=list)
    reserved_names: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class Extend:
    extendee: Message
    fields: list[Field] = field(default_factory=list)


@dataclass(eq=False)
class Message:
    name: str
    items: list[Field | Oneof] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    enums: list[Enum] = field(default_factory=list)
    extends: list[Extend] = field(default_factory=list)
    reserved_ranges: list[tuple[int, int]] = field(default_factory=list)
    reserved_names: list[str] = field(default_factory=list)
    extension_ranges: list[tuple[int, int]] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    group: bool = False  # the body of a proto2 group field of its parent (set by `fixup`)

    def all_fields(self) -> list[Field]:
        out: list[Field] = []
        for item in self.items:
            out.extend(item.fields if isinstance(item, Oneof) else [item])
        return out


@dataclass(eq=False)
class Method:
    name: str
    input: Message | External
    output: Message | External
    client_streaming: bool = False
    server_streaming: bool = False
    options: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class Service:
    name: str
    methods: list[Method] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class File:
    path: str
    package: str
    syntax: str  # "proto2", "proto3", "2023" or "2024"
    messages: list[Message] = field(default_factory=list)
    enums: list[Enum] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    extends: list[Extend] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class Schema:
    files: list[File] = field(default_factory=list)



@dataclass
class Scope:
    """Where every message and enum lives: its full name and its file (computed from the tree)."""

    full_name: dict[int, str] = field(default_factory=dict)
    file_of: dict[int, File] = field(default_factory=dict)
    parent: dict[int, Message | None] = field(default_factory=dict)


def walk_messages(messages: list[Message]) -> list[Message]:
    out: list[Message] = []
    for message in messages:
        out.append(message)
        out.extend(walk_messages(message.messages))
    return out


def all_messages(schema: Schema) -> list[Message]:
    return [m for f in schema.files for m in walk_messages(f.messages)]


def holders(schema: Schema) -> list[File | Message]:
    """Everything that can declare messages, enums and extensions: files and messages."""
    out: list[File | Message] = []
    for file in schema.files:
        out.append(file)
        out.extend(walk_messages(file.messages))
    return out


def file_holders(file: File) -> list[File | Message]:
    return [file, *walk_messages(file.messages)]


def all_enums(schema: Schema) -> list[Enum]:
    out: list[Enum] = []
    for file in schema.files:
        out.extend(file.enums)
        for message in walk_messages(file.messages):
            out.extend(message.enums)
    return out


def all_extends(schema: Schema) -> list[Extend]:
    out: list[Extend] = []
    for file in schema.files:
        out.extend(file.extends)
        for message in walk_messages(file.messages):
            out.extend(message.extends)
    return out


def scope_of(schema: Schema) -> Scope:
    scope = Scope()

    def visit(message: Message, prefix: str, file: File, parent: Message | None) -> None:
        name = f"{prefix}.{message.name}" if prefix else message.name
        scope.full_name[id(message)] = name
        scope.file_of[id(message)] = file
        scope.parent[id(message)] = parent
        for enum in message.enums:
            scope.full_name[id(enum)] = f"{name}.{enum.name}"
            scope.file_of[id(enum)] = file
            scope.parent[id(enum)] = message
        for nested in message.messages:
            visit(nested, name, file, message)

    for file in schema.files:
        for enum in file.enums:
            scope.full_name[id(enum)] = f"{file.package}.{enum.name}" if file.package else enum.name
            scope.file_of[id(enum)] = file
            scope.parent[id(enum)] = None
        for message in file.messages:
            visit(message, file.package, file, None)
    return scope
