"""A linted file: its descriptor, its source locations by path, and walks over its declarations.

Paths are SourceCodeInfo paths (tuples of field numbers and indexes), as buf's rules use them.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from google.protobuf import descriptor_pb2

# FileDescriptorProto / DescriptorProto / ... field numbers used in source paths.
F_PACKAGE, F_DEPENDENCY, F_MESSAGE, F_ENUM, F_SERVICE, F_EXTENSION, F_OPTIONS, F_SYNTAX, F_EDITION = (
    2, 3, 4, 5, 6, 7, 8, 12, 14)
M_NAME, M_FIELD, M_NESTED, M_ENUM, M_EXT_RANGE, M_EXTENSION, M_OPTIONS, M_ONEOF, M_RESERVED, M_RESERVED_NAME = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
FIELD_NAME, FIELD_NUMBER, FIELD_TYPE_NAME = 1, 3, 6
ENUM_NAME, ENUM_VALUE, ENUM_OPTIONS, ENUM_ALLOW_ALIAS = 1, 2, 3, 2
VALUE_NAME, VALUE_NUMBER = 1, 2
SERVICE_NAME, SERVICE_METHOD = 1, 2
METHOD_NAME, METHOD_INPUT, METHOD_OUTPUT = 1, 2, 3

Path = tuple[int, ...]
Span = tuple[int, int, int, int]


@dataclass
class LintFile:
    """One file of the image; `target` files are linted, the others (imports) only resolve names."""

    proto: descriptor_pb2.FileDescriptorProto
    target: bool = True
    locations: dict[Path, descriptor_pb2.SourceCodeInfo.Location] = field(default_factory=dict)
    unused_dependencies: frozenset[int] | None = None  # from a `buf build` image's marks; None: not marked
    syntax_unspecified: bool | None = None
    _messages: list[tuple[descriptor_pb2.DescriptorProto, Path, str]] | None = field(default=None, repr=False)
    _fields: list[tuple[descriptor_pb2.FieldDescriptorProto, Path, descriptor_pb2.DescriptorProto | None,
                        Path | None]] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, proto: descriptor_pb2.FileDescriptorProto, target: bool) -> LintFile:
        locations: dict[Path, descriptor_pb2.SourceCodeInfo.Location] = {}
        for location in proto.source_code_info.location:
            locations.setdefault(tuple(location.path), location)  # the first one, as protoreflect
        marks = image_marks(proto)
        if marks is None:
            return cls(proto, target, locations)
        return cls(proto, target, locations, unused_dependencies=marks[0], syntax_unspecified=marks[1])

    @property
    def path(self) -> str:
        return self.proto.name

    @property
    def package(self) -> str:
        return self.proto.package

    def at(self, path: Path) -> Path | None:
        """`path` when the source has a location for it, else None (buf then reports the whole file)."""
        return path if path in self.locations else None

    def span(self, path: Path) -> Span:
        """1-based start line/column and end line/column of a location (as buf prints them)."""
        span = list(self.locations[path].span)
        if len(span) == 3:
            return span[0] + 1, span[1] + 1, span[0] + 1, span[2] + 1
        return span[0] + 1, span[1] + 1, span[2] + 1, span[3] + 1

    def leading_comments(self, path: Path) -> str | None:
        """Leading comments of the location at `path`; None without a location (buf skips those)."""
        location = self.locations.get(path)
        return None if location is None else location.leading_comments

    def syntax_specified(self) -> bool:
        """protoc leaves `syntax` empty for proto2 whether or not it is written: look at the source too."""
        return bool(self.proto.syntax) or (F_SYNTAX,) in self.locations or (F_EDITION,) in self.locations

    # ------------------------------------------------------------------------------- declarations
    def messages(self) -> list[tuple[descriptor_pb2.DescriptorProto, Path, str]]:
        """Every message, nested ones after their parent, with its source path and full name (walked once)."""
        if self._messages is None:
            self._messages = list(self._walk_messages())
        return self._messages

    def _walk_messages(self) -> Iterator[tuple[descriptor_pb2.DescriptorProto, Path, str]]:
        prefix = f"{self.package}." if self.package else ""

        def walk(message: descriptor_pb2.DescriptorProto, path: Path, name: str
                 ) -> Iterator[tuple[descriptor_pb2.DescriptorProto, Path, str]]:
            yield message, path, name
            for index, nested in enumerate(message.nested_type):
                yield from walk(nested, path + (M_NESTED, index), f"{name}.{nested.name}")

        for index, message in enumerate(self.proto.message_type):
            yield from walk(message, (F_MESSAGE, index), prefix + message.name)

    def enums(self) -> Iterator[tuple[descriptor_pb2.EnumDescriptorProto, Path]]:
        """Top-level enums, then each message's enums (buf's ForEachEnum)."""
        for index, enum in enumerate(self.proto.enum_type):
            yield enum, (F_ENUM, index)
        for message, path, _ in self.messages():
            for index, enum in enumerate(message.enum_type):
                yield enum, path + (M_ENUM, index)

    def fields(self) -> list[tuple[descriptor_pb2.FieldDescriptorProto, Path,
                                   descriptor_pb2.DescriptorProto | None, Path | None]]:
        """Each message's fields and nested extensions, then the file's extensions; with the parent."""
        if self._fields is None:
            self._fields = list(self._walk_fields())
        return self._fields

    def _walk_fields(self) -> Iterator[tuple[descriptor_pb2.FieldDescriptorProto, Path,
                                             descriptor_pb2.DescriptorProto | None, Path | None]]:
        for message, path, _ in self.messages():
            for index, field_proto in enumerate(message.field):
                yield field_proto, path + (M_FIELD, index), message, path
            for index, field_proto in enumerate(message.extension):
                yield field_proto, path + (M_EXTENSION, index), message, path
        for index, field_proto in enumerate(self.proto.extension):
            yield field_proto, (F_EXTENSION, index), None, None

    def methods(self) -> Iterator[tuple[descriptor_pb2.MethodDescriptorProto, Path,
                                        descriptor_pb2.ServiceDescriptorProto]]:
        for service_index, service in enumerate(self.proto.service):
            for index, method in enumerate(service.method):
                yield method, (F_SERVICE, service_index, SERVICE_METHOD, index), service


IMAGE_FILE_EXTENSION = 8042  # buf's ImageFileExtension on each file of a `buf build` image
_UNUSED_DEPENDENCY, _SYNTAX_UNSPECIFIED = 4, 3


def image_marks(proto: descriptor_pb2.FileDescriptorProto) -> tuple[frozenset[int], bool] | None:
    """What buf's compiler recorded in a `buf build` image: the unused imports' indexes and whether the
    file has no syntax statement. None for files without the extension (protoc's)."""
    from google.protobuf import empty_pb2
    from google.protobuf.unknown_fields import UnknownFieldSet

    for unknown in UnknownFieldSet(proto):  # type: ignore[attr-defined]
        if unknown.field_number != IMAGE_FILE_EXTENSION or not isinstance(unknown.data, bytes):
            continue
        extension = empty_pb2.Empty()  # no fields of its own: everything in it stays an unknown field
        extension.ParseFromString(unknown.data)
        unused: set[int] = set()
        syntax_unspecified = False
        for inner in UnknownFieldSet(extension):  # type: ignore[attr-defined]
            if inner.field_number == _SYNTAX_UNSPECIFIED:
                syntax_unspecified = bool(inner.data)
            elif inner.field_number == _UNUSED_DEPENDENCY and isinstance(inner.data, int):
                unused.add(inner.data)
            elif inner.field_number == _UNUSED_DEPENDENCY and isinstance(inner.data, bytes):  # packed
                position = 0
                while position < len(inner.data):
                    value = shift = 0
                    while True:
                        byte = inner.data[position]
                        position += 1
                        value |= (byte & 0x7F) << shift
                        shift += 7
                        if byte < 0x80:
                            break
                    unused.add(value)
        return frozenset(unused), syntax_unspecified
    return None


def directory(path: str) -> str:
    """buf's normalpath.Dir: "." for a file at the root."""
    return path.rsplit("/", 1)[0] if "/" in path else "."


# Tags after which an index names a declaration ("complete" declarations, for comment ignores).
_FILE_LISTS = {F_MESSAGE: "message", F_ENUM: "enum", F_SERVICE: "service", F_EXTENSION: "field"}
_CHILD_LISTS = {
    "message": {M_FIELD: "field", M_NESTED: "message", M_ENUM: "enum", M_ONEOF: "oneof", M_EXTENSION: "field",
                M_EXT_RANGE: "range", M_RESERVED: "range", M_RESERVED_NAME: "range"},
    "enum": {ENUM_VALUE: "value", 4: "range", 5: "range"},
    "service": {SERVICE_METHOD: "method"},
}
_OPTIONS_TAG = {"message": M_OPTIONS, "enum": ENUM_OPTIONS, "service": 3, "method": 4, "field": 8, "value": 3,
                "oneof": 2, "range": 3}
# Lists whose tag itself has a location that counts (extend blocks, extension ranges, reserved).
_TAG_COUNTS = {(None, F_EXTENSION), ("message", M_EXTENSION), ("message", M_EXT_RANGE), ("message", M_RESERVED),
               ("message", M_RESERVED_NAME), ("enum", 4), ("enum", 5)}


def associated_paths(path: Path) -> list[Path]:
    """buf's protosourcepath.GetAssociatedSourcePaths (complete declarations only): the enclosing
    declarations of `path` whose leading comments may carry a `buf:lint:ignore`."""
    if not path:
        return []
    head = path[0]
    if head in (F_PACKAGE, F_SYNTAX, F_EDITION):
        return [path[:1]]
    if head == F_DEPENDENCY:
        return [path[:2]]
    if head == F_OPTIONS:
        return [path]
    if head not in _FILE_LISTS:
        return []
    result: list[Path] = []
    kind: str | None = None
    tag_index = 0
    list_kind = _FILE_LISTS[head]
    if (None, head) in _TAG_COUNTS:
        result.append(path[:1])
    while True:
        index_position = tag_index + 1
        if index_position >= len(path):
            return result
        result.append(path[: index_position + 1])
        kind = list_kind
        next_tag_position = index_position + 1
        if next_tag_position >= len(path):
            return result
        tag = path[next_tag_position]
        if tag == _OPTIONS_TAG.get(kind):
            result.append(path)
            return result
        child = _CHILD_LISTS.get(kind, {}).get(tag)
        if child is None:
            return result
        if (kind, tag) in _TAG_COUNTS:
            result.append(path[: next_tag_position + 1])
        tag_index, list_kind = next_tag_position, child
