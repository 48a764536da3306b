"""Resolution of protobuf "features" (editions), which decide presence, open/closed enums, UTF-8 and JSON rules.

proto2 and proto3 files cannot set features; their behaviour is a fixed set of defaults. Editions files
inherit features file -> enclosing messages -> element, each level overriding what it sets. Several breaking
rules compare resolved features rather than raw options, so this mirrors how protoc and buf resolve them.
"""
from __future__ import annotations

from typing import NamedTuple

from google.protobuf import descriptor_pb2

# FeatureSet enum values (google/protobuf/descriptor.proto).
PRESENCE_EXPLICIT, PRESENCE_IMPLICIT, PRESENCE_LEGACY_REQUIRED = 1, 2, 3
ENUM_OPEN, ENUM_CLOSED = 1, 2
UTF8_VERIFY, UTF8_NONE = 2, 3
ENCODING_LENGTH_PREFIXED, ENCODING_DELIMITED = 1, 2
JSON_ALLOW, JSON_LEGACY_BEST_EFFORT = 1, 2

UTF8_NAMES = {0: "UTF8_VALIDATION_UNKNOWN", UTF8_VERIFY: "VERIFY", UTF8_NONE: "NONE"}
JSON_FORMAT_NAMES = {0: "JSON_FORMAT_UNKNOWN", JSON_ALLOW: "ALLOW", JSON_LEGACY_BEST_EFFORT: "LEGACY_BEST_EFFORT"}

# (pb.cpp) and (pb.java) custom features live in FeatureSet extensions 1000 and 1001.
CPP_FEATURES_NUMBER = 1000
JAVA_FEATURES_NUMBER = 1001
CPP_STRING_TYPE_FIELD = 2  # pb.CppFeatures.string_type
JAVA_UTF8_VALIDATION_FIELD = 2  # pb.JavaFeatures.utf8_validation
CPP_STRING_TYPE_NAMES = {0: "STRING_TYPE_UNKNOWN", 1: "VIEW", 2: "CORD", 3: "STRING"}
CPP_STRING_VIEW, CPP_STRING_CORD, CPP_STRING_STRING = 1, 2, 3
JAVA_UTF8_DEFAULT, JAVA_UTF8_VERIFY = 1, 2

EDITION_PROTO2 = descriptor_pb2.EDITION_PROTO2
EDITION_PROTO3 = descriptor_pb2.EDITION_PROTO3
EDITION_2023 = descriptor_pb2.EDITION_2023
EDITION_2024 = descriptor_pb2.EDITION_2024

_FEATURE_FIELDS = (
    "field_presence",
    "enum_type",
    "repeated_field_encoding",
    "utf8_validation",
    "message_encoding",
    "json_format",
)


class Features(NamedTuple):
    """The resolved standard features plus the two custom ones the breaking rules read."""

    field_presence: int
    enum_type: int
    repeated_field_encoding: int
    utf8_validation: int
    message_encoding: int
    json_format: int
    cpp_string_type: int
    java_utf8_validation: int


PROTO2_DEFAULTS = Features(PRESENCE_EXPLICIT, ENUM_CLOSED, 2, UTF8_NONE, ENCODING_LENGTH_PREFIXED,
                           JSON_LEGACY_BEST_EFFORT, CPP_STRING_STRING, JAVA_UTF8_DEFAULT)
PROTO3_DEFAULTS = Features(PRESENCE_IMPLICIT, ENUM_OPEN, 1, UTF8_VERIFY, ENCODING_LENGTH_PREFIXED,
                           JSON_ALLOW, CPP_STRING_STRING, JAVA_UTF8_DEFAULT)
EDITION_2023_DEFAULTS = Features(PRESENCE_EXPLICIT, ENUM_OPEN, 1, UTF8_VERIFY, ENCODING_LENGTH_PREFIXED,
                                 JSON_ALLOW, CPP_STRING_STRING, JAVA_UTF8_DEFAULT)
EDITION_2024_DEFAULTS = EDITION_2023_DEFAULTS._replace(cpp_string_type=CPP_STRING_VIEW)


def edition_defaults(syntax: str, edition: int) -> Features:
    """Defaults for a file: proto2/proto3 by syntax, editions by edition number."""
    if syntax == "proto3":
        return PROTO3_DEFAULTS
    if syntax == "editions":
        return EDITION_2024_DEFAULTS if edition >= EDITION_2024 else EDITION_2023_DEFAULTS
    return PROTO2_DEFAULTS


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _varint_field(data: bytes, wanted: int) -> int | None:
    """Last value of varint field `wanted` in an encoded message (enough for the custom feature messages)."""
    pos, found = 0, None
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = _read_varint(data, pos)
            if number == wanted:
                found = value
        elif wire_type == 2:
            length, pos = _read_varint(data, pos)
            pos += length
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        else:  # groups do not appear in feature messages
            break
    return found


def _custom_feature(features: descriptor_pb2.FeatureSet, extension_number: int, field: int) -> int | None:
    """Custom features are unknown fields to the Python runtime; decode the few bytes by hand."""
    from google.protobuf import unknown_fields

    value = None
    unknowns = unknown_fields.UnknownFieldSet(features)
    for unknown in (unknowns[index] for index in range(len(unknowns))):  # indexable, not declared iterable
        if unknown.field_number == extension_number and unknown.wire_type == 2:
            data = unknown.data
            if not isinstance(data, (bytes, bytearray)):
                continue
            found = _varint_field(bytes(data), field)
            if found is not None:
                value = found
    return value


def merge(parent: Features, options: object) -> Features:
    """Apply the `features` of an options message (if any) on top of the parent's resolved features."""
    if options is None or not options.HasField("features"):  # type: ignore[attr-defined]
        return parent
    own = options.features  # type: ignore[attr-defined]
    values = list(parent)
    for index, name in enumerate(_FEATURE_FIELDS):
        if own.HasField(name):
            values[index] = getattr(own, name)
    cpp = _custom_feature(own, CPP_FEATURES_NUMBER, CPP_STRING_TYPE_FIELD)
    if cpp is not None:
        values[6] = cpp
    java = _custom_feature(own, JAVA_FEATURES_NUMBER, JAVA_UTF8_VALIDATION_FIELD)
    if java is not None:
        values[7] = java
    return Features(*values)
