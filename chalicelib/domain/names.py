"""Naming rules for modules and organization slugs (documented in the README)."""
from __future__ import annotations

import re

from chalicelib.domain.errors import ValidationFailed

MODULE_NAME_RULE = "1-64 characters: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"
_MODULE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SLUG_RULE = "2-40 characters: lowercase letters, digits and '-', not starting or ending with '-', not 'default' nor 'org-...'"
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])$")
DEFAULT_ORG_SLUG = "default"


def _invalid(field: str, value: object, rule: str) -> ValidationFailed:
    return ValidationFailed(
        f"Invalid {field} '{value}': {rule}",
        validation_errors=[{"field": field, "message": rule, "code": "INVALID_FORMAT"}],
    )


def validate_module_name(name: object) -> str:
    if not isinstance(name, str) or not _MODULE_NAME.match(name) or ".." in name:
        raise _invalid("name", name, MODULE_NAME_RULE)
    return name


def validate_slug(slug: object) -> str:
    if (
        not isinstance(slug, str)
        or not _SLUG.match(slug)
        or slug == DEFAULT_ORG_SLUG
        or slug.startswith("org-")
    ):
        raise _invalid("slug", slug, SLUG_RULE)
    return slug
