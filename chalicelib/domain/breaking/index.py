"""Lookup tables over one FileDescriptorSet: files, messages, fields, enums, services, with source locations.

The rules compare an old and a new version element by element (by file path, full name, field number,
enum number, method name). Building these tables once per version keeps every rule a dictionary lookup.
Source locations are only decoded for the files that actually get a finding, which keeps large sets cheap.
"""
from __future__ import annotations

from google.protobuf import descriptor_pb2

from . import features as feat

Span = tuple[int, int, int, int]  # 1-based start line, start column, end line, end column
Path = tuple[int, ...]

# Field numbers inside descriptor.proto messages, used to build source paths.
FILE_MESSAGES, FILE_ENUMS, FILE_SERVICES, FILE_EXTENSIONS = 4, 5, 6, 7
MSG_FIELDS, MSG_NESTED, MSG_ENUMS, MSG_EXT_RANGES, MSG_EXTENSIONS, MSG_OPTIONS, MSG_ONEOFS = 2, 3, 4, 5, 6, 7, 8
ENUM_VALUES, ENUM_OPTIONS = 2, 3
SERVICE_METHODS = 2
FEATURES_IN_FILE_OPTIONS, FEATURES_IN_MESSAGE_OPTIONS = 50, 12
FEATURES_IN_FIELD_OPTIONS, FEATURES_IN_ENUM_OPTIONS = 21, 7

LABEL_OPTIONAL, LABEL_REQUIRED, LABEL_REPEATED = 1, 2, 3
TYPE_GROUP, TYPE_MESSAGE, TYPE_BYTES, TYPE_ENUM, TYPE_STRING = 10, 11, 12, 14, 9

# protoreflect.Kind names, as buf prints them.
KIND_NAMES = {
    1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32", 8: "bool",
    9: "string", 10: "group", 11: "message", 12: "bytes", 13: "uint32", 14: "enum", 15: "sfixed32",
    16: "sfixed64", 17: "sint32", 18: "sint64",
}


def _span(location: descriptor_pb2.SourceCodeInfo.Location) -> Span:
    s = location.span
    if len(s) == 3:
        return (s[0] + 1, s[1] + 1, s[0] + 1, s[2] + 1)
    return (s[0] + 1, s[1] + 1, s[2] + 1, s[3] + 1)


def _is_prefix(prefix: Path, path: Path) -> bool:
    return len(path) >= len(prefix) and path[: len(prefix)] == prefix


