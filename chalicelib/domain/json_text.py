"""Parsing JSON that strangers send: bounded depth, bounded numbers, text that is really text.

Python's parser recurses once per nesting level, turns long digit strings into Python's own error
text, accepts NaN and Infinity, and keeps lone UTF-16 surrogates that no store can encode later.
Each of those is refused here with a message a person understands, before anything else runs.
"""
from __future__ import annotations

import json
import math
from typing import Any

from chalicelib.domain.errors import InvalidJson

MAX_JSON_DEPTH = 32
MAX_JSON_NUMBER_DIGITS = 38  # DynamoDB's number precision


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_NUMBER_DIGITS:
        raise InvalidJson(f"A number in the body has more than {MAX_JSON_NUMBER_DIGITS} digits")
    return int(text)


def _real(text: str) -> float:
    if len(text) > MAX_JSON_NUMBER_DIGITS + 8:
        raise InvalidJson(f"A number in the body has more than {MAX_JSON_NUMBER_DIGITS} digits")
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJson(f"The number {text[:40]} is too large")
    return value


def _constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not valid JSON: numbers must be finite")


def _check_text(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidJson("The body holds a string with an unpaired UTF-16 surrogate (\\ud800-\\udfff): "
                          "send valid Unicode text") from None


def _check_shape(value: Any) -> None:
    """Depth and text of every value, without recursion (the value may be deep)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise InvalidJson(f"The body nests deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def parse_json(raw: bytes | str) -> Any:
    """The JSON value of `raw`, or InvalidJson saying what is wrong with it."""
    try:
        value = json.loads(raw, parse_int=_integer, parse_float=_real, parse_constant=_constant)
    except RecursionError:
        raise InvalidJson(f"The body nests deeper than {MAX_JSON_DEPTH} levels") from None
    except UnicodeDecodeError:
        raise InvalidJson("The body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InvalidJson(f"The body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
                          details={"line": error.lineno, "column": error.colno}) from None
    except ValueError:  # e.g. an unparsable number the hooks passed on
        raise InvalidJson("The body is not valid JSON: a value could not be read") from None
    _check_shape(value)
    return value
