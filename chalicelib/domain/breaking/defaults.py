"""Field default values for FIELD_SAME_DEFAULT: parse, compare leniently across types, print like buf."""
from __future__ import annotations

import codecs
import math
from typing import NamedTuple

from .index import TYPE_BYTES, TYPE_ENUM, TYPE_GROUP, TYPE_MESSAGE, TYPE_STRING, FieldIdx, Index
from .text import go_float, q, to_float32

TYPE_DOUBLE, TYPE_FLOAT, TYPE_BOOL = 1, 2, 8
Value = str | int | float | bool


class Default(NamedTuple):
    value: Value  # bytes and strings are compared as str (bytes via latin-1), like buf's Go strings
    kind: str  # "string", "float32", "float64", "bool", "int"
    printable: str

    def is_zero(self) -> bool:
        if self.kind == "string":
            return self.value == ""
        if self.kind in ("float32", "float64"):
            number = float(self.value)
            return number == 0 and math.copysign(1.0, number) > 0  # Go's IsZero: -0.0 is not zero
        return not self.value


def can_have_default(index: Index, field: FieldIdx) -> bool:
    """Only singular scalar and enum fields have defaults."""
    return field.proto.label != 3 and index.kind(field) not in (TYPE_MESSAGE, TYPE_GROUP)


def _parse_float(text: str) -> float:
    lowered = text.lower()
    if lowered in ("inf", "+inf", "infinity"):
        return math.inf
    if lowered in ("-inf", "-infinity"):
        return -math.inf
    if lowered in ("nan", "-nan"):
        return math.nan
    return float(text)


def get_default(index: Index, field: FieldIdx) -> Default:
    proto = field.proto
    field_type = proto.type
    has = proto.HasField("default_value")
    text = proto.default_value
    if field_type == TYPE_BYTES:
        data = codecs.escape_decode(text.encode("latin-1", "backslashreplace"))[0] if has else b""
        assert isinstance(data, bytes)
        return Default(data.decode("latin-1"), "string", "[" + ",".join(f"0x{b:X}" for b in data) + "]")
    if field_type == TYPE_STRING:
        value = text if has else ""
        return Default(value, "string", q(value))
    if field_type == TYPE_ENUM:
        enum = index.enum_of(field)
        number: int | None = None
        if enum is not None:
            if has:
                number = next((v.number for v in enum.proto.value if v.name == text), None)
            elif enum.proto.value:
                number = enum.proto.value[0].number
        number = number or 0
        name = next((v.name for v in enum.proto.value if v.number == number), None) if enum else None
        enum_name = enum.name if enum else proto.type_name.rsplit(".", 1)[-1]
        printable = f"{enum_name}.{name}" if name is not None else f"{enum_name}.{number}(?)"
        return Default(number, "int", printable)
    if field_type == TYPE_BOOL:
        flag = has and text == "true"
        return Default(flag, "bool", "true" if flag else "false")
    if field_type == TYPE_DOUBLE:
        number_f = _parse_float(text) if has else 0.0
        return Default(number_f, "float64", go_float(number_f, 64))
    if field_type == TYPE_FLOAT:
        number_f = to_float32(_parse_float(text)) if has else 0.0
        return Default(number_f, "float32", go_float(number_f, 32))
    number_i = int(text) if has else 0
    return Default(number_i, "int", str(number_i))


def defaults_equal(previous: Default, current: Default) -> bool:
    """Strings compare with strings only; numbers (bool and enum included) compare by exact value."""
    if previous.kind == "string" or current.kind == "string":
        return previous.kind == current.kind and previous.value == current.value
    if {previous.kind, current.kind} == {"float32", "float64"}:
        a, b = float(previous.value), float(current.value)
        if math.isnan(a) and math.isnan(b):
            return True
        return to_float32(a) == to_float32(b)
    a_nan = isinstance(previous.value, float) and math.isnan(previous.value)
    b_nan = isinstance(current.value, float) and math.isnan(current.value)
    if a_nan or b_nan:
        return a_nan and b_nan
    return previous.value == current.value  # Python compares int, float and bool by exact value