class FileIdx:
    """One .proto file of a version."""

    __slots__ = ("path", "proto", "package", "syntax", "edition", "features", "messages", "enums",
                 "services", "extensions", "nested_messages", "nested_enums", "nested_extensions", "_locs",
                 "java_string_check_utf8")

    def __init__(self, proto: descriptor_pb2.FileDescriptorProto) -> None:
        self.proto = proto
        self.path: str = proto.name
        self.package: str = proto.package
        syntax = proto.syntax
        self.syntax: str = syntax if syntax in ("proto3", "editions") else "proto2"
        self.edition: int = proto.edition if self.syntax == "editions" else (
            feat.EDITION_PROTO3 if self.syntax == "proto3" else feat.EDITION_PROTO2)
        defaults = feat.edition_defaults(self.syntax, self.edition)
        self.features: feat.Features = (
            feat.merge(defaults, proto.options) if self.syntax == "editions" and proto.HasField("options")
            else defaults
        )
        self.messages: list[MessageIdx] = []  # every message of the file, nested ones included
        self.enums: list[EnumIdx] = []
        self.services: list[ServiceIdx] = []
        self.extensions: list[FieldIdx] = []
        self.nested_messages: dict[str, MessageIdx] = {}
        self.nested_enums: dict[str, EnumIdx] = {}
        self.nested_extensions: dict[str, FieldIdx] = {}
        self._locs: tuple[dict[Path, descriptor_pb2.SourceCodeInfo.Location], list[Path]] | None = None
        options = proto.options
        # (explicitly set?, value): FIELD_SAME_JAVA_UTF8_VALIDATION reads the legacy file option
        self.java_string_check_utf8: tuple[bool, bool] = (
            options.HasField("java_string_check_utf8"), options.java_string_check_utf8)

    # --- source locations -------------------------------------------------------------------------
    def _locations(self) -> tuple[dict[Path, descriptor_pb2.SourceCodeInfo.Location], list[Path]]:
        if self._locs is None:
            by_path: dict[Path, descriptor_pb2.SourceCodeInfo.Location] = {}
            ordered: list[Path] = []
            for location in self.proto.source_code_info.location:
                key = tuple(location.path)
                ordered.append(key)
                if key not in by_path:  # first wins, like buf (extend blocks repeat a path)
                    by_path[key] = location
            self._locs = (by_path, ordered)
        return self._locs

    def span(self, path: Path) -> Span | None:
        """The span recorded for exactly this source path, or None.

        Map entry messages are synthesized and have no source info of their own; like buf, anything
        inside one is reported at the `map<K, V>` type of the map field that declares it.
        """
        location = self._locations()[0].get(path)
        if location is not None:
            return _span(location)
        target = self._map_field_type_path(path)
        if target is not None:
            mapped = self._locations()[0].get(target)
            return _span(mapped) if mapped is not None else None
        return None

    def _map_field_type_path(self, path: Path) -> Path | None:
        """If `path` lies inside a map entry message, the path of the parent's map field type."""
        if len(path) < 4 or path[0] != FILE_MESSAGES:
            return None
        prefix = f".{self.package}" if self.package else ""
        parent: descriptor_pb2.DescriptorProto | None = None
        messages = self.proto.message_type
        position = 0
        while position + 1 < len(path) and path[position] in (FILE_MESSAGES, MSG_NESTED):
            expected = FILE_MESSAGES if parent is None else MSG_NESTED
            if path[position] != expected or path[position + 1] >= len(messages):
                return None
            message = messages[path[position + 1]]
            if message.options.map_entry and parent is not None:
                full_name = f"{prefix}.{message.name}"
                for index, field in enumerate(parent.field):
                    if field.type_name == full_name:
                        return path[:position] + (MSG_FIELDS, index, 6)
                return None
            prefix = f"{prefix}.{message.name}"
            parent, messages = message, message.nested_type
            position += 2
        return None

    def option_span(self, options_path: Path, option_number: int, *extra: int) -> Span | None:
        """Where an option (or a sub-field of it, e.g. one feature) is set, with buf's fuzzy fallback.

        An exact match wins; otherwise the longest recorded ancestor at least as deep as the option itself,
        or the first recorded descendant (an option set field by field).
        """
        by_path, ordered = self._locations()
        option_path = options_path + (option_number,)
        path = option_path + tuple(extra)
        location = by_path.get(path)
        if location is not None:
            return _span(location)
        best: Path | None = None
        for candidate in ordered:
            if len(candidate) >= len(option_path) and _is_prefix(candidate, path):
                if best is None or len(candidate) > len(best):
                    best = candidate
            elif _is_prefix(path, candidate):
                return _span(by_path[candidate])
        return _span(by_path[best]) if best is not None else None


class MessageIdx:
    __slots__ = ("proto", "file", "path", "full_name", "nested_name", "name", "parent", "_fields",
                 "_fields_by_number", "is_map_entry", "features")

    def __init__(self, proto: descriptor_pb2.DescriptorProto, file: FileIdx, path: Path,
                 parent: MessageIdx | None) -> None:
        self.proto = proto
        self.file = file
        self.path = path
        self.name: str = proto.name
        self.parent = parent
        self.nested_name: str = f"{parent.nested_name}.{proto.name}" if parent else proto.name
        self.full_name: str = f"{file.package}.{self.nested_name}" if file.package else self.nested_name
        has_options = proto.HasField("options")
        self.is_map_entry: bool = has_options and proto.options.map_entry
        container = parent.features if parent else file.features
        self.features: feat.Features = (
            feat.merge(container, proto.options) if has_options and file.syntax == "editions" else container
        )
        self._fields: list[FieldIdx] | None = None
        self._fields_by_number: dict[int, FieldIdx] | None = None

    def _build_fields(self) -> None:
        """Fields are indexed on first use: unchanged messages never need them."""
        fields: list[FieldIdx] = []
        by_number: dict[int, FieldIdx] = {}
        for index, field_proto in enumerate(self.proto.field):
            field = FieldIdx(field_proto, self.file, self.path + (MSG_FIELDS, index), self, None)
            fields.append(field)
            by_number.setdefault(field.number, field)
        self._fields, self._fields_by_number = fields, by_number

    @property
    def fields(self) -> list[FieldIdx]:
        if self._fields is None:
            self._build_fields()
        return self._fields  # type: ignore[return-value]

    @property
    def fields_by_number(self) -> dict[int, FieldIdx]:
        if self._fields_by_number is None:
            self._build_fields()
        return self._fields_by_number  # type: ignore[return-value]

    @property
    def oneofs(self) -> list[str]:
        return [oneof.name for oneof in self.proto.oneof_decl]

    def span(self) -> Span | None:
        return self.file.span(self.path)

    def synthetic_oneofs(self) -> set[int]:
        """Indexes of proto3 `optional` oneofs, which buf does not treat as real oneofs."""
        return {f.oneof_index for f in self.proto.field if f.proto3_optional and f.HasField("oneof_index")}

    def same_context(self, other: MessageIdx) -> bool:
        """Whether everything outside the message's own descriptor that the rules read is the same."""
        return (self.features == other.features and self.file.syntax == other.file.syntax
                and self.file.edition == other.file.edition and self.file.package == other.file.package
                and self.file.java_string_check_utf8 == other.file.java_string_check_utf8)


