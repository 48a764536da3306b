"""Naming rules for modules and organization slugs (documented in the README)."""
from __future__ import annotations

import re
from typing import TypeGuard

from chalicelib.domain.errors import ValidationFailed

MODULE_NAME_RULE = "1-64 characters: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"
_MODULE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SLUG_RULE = ("2-40 characters: lowercase letters, digits and '-', not starting or ending with '-', "
             "not 'default' nor 'org-...'")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])$")
DEFAULT_ORG_SLUG = "default"
DEFAULT_ORG_ID = "default"  # the shared organization's id is its slug


def _invalid(field: str, value: object, rule: str) -> ValidationFailed:
    return ValidationFailed(
        f"Invalid {field} '{shown(value) if isinstance(value, str) else value!r:.64}': {rule}",
        validation_errors=[{"field": field, "message": rule, "code": "INVALID_FORMAT"}],
    )


def validate_module_name(name: object) -> str:
    if not is_module_name(name):
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


_ORG_ID = re.compile(r"^org-[0-9a-f]{12}$")
_USER_ID = re.compile(r"^user-[0-9a-f]{12}$")
MAX_REF_SHOWN = 64


def shown(text: str) -> str:
    """Text echoed in an error message: bounded, so a hostile name cannot inflate the response."""
    return text if len(text) <= MAX_REF_SHOWN else text[:MAX_REF_SHOWN] + "..."


def is_module_name(name: object) -> TypeGuard[str]:
    return isinstance(name, str) and bool(_MODULE_NAME.match(name)) and ".." not in name


def is_org_ref(ref: str) -> bool:
    """An organization id (`org-` + 12 hex) or a slug: anything else names no organization."""
    return bool(_ORG_ID.match(ref) or _SLUG.match(ref.lower()))


def is_user_id(user_id: str) -> bool:
    return bool(_USER_ID.match(user_id))
