"""CORS: the allow-list of browser origins (SPOKE_CORS_ALLOWED_ORIGINS), preflights on every route."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib import wiring
from tests.integration.api import Api, Reply

UI = "https://ui.example.com"
PREFLIGHT = {"Origin": UI, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type, x-organization-id"}


def cors_headers(reply: Reply) -> dict[str, str]:
    return {k: v for k, v in reply.headers.items() if k.lower().startswith("access-control-")}


def vary(reply: Reply) -> set[str]:
    return {part.strip().lower() for part in reply.headers.get("Vary", "").split(",")}


@pytest.fixture
def allowed(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """Given a deployment that allows the UI's origin and a local dev server's."""
    monkeypatch.setenv("SPOKE_CORS_ALLOWED_ORIGINS", f"{UI},http://localhost:3000")
    monkeypatch.setenv("SPOKE_CORS_MAX_AGE_SECONDS", "900")
    wiring.reset()
    yield api


def test_without_an_allow_list_no_cors_header_is_sent(api: Api) -> None:
    for reply in (api.get("/modules", headers={"Origin": UI}),
                  api.call("OPTIONS", "/modules", headers=PREFLIGHT)):
        assert cors_headers(reply) == {} and "origin" not in vary(reply)
    # The preflight still answers (204, the route's methods), so the browser's refusal is CORS's, not a 404
    assert api.call("OPTIONS", "/modules", headers=PREFLIGHT).status == 204


def test_an_allowed_origin_may_read_the_response_and_its_headers(allowed: Api) -> None:
    reply = allowed.get("/modules", headers={"Origin": UI})
    assert reply.status == 200 and reply.headers["Access-Control-Allow-Origin"] == UI
    exposed = {h.strip() for h in reply.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After",
            "ETag", "X-Checksum-SHA256", "X-Spoke-Version", "Location"} <= exposed
    assert "Access-Control-Allow-Credentials" not in reply.headers  # bearer tokens, never cookies
    assert {"origin", "authorization", "x-organization-id"} <= vary(reply)


def test_an_origin_not_on_the_list_gets_no_cors_header(allowed: Api) -> None:
    for origin in ("https://evil.example.com", "https://ui.example.com.evil.io", "http://ui.example.com", "null"):
        reply = allowed.get("/modules", headers={"Origin": origin})
        assert reply.status == 200 and cors_headers(reply) == {}, origin
        assert "origin" in vary(reply)  # a cache must not hand the allowed origin's answer to this one
        preflight = allowed.call("OPTIONS", "/modules", headers={**PREFLIGHT, "Origin": origin})
        assert preflight.status == 204 and cors_headers(preflight) == {}, origin


def test_a_preflight_names_the_routes_methods_and_the_headers_a_client_sends(allowed: Api) -> None:
    reply = allowed.call("OPTIONS", "/modules/user/versions", headers=PREFLIGHT)
    assert reply.status == 204 and not reply.raw
    assert reply.headers["Access-Control-Allow-Origin"] == UI
    assert reply.headers["Access-Control-Allow-Methods"] == "GET, OPTIONS, POST"
    allowed_headers = {h.strip().lower() for h in reply.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-organization-id", "x-request-id", "if-none-match"} <= allowed_headers
    assert reply.headers["Access-Control-Max-Age"] == "900"
    # A file route (any depth) allows what it serves
    files = allowed.call("OPTIONS", "/modules/user/versions/v1.0.0/files/a/b/c.proto",
                         headers={**PREFLIGHT, "Access-Control-Request-Method": "GET"})
    assert files.status == 204 and files.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"


def test_preflights_are_not_rate_counted(allowed: Api) -> None:
    first = allowed.get("/modules", headers={"Origin": UI})
    for _ in range(3):
        preflight = allowed.call("OPTIONS", "/modules", headers=PREFLIGHT)
        assert preflight.status == 204 and "X-RateLimit-Remaining" not in preflight.headers
    after = allowed.get("/modules", headers={"Origin": UI})
    assert int(after.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1


def test_errors_carry_cors_headers_so_the_browser_can_show_them(allowed: Api) -> None:
    for reply in (allowed.get("/modules", headers={"Origin": UI, "Authorization": "Bearer not-a-token"}),
                  allowed.get("/modules/nothing-here", headers={"Origin": UI}),
                  allowed.call("PATCH", "/health", body={}, headers={"Origin": UI})):
        assert reply.status in (401, 404, 405) and reply.body["error"]["code"]
        assert reply.headers["Access-Control-Allow-Origin"] == UI and reply.headers["X-Request-ID"]


def test_a_star_allows_every_origin_without_credentials(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOKE_CORS_ALLOWED_ORIGINS", "*")
    wiring.reset()
    reply = api.get("/modules", headers={"Origin": "https://anyone.example"})
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in reply.headers


def test_every_route_answers_a_preflight() -> None:
    from app import app

    missing = [path for path, methods in app.routes.items() if "OPTIONS" not in methods]
    assert missing == [] and len(app.routes) > 20