class FieldIdx:
    """A message field or an extension."""

    __slots__ = ("proto", "file", "path", "message", "scope", "number", "name", "full_name", "features")

    def __init__(self, proto: descriptor_pb2.FieldDescriptorProto, file: FileIdx, path: Path,
                 message: MessageIdx | None, scope: MessageIdx | None) -> None:
        self.proto = proto
        self.file = file
        self.path = path
        self.message = message  # containing message for a regular field, None for an extension
        self.scope = scope  # message an extension is declared in, if any
        self.number: int = proto.number
        self.name: str = proto.name
        if message is not None:
            self.full_name = f"{message.full_name}.{proto.name}"
        elif scope is not None:
            self.full_name = f"{scope.full_name}.{proto.name}"
        else:
            self.full_name = f"{file.package}.{proto.name}" if file.package else proto.name
        owner = message if message is not None else scope
        container = owner.features if owner is not None else file.features
        self.features: feat.Features = (
            feat.merge(container, proto.options)
            if file.syntax == "editions" and proto.HasField("options") else container
        )

    @property
    def is_extension(self) -> bool:
        return self.message is None

    def span(self, *suffix: int) -> Span | None:
        return self.file.span(self.path + suffix)


class EnumIdx:
    __slots__ = ("proto", "file", "path", "full_name", "nested_name", "name", "parent", "features")

    def __init__(self, proto: descriptor_pb2.EnumDescriptorProto, file: FileIdx, path: Path,
                 parent: MessageIdx | None) -> None:
        self.proto = proto
        self.file = file
        self.path = path
        self.name: str = proto.name
        self.parent = parent
        self.nested_name = f"{parent.nested_name}.{proto.name}" if parent else proto.name
        self.full_name = f"{file.package}.{self.nested_name}" if file.package else self.nested_name
        container = parent.features if parent else file.features
        self.features: feat.Features = (
            feat.merge(container, proto.options)
            if file.syntax == "editions" and proto.HasField("options") else container
        )

    def span(self) -> Span | None:
        return self.file.span(self.path)

    @property
    def is_closed(self) -> bool:
        return self.features.enum_type == feat.ENUM_CLOSED

    def numbers_to_names(self) -> dict[int, list[str]]:
        result: dict[int, list[str]] = {}
        for value in self.proto.value:
            result.setdefault(value.number, []).append(value.name)
        return result


class ServiceIdx:
    __slots__ = ("proto", "file", "path", "full_name", "name", "methods")

    def __init__(self, proto: descriptor_pb2.ServiceDescriptorProto, file: FileIdx, path: Path) -> None:
        self.proto = proto
        self.file = file
        self.path = path
        self.name: str = proto.name
        self.full_name = f"{file.package}.{proto.name}" if file.package else proto.name
        self.methods: dict[str, tuple[int, descriptor_pb2.MethodDescriptorProto]] = {}
        for index, method in enumerate(proto.method):
            self.methods.setdefault(method.name, (index, method))

    def span(self) -> Span | None:
        return self.file.span(self.path)


