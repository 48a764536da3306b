"""Single sign-on with OpenID Connect, pure: what an organization's SSO settings may be, what an issuer's
discovery document must say, which URLs may be contacted, and whose identity may sign in.

Nothing here does I/O. The OIDC adapter fetches and verifies; the service decides with these rules, so
configuration and login apply one and the same judgement.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from chalicelib.domain.errors import InvalidSsoConfig, SsoLoginFailed, ValidationFailed
from chalicelib.domain.roles import Role

MAX_URL_LENGTH = 2048
MAX_CLIENT_ID_LENGTH = 255
MIN_SECRET_LENGTH = 8
MAX_SECRET_LENGTH = 1024        # SSM standard parameters hold 4 KB; no real secret comes near this
MAX_DOMAINS = 50
MAX_DOMAIN_LENGTH = 253
SCOPES = "openid email profile"
# Roles a first SSO login may be given: never owner (owners are named by owners).
PROVISIONED_ROLES = (Role.VIEWER, Role.DEVELOPER, Role.ADMIN)
# The signature algorithms an ID token may use: asymmetric only (HS256 would sign with the client secret).
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
# What the login's stored password hash is: not an argon2 hash, so no password ever verifies against it;
# it names the organization whose SSO created the account (only that organization's SSO signs it in).
SSO_HASH_PREFIX = "!sso:"

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True)
class SsoSettingsInput:
    """What an admin sends to configure SSO, checked (the client secret goes to SSM, never the table)."""
    issuer: str
    client_id: str
    client_secret: str
    allowed_domains: tuple[str, ...]
    default_role: Role


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of an issuer's discovery document a login uses."""
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_method: str          # "client_secret_basic" or "client_secret_post"


@dataclass(frozen=True)
class SsoConfig:
    """An organization's SSO settings as stored (without the client secret)."""
    org_id: str
    issuer: str
    client_id: str
    allowed_domains: tuple[str, ...]
    default_role: Role
    provider: ProviderMetadata
    updated_at: str
    updated_by: str


@dataclass(frozen=True)
class LoginState:
    """A login in progress, from /start until its one callback (or `expires_at`, Unix seconds)."""
    state: str
    org_id: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    expires_at: int


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field} {message}", validation_errors=[
        {"field": field, "code": "INVALID_VALUE", "message": message}])


def settings_input(body: dict[str, Any], allow_http: bool) -> SsoSettingsInput:
    """The request body of PUT /organizations/{id}/sso, or a 400 naming each wrong field."""
    issuer = body.get("issuer")
    if not isinstance(issuer, str) or not issuer.strip():
        raise _invalid("issuer", "is required: the issuer URL, e.g. https://accounts.example.com")
    issuer = issuer.strip()
    refusal = url_refusal(issuer, allow_http)
    if refusal:
        raise InvalidSsoConfig(f"issuer refused: {refusal}", details={"field": "issuer", "reason": refusal})
    client_id = body.get("client_id")
    if not isinstance(client_id, str) or not 1 <= len(client_id.strip()) <= MAX_CLIENT_ID_LENGTH \
            or any(ord(c) < 32 for c in client_id):
        raise _invalid("client_id", f"must be the client id the issuer gave you, 1 to {MAX_CLIENT_ID_LENGTH} "
                                    "characters")
    secret = body.get("client_secret")
    if not isinstance(secret, str) or not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        raise _invalid("client_secret", f"must be the client secret the issuer gave you, {MIN_SECRET_LENGTH} to "
                                        f"{MAX_SECRET_LENGTH} characters")
    return SsoSettingsInput(issuer=issuer, client_id=client_id.strip(), client_secret=secret,
                            allowed_domains=allowed_domains(body.get("allowed_domains")),
                            default_role=default_role(body.get("default_role", Role.DEVELOPER.value)))


def allowed_domains(value: Any) -> tuple[str, ...]:
    """Lower-cased email domains (`example.com`): whose addresses may sign in."""
    if not isinstance(value, list) or not value or len(value) > MAX_DOMAINS:
        raise _invalid("allowed_domains", f"must be a list of 1 to {MAX_DOMAINS} email domains, e.g. [\"example.com\"]")
    domains: list[str] = []
    for entry in value:
        domain = entry.strip().lower().lstrip("@") if isinstance(entry, str) else ""
        if not _DOMAIN.match(domain):
            raise _invalid("allowed_domains", f"holds {str(entry)[:80]!r}, which is not an email domain like "
                                              "example.com")
        if domain not in domains:
            domains.append(domain)
    return tuple(domains)


def default_role(value: Any) -> Role:
    names = ", ".join(r.value for r in PROVISIONED_ROLES)
    if not isinstance(value, str) or value not in {r.value for r in PROVISIONED_ROLES}:
        raise _invalid("default_role", f"must be one of {names} (owners are added by owners)")
    return Role(value)


