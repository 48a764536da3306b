"""API tokens for machines (CI): their text, their stored form, and the rules of a new one.

A token is `spk_` + 43 URL-safe characters (256 random bits). The prefix lets secret scanners find a
leaked one. Only its sha256 is stored: for a random 256-bit secret a fast hash is right (nobody can
guess the input, so a slow KDF like argon2 would only cost every request 64 MiB and tens of ms).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.text import bounded_text

TOKEN_PREFIX = "spk_"
_TOKEN = re.compile(r"^spk_[A-Za-z0-9_-]{43}$")
SCOPE_NAMES = ("read", "write", "admin")
MAX_TOKEN_NAME = 100
MAX_TOKENS_PER_USER = 50
DEFAULT_EXPIRY_DAYS = 90
LAST_USE_PRECISION_SECONDS = 60  # last_used_at is written at most once a minute per token


@dataclass(frozen=True)
class ApiToken:
    """A stored API token (never its secret): whose, where it acts, what it may do, until when."""

    id: str
    token_hash: str
    user_id: str
    email: str
    org_id: str
    org_slug: str
    name: str
    scopes: tuple[str, ...]
    created_at: str
    expires_at: str
    expires_at_epoch: int
    last_used_at: str | None = None
    last_used_epoch: int | None = None


@dataclass(frozen=True)
class TokenRequest:
    """What POST /auth/tokens asked for, checked."""

    name: str
    organization: str
    scopes: tuple[str, ...]
    expires_in_days: int


def new_token_text() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def looks_like_api_token(text: str) -> bool:
    """Whether a bearer is meant as an API token (its prefix): it is then never read as a JWT."""
    return text.startswith(TOKEN_PREFIX)


def is_well_formed(text: str) -> bool:
    return bool(_TOKEN.match(text))


def token_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_token_id() -> str:
    return f"tok-{secrets.token_hex(6)}"


def is_token_id(value: object) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(r"tok-[0-9a-f]{12}", value))


def token_request(body: dict[str, Any], max_days: int) -> TokenRequest:
    """Every field checked at once, so one answer lists every problem (400 VALIDATION_ERROR)."""
    problems: list[dict[str, str]] = []
    name = ""
    try:
        name = bounded_text("name", body.get("name"), MAX_TOKEN_NAME, single_line=True, required=True)
    except ValidationFailed as error:
        problems += error.validation_errors
    organization = body.get("organization")
    if not isinstance(organization, str) or not organization.strip() or len(organization) > 64:
        problems.append({"field": "organization", "code": "REQUIRED" if organization is None else "INVALID_FORMAT",
                         "message": "the id or slug of an organization you belong to, or 'default'"})
    scopes = body.get("scopes")
    if (not isinstance(scopes, list) or not scopes
            or any(not isinstance(s, str) or s not in SCOPE_NAMES for s in scopes)):
        problems.append({"field": "scopes", "code": "REQUIRED" if scopes is None else "INVALID_CHOICE",
                         "message": f"a non-empty list of {', '.join(SCOPE_NAMES)}"})
    days = body.get("expires_in_days", min(DEFAULT_EXPIRY_DAYS, max_days))
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= max_days:
        problems.append({"field": "expires_in_days", "code": "OUT_OF_RANGE",
                         "message": f"a whole number of days from 1 to {max_days} (default "
                                    f"{min(DEFAULT_EXPIRY_DAYS, max_days)})"})
    if problems:
        raise ValidationFailed("Invalid API token request: " + "; ".join(
            f"{p['field']} must be {p['message']}" for p in problems), validation_errors=problems)
    requested = scopes if isinstance(scopes, list) else []
    return TokenRequest(name=name, organization=str(organization).strip(),
                        scopes=tuple(s for s in SCOPE_NAMES if s in requested), expires_in_days=int(days))