class Index:
    """All elements of one version, keyed the way buf pairs old and new elements."""

    def __init__(self, fds: descriptor_pb2.FileDescriptorSet) -> None:
        self.files: dict[str, FileIdx] = {}
        self.messages: dict[str, MessageIdx] = {}
        self.enums: dict[str, EnumIdx] = {}
        self.services: dict[str, ServiceIdx] = {}
        # extendee full name (without leading dot) -> number -> extension
        self.extensions: dict[str, dict[int, FieldIdx]] = {}
        self.packages: dict[str, list[FileIdx]] = {}
        for proto in fds.file:
            if proto.name in self.files:
                continue
            file = FileIdx(proto)
            self.files[file.path] = file
            self.packages.setdefault(file.package, []).append(file)
            self._add_file(file)

    def _add_file(self, file: FileIdx) -> None:
        proto = file.proto
        for index, message in enumerate(proto.message_type):
            self._add_message(file, message, (FILE_MESSAGES, index), None)
        for index, enum in enumerate(proto.enum_type):
            self._add_enum(file, enum, (FILE_ENUMS, index), None)
        for index, extension in enumerate(proto.extension):
            self._add_extension(file, extension, (FILE_EXTENSIONS, index), None)
        for index, service_proto in enumerate(proto.service):
            service = ServiceIdx(service_proto, file, (FILE_SERVICES, index))
            file.services.append(service)
            self.services.setdefault(service.full_name, service)

    def _add_message(self, file: FileIdx, proto: descriptor_pb2.DescriptorProto, path: Path,
                     parent: MessageIdx | None) -> None:
        message = MessageIdx(proto, file, path, parent)
        file.messages.append(message)
        file.nested_messages.setdefault(message.nested_name, message)
        self.messages.setdefault(message.full_name, message)
        for index, nested in enumerate(proto.nested_type):
            self._add_message(file, nested, path + (MSG_NESTED, index), message)
        for index, enum in enumerate(proto.enum_type):
            self._add_enum(file, enum, path + (MSG_ENUMS, index), message)
        for index, extension in enumerate(proto.extension):
            self._add_extension(file, extension, path + (MSG_EXTENSIONS, index), message)

    def _add_enum(self, file: FileIdx, proto: descriptor_pb2.EnumDescriptorProto, path: Path,
                  parent: MessageIdx | None) -> None:
        enum = EnumIdx(proto, file, path, parent)
        file.enums.append(enum)
        file.nested_enums.setdefault(enum.nested_name, enum)
        self.enums.setdefault(enum.full_name, enum)

    def _add_extension(self, file: FileIdx, proto: descriptor_pb2.FieldDescriptorProto, path: Path,
                       scope: MessageIdx | None) -> None:
        extension = FieldIdx(proto, file, path, None, scope)
        file.extensions.append(extension)
        nested = f"{scope.nested_name}.{proto.name}" if scope else proto.name
        file.nested_extensions.setdefault(nested, extension)
        self.extensions.setdefault(proto.extendee.lstrip("."), {}).setdefault(proto.number, extension)

    # --- type helpers ---------------------------------------------------------------------------
    def message_of(self, field: FieldIdx) -> MessageIdx | None:
        """The message a message/group-typed field refers to."""
        if field.proto.type not in (TYPE_MESSAGE, TYPE_GROUP):
            return None
        return self.messages.get(field.proto.type_name.lstrip("."))

    def enum_of(self, field: FieldIdx) -> EnumIdx | None:
        if field.proto.type != TYPE_ENUM:
            return None
        return self.enums.get(field.proto.type_name.lstrip("."))

    def is_map(self, field: FieldIdx) -> bool:
        if field.proto.label != LABEL_REPEATED or field.proto.type != TYPE_MESSAGE:
            return False
        target = self.message_of(field)
        return target is not None and target.is_map_entry

    def kind(self, field: FieldIdx) -> int:
        """protoreflect.Kind: like the declared type, but DELIMITED message fields count as groups."""
        field_type = field.proto.type
        if (field_type == TYPE_MESSAGE and field.file.syntax == "editions"
                and field.features.message_encoding == feat.ENCODING_DELIMITED):
            if field.message is not None and field.message.is_map_entry:
                return field_type  # map keys and values are always length-prefixed
            target = self.message_of(field)
            if target is None or not target.is_map_entry:
                return TYPE_GROUP
        return field_type

    def kind_pretty(self, field: FieldIdx) -> str:
        kind = self.kind(field)
        if kind == TYPE_GROUP and field.file.syntax != "proto2":
            return "message (delimited encoding)"
        return KIND_NAMES.get(kind, str(kind))

    def is_required(self, field: FieldIdx) -> bool:
        if field.proto.label == LABEL_REQUIRED:
            return True
        return (field.file.syntax == "editions" and field.proto.label != LABEL_REPEATED
                and field.features.field_presence == feat.PRESENCE_LEGACY_REQUIRED)

    def has_presence(self, field: FieldIdx) -> bool:
        proto = field.proto
        if proto.label == LABEL_REPEATED:
            return False
        if field.is_extension or proto.HasField("oneof_index"):
            return True
        if proto.type in (TYPE_MESSAGE, TYPE_GROUP):
            return True
        if field.file.syntax == "proto3":
            return False
        return field.features.field_presence != feat.PRESENCE_IMPLICIT

    def cardinality(self, field: FieldIdx) -> str:
        if field.proto.label == LABEL_REPEATED:
            return "map" if self.is_map(field) else "repeated"
        if self.is_required(field):
            return "required"
        if self.has_presence(field):
            return "optional with explicit presence"
        return "optional with implicit presence"

