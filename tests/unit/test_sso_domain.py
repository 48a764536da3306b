"""SSO rules, pure: settings, issuer and endpoint URLs, discovery documents, identities."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import InvalidSsoConfig, SsoLoginFailed, ValidationFailed
from chalicelib.domain.roles import Role
from chalicelib.domain.sso import (
    LoginState,
    ProviderMetadata,
    authorization_url,
    discovery_url,
    provider_metadata,
    settings_input,
    signs_in_by_sso,
    sso_password_hash,
    url_refusal,
    verified_email,
)

ISSUER = "https://idp.example.com"
BODY = {"issuer": ISSUER, "client_id": "spoke", "client_secret": "s3cret-value-1234",
        "allowed_domains": ["Example.COM", "@corp.example.org", "example.com"], "default_role": "viewer"}


def discovery(**overrides: object) -> dict[str, object]:
    return {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize", "token_endpoint": f"{ISSUER}/token",
            "jwks_uri": f"{ISSUER}/jwks", "response_types_supported": ["code"], **overrides}


def test_settings_are_normalised() -> None:
    wanted = settings_input(BODY, allow_http=False)
    assert wanted.allowed_domains == ("example.com", "corp.example.org")
    assert wanted.default_role is Role.VIEWER


@pytest.mark.parametrize(("change", "field"), [
    ({"client_id": ""}, "client_id"),
    ({"client_secret": "short"}, "client_secret"),
    ({"allowed_domains": []}, "allowed_domains"),
    ({"allowed_domains": ["not a domain"]}, "allowed_domains"),
    ({"allowed_domains": "example.com"}, "allowed_domains"),
    ({"default_role": "owner"}, "default_role"),
    ({"issuer": None}, "issuer"),
])
def test_bad_settings_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        settings_input({**BODY, **change}, allow_http=False)
    assert refused.value.validation_errors[0]["field"] == field


@pytest.mark.parametrize(("url", "allow_http", "refused"), [
    ("https://idp.example.com", False, None),
    ("https://idp.example.com/tenant/v2.0", False, None),
    ("http://idp.example.com", False, "https"),
    ("http://idp.example.com", True, "loopback"),   # http only on loopback, even when allowed
    ("http://127.0.0.1:9000", True, None),
    ("http://localhost:9000", True, None),
    ("http://127.0.0.1:9000", False, "https"),
    ("https://user:pw@idp.example.com", False, "credentials"),
    ("https://idp.example.com/#x", False, "fragment"),
    ("https://", False, "no host"),
    ("https://idp.example.com:99999", False, "not a valid URL"),
])
def test_which_urls_may_be_used(url: str, allow_http: bool, refused: str | None) -> None:
    reason = url_refusal(url, allow_http)
    assert (reason is None) if refused is None else (reason is not None and refused in reason)


def test_an_issuer_url_that_is_refused_is_invalid_sso_config() -> None:
    with pytest.raises(InvalidSsoConfig, match="https"):
        settings_input({**BODY, "issuer": "http://idp.example.com"}, allow_http=False)


def test_discovery_url_appends_the_well_known_path() -> None:
    assert discovery_url("https://idp.example.com/tenant/") == \
        "https://idp.example.com/tenant/.well-known/openid-configuration"


def test_a_complete_discovery_document_gives_the_endpoints() -> None:
    provider = provider_metadata(ISSUER, discovery(token_endpoint_auth_methods_supported=["client_secret_post"]),
                                 allow_http=False)
    assert (provider.token_endpoint, provider.jwks_uri, provider.token_auth_method) == (
        f"{ISSUER}/token", f"{ISSUER}/jwks", "client_secret_post")
    assert provider_metadata(ISSUER, discovery(), False).token_auth_method == "client_secret_basic"


@pytest.mark.parametrize(("document", "reason"), [
    (discovery(issuer=ISSUER + "/"), "match exactly"),
    (discovery(jwks_uri=None), "no jwks_uri"),
    (discovery(token_endpoint="http://idp.example.com/token"), "token_endpoint is refused"),
    (discovery(response_types_supported=["token"]), "response_types_supported"),
    (discovery(code_challenge_methods_supported=["plain"]), "S256"),
    (discovery(token_endpoint_auth_methods_supported=["private_key_jwt"]), "client_secret"),
    (["not", "an", "object"], "not a JSON object"),
])
def test_a_discovery_document_that_does_not_hold_is_refused(document: object, reason: str) -> None:
    with pytest.raises(InvalidSsoConfig, match=reason):
        provider_metadata(ISSUER, document, allow_http=False)


def test_the_authorization_url_keeps_the_endpoints_own_query() -> None:
    provider = ProviderMetadata(ISSUER, f"{ISSUER}/authorize?tenant=1", f"{ISSUER}/token", f"{ISSUER}/jwks",
                                "client_secret_basic")
    login = LoginState("st", "org-1", "no", "verifier", "http://127.0.0.1:1/cb", 0)
    url = authorization_url(provider, "spoke", login, "challenge")
    assert url.startswith(f"{ISSUER}/authorize?tenant=1&response_type=code&")
    assert "code_challenge=challenge&code_challenge_method=S256" in url


def test_an_email_is_accepted_only_verified_and_in_an_allowed_domain() -> None:
    assert verified_email({"email": "Alice@Example.com"}, ("example.com",)) == "alice@example.com"
    assert verified_email({"email": "a@example.com", "email_verified": True}, ("example.com",)) == "a@example.com"
    for claims in ({"email": "a@example.com", "email_verified": False}, {"email": "a@sub.example.com"},
                   {"email": "a@example.com.evil.org"}, {}, {"email": 42}):
        with pytest.raises(SsoLoginFailed):
            verified_email(claims, ("example.com",))


def test_only_the_organization_whose_sso_created_an_account_signs_it_in() -> None:
    assert signs_in_by_sso(sso_password_hash("org-1"), "org-1")
    assert not signs_in_by_sso(sso_password_hash("org-2"), "org-1")
    assert not signs_in_by_sso("$argon2id$v=19$...", "org-1")
