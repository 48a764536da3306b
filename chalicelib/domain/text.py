"""Free text fields (descriptions, names): bounded, and free of control characters.

Every string a request stores has a documented maximum, checked before any write; control
characters (NUL above all) are refused because they break logs, terminals and other systems
that later show the text.
"""
from __future__ import annotations

import re
from typing import Any

from chalicelib.domain.errors import ValidationFailed

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def bounded_text(field: str, value: Any, max_length: int, single_line: bool = False, required: bool = False
                 ) -> str:
    """`value` stripped; None is "" unless required."""
    if value is None and not required:
        return ""
    rule = f"text of {'1' if required else '0'} to {max_length} characters" + (
        ", on one line" if single_line else "") + ", without control characters"
    problem = None
    text = value.strip() if isinstance(value, str) else ""
    if not isinstance(value, str):
        problem = "must be text"
    elif len(text) > max_length:
        problem = f"is {len(text)} characters long; at most {max_length} are allowed"
    elif required and not text:
        problem = "is required"
    elif (_CONTROL if single_line else _CONTROL_BUT_LINES).search(text):
        problem = "contains a control character"
    if problem:
        raise ValidationFailed(f"{field} {problem}", validation_errors=[
            {"field": field, "code": "INVALID_LENGTH" if "long" in problem else "INVALID_FORMAT", "message": rule}])
    return text
