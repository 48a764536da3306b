"""Formatting helpers so our messages read exactly like buf's (which uses Go's %q and %v)."""
from __future__ import annotations

import math
import struct

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
            "\\": "\\\\", '"': '\\"'}


def q(value: object) -> str:
    """Go's %q for a string: double-quoted with Go escapes; printable Unicode stays as is."""
    out = ['"']
    for char in str(value):
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable() or char == " ":
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def join_quoted(values: list[str]) -> str:
    """buf's stringutil.JoinSliceQuoted(values, ", ")."""
    return ", ".join(q(value) for value in values)


def to_float32(value: float) -> float:
    """Round a Python float to the nearest float32 (as Go's float32 conversion does)."""
    try:
        return float(struct.unpack("<f", struct.pack("<f", value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


def _shortest_digits(value: float, bits: int) -> str:
    """Shortest %e-style repr that round-trips at the given precision."""
    if bits == 64:
        return repr(value)
    for precision in range(1, 10):
        text = f"{value:.{precision}g}"
        if to_float32(float(text)) == value:
            return text
    return f"{value:.9g}"


def go_float(value: float, bits: int = 64) -> str:
    """Go's %v for float32/float64: shortest digits, %e form when the exponent is < -4 or >= 6."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = _shortest_digits(value, bits)
    # Normalise to mantissa digits and decimal exponent.
    sign = "-" if text.startswith("-") else ""
    text = text.lstrip("-")
    if "e" in text or "E" in text:
        mantissa, exp_text = text.lower().split("e")
        exponent = int(exp_text)
    else:
        mantissa, exponent = text, 0
    if "." in mantissa:
        int_part, frac_part = mantissa.split(".")
    else:
        int_part, frac_part = mantissa, ""
    digits = (int_part + frac_part).lstrip("0")
    if not digits:
        return sign + "0"
    # position of the decimal point relative to the digit string
    leading_zeros = len(int_part + frac_part) - len((int_part + frac_part).lstrip("0"))
    point = len(int_part) + exponent - leading_zeros
    digits = digits.rstrip("0") or "0"
    exp10 = point - 1
    if exp10 < -4 or exp10 >= 6:
        rest = digits[1:]
        mantissa_text = digits[0] + ("." + rest if rest else "")
        exp_sign = "-" if exp10 < 0 else "+"
        return f"{sign}{mantissa_text}e{exp_sign}{abs(exp10):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * (-point)}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


_GO_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def go_json(value: object) -> str:
    """Compact JSON as Go's encoding/json writes it (buf's output): HTML characters are \\u-escaped."""
    import json

    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in _GO_JSON_ESCAPES.items():
        text = text.replace(char, escaped)
    return text