def url_refusal(url: str, allow_http: bool) -> str | None:
    """Why an issuer or endpoint URL may not be used, or None. https only; http only on a loopback host
    and only where configuration allows it (a local stage, the tests' own issuer). Where the host's
    addresses point is judged at connect time by the adapter (the webhooks' address rule)."""
    if len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        return f"at most {MAX_URL_LENGTH} characters, without spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return "not a valid URL"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username is not None or parts.password is not None:
        return "credentials in the URL are not allowed"
    if parts.fragment:
        return "the URL must not have a fragment"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and allow_http and is_loopback_host(parts.hostname):
        return None
    return "must be an https URL" + (" (http only on a loopback host)" if allow_http else "")


def is_loopback_host(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def discovery_url(issuer: str) -> str:
    """OpenID Connect Discovery 1.0 section 4: the issuer with `/.well-known/openid-configuration` appended."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def provider_metadata(issuer: str, document: Any, allow_http: bool) -> ProviderMetadata:
    """The discovery document's endpoints, if it is the issuer's own (exact `issuer`) and complete."""
    if not isinstance(document, dict):
        raise _bad_discovery(issuer, "the discovery document is not a JSON object")
    if document.get("issuer") != issuer:
        raise _bad_discovery(issuer, f"the discovery document names issuer {str(document.get('issuer'))[:200]!r}, "
                                     "not the one configured (they must match exactly, trailing slash included)")
    endpoints: dict[str, str] = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not value:
            raise _bad_discovery(issuer, f"the discovery document has no {name}")
        refusal = url_refusal(value, allow_http)
        if refusal:
            raise _bad_discovery(issuer, f"its {name} is refused: {refusal}")
        endpoints[name] = value
    _require_listed(issuer, document, "response_types_supported", "code")
    _require_listed(issuer, document, "code_challenge_methods_supported", "S256")
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" in methods:
        auth = "client_secret_basic"
    elif "client_secret_post" in methods:
        auth = "client_secret_post"
    else:
        raise _bad_discovery(issuer, "its token endpoint accepts neither client_secret_basic nor client_secret_post")
    return ProviderMetadata(issuer=issuer, token_auth_method=auth, **endpoints)


def _require_listed(issuer: str, document: dict[str, Any], field: str, needed: str) -> None:
    """Optional discovery fields: when present, they must allow what this login uses."""
    listed = document.get(field)
    if listed is not None and (not isinstance(listed, list) or needed not in listed):
        raise _bad_discovery(issuer, f"its {field} does not include {needed!r}")


def _bad_discovery(issuer: str, reason: str) -> InvalidSsoConfig:
    return InvalidSsoConfig(f"The issuer's OpenID configuration was refused: {reason}",
                            details={"issuer": issuer, "reason": reason})


def redirect_uri(value: Any) -> str:
    """Where the issuer sends the browser back: the client's own callback (an http(s) URL)."""
    if not isinstance(value, str) or not value.strip():
        raise _invalid("redirect_uri", "is required: your callback URL, e.g. http://127.0.0.1:8765/callback")
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment
            or len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url)):
        raise _invalid("redirect_uri", f"must be an http(s) URL without a fragment, at most {MAX_URL_LENGTH} "
                                       "characters")
    return url


def authorization_url(provider: ProviderMetadata, client_id: str, login: LoginState, code_challenge: str) -> str:
    """The issuer's authorization endpoint with the authorization-code + PKCE (S256) request."""
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": login.redirect_uri,
                       "scope": SCOPES, "state": login.state, "nonce": login.nonce,
                       "code_challenge": code_challenge, "code_challenge_method": "S256"})
    separator = "&" if urlsplit(provider.authorization_endpoint).query else "?"
    return f"{provider.authorization_endpoint}{separator}{query}"


def verified_email(claims: dict[str, Any], domains: tuple[str, ...]) -> str:
    """The ID token's email, if the issuer vouches for it and its domain is one the organization allows."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        raise SsoLoginFailed("SSO login failed: the ID token carries no email address (ask for the 'email' scope)")
    if claims.get("email_verified") is False:
        raise SsoLoginFailed("SSO login failed: the identity provider has not verified this email address")
    email = email.strip().lower()
    domain = email.rsplit("@", 1)[1]
    if domain not in domains:
        raise SsoLoginFailed(f"SSO login failed: '{domain}' is not one of this organization's allowed email domains",
                             details={"domain": domain})
    return email


def sso_password_hash(org_id: str) -> str:
    return f"{SSO_HASH_PREFIX}{org_id}"


def signs_in_by_sso(password_hash: str, org_id: str) -> bool:
    """Whether an existing account may be signed in by this organization's SSO: only one that this
    organization's SSO created. An organization's admins choose the issuer, so an issuer's word that
    someone owns an address cannot take over an account that signs in with a password, or one that
    another organization's SSO created."""
    return password_hash == sso_password_hash(org_id)
