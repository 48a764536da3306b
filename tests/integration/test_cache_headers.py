"""Who may keep each kind of response (api/caching.py and the file view's own Cache-Control).

Every response varies on the bearer and on X-Organization-ID; only a file of the default organization is
`public`; a named organization's files are `private`; everything else, and every error, is `no-store`.
"""
from __future__ import annotations

import json

import pytest

from chalicelib import wiring
from tests.integration.api import Api, Reply

FILE = "user.proto"
PINNED = "public, max-age=31536000, immutable"


def vary(reply: Reply) -> set[str]:
    return {part.strip().lower() for part in reply.headers.get("Vary", "").split(",") if part.strip()}


def assert_varies_on_caller(reply: Reply) -> None:
    assert {"authorization", "x-organization-id"} <= vary(reply), reply.headers
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def assert_not_stored(reply: Reply) -> None:
    assert reply.headers.get("Cache-Control") == "no-store", (reply.status, reply.headers)
    assert_varies_on_caller(reply)


@pytest.fixture
def token(api: Api) -> str:
    """Given a user with module `user` v1.0.0 in the default organization and in organization `acme`."""
    token, _ = api.signed_up()
    assert api.post("/organizations", {"name": "Acme", "slug": "acme"}, token=token).status == 201
    for org in (None, "acme"):
        api.module(token, "user", org=org)
        assert api.publish(token, "user", "v1.0.0", org=org).status == 201
    return token


def test_json_envelopes_are_not_stored(api: Api, token: str) -> None:
    for reply in (api.get("/modules"), api.get("/modules/user", token=token, org="acme"),
                  api.get("/modules/user/versions/latest"), api.get("/health"), api.get("/languages"),
                  api.post("/modules", {"name": "other"}, token=token)):
        assert reply.status < 400, reply.body
        assert_not_stored(reply)


def test_metrics_text_is_not_stored(api: Api) -> None:
    reply = api.get("/metrics")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/plain")
    assert_not_stored(reply)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_default_organizations_pinned_file_is_public_but_keyed_by_the_caller(api: Api, token: str,
                                                                               method: str) -> None:
    # When the file is read anonymously or signed in, with or without the default organization named
    for reply in (api.call(method, f"/modules/user/versions/v1.0.0/files/{FILE}"),
                  api.call(method, f"/modules/user/versions/v1.0.0/files/{FILE}", token=token),
                  api.call(method, f"/modules/user/versions/v1.0.0/files/{FILE}", org="default")):
        # Then any cache may keep it for a year, but never hand it to a request with another bearer or org
        assert reply.status == 200 and reply.headers["Cache-Control"] == PINNED
        assert_varies_on_caller(reply)


def test_a_file_through_latest_is_public_and_revalidated(api: Api, token: str) -> None:
    reply = api.get(f"/modules/user/versions/latest/files/{FILE}")
    assert reply.status == 200 and reply.headers["Cache-Control"] == "public, no-cache"
    assert_varies_on_caller(reply)


@pytest.mark.parametrize(("version", "expected"), [("v1.0.0", "private, max-age=31536000, immutable"),
                                                   ("latest", "private, no-cache")])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_named_organizations_file_is_private_and_keyed_by_the_caller(api: Api, token: str, version: str,
                                                                      expected: str, method: str) -> None:
    reply = api.call(method, f"/modules/user/versions/{version}/files/{FILE}", token=token, org="acme")
    assert reply.status == 200 and reply.headers["Cache-Control"] == expected
    assert_varies_on_caller(reply)


@pytest.mark.parametrize(("org", "expected"), [(None, PINNED), ("acme", "private, max-age=31536000, immutable")])
def test_a_304_says_what_the_200_says(api: Api, token: str, org: str | None, expected: str) -> None:
    path = f"/modules/user/versions/v1.0.0/files/{FILE}"
    etag = api.get(path, token=token, org=org).headers["ETag"]
    for method in ("GET", "HEAD"):
        reply = api.call(method, path, token=token, org=org, headers={"If-None-Match": etag})
        assert reply.status == 304 and reply.headers["Cache-Control"] == expected
        assert_varies_on_caller(reply)


@pytest.mark.parametrize("org", [None, "acme"])
def test_a_download_redirect_is_not_stored(api: Api, token: str, org: str | None) -> None:
    # The presigned URL expires: neither the 302 nor its JSON form may be kept
    for headers in ({}, {"Accept": "application/json"}):
        reply = api.get("/modules/user/versions/v1.0.0/download/proto", token=token, org=org, headers=headers)
        assert reply.status in (200, 302), reply.body
        assert_not_stored(reply)


def test_errors_are_never_stored(api: Api, token: str) -> None:
    replies = {
        "404": api.get(f"/modules/user/versions/v9.9.9/files/{FILE}"),
        "401 anonymously in a named organization": api.get(f"/modules/user/versions/v1.0.0/files/{FILE}",
                                                          org="acme"),
        "404 to a non-member": api.get(f"/modules/user/versions/v1.0.0/files/{FILE}", org="acme",
                                       token=api.signed_up()[0]),
        "401": api.get("/modules", headers={"Authorization": "Bearer not-a-token"}),
        "405 (Chalice's own)": api.call("PATCH", "/health", body={}),
        "415 (Chalice's own)": api.post("/modules", raw=b"x", headers={"Content-Type": "text/plain"}),
        "400": api.post("/modules", raw=b"{", token=token),
    }
    for name, reply in replies.items():
        assert reply.status == int(name[:3]) and reply.body["error"]["code"], name
        assert_not_stored(reply)


def test_a_429_is_never_stored(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given anonymous callers may make 2 requests an hour
    monkeypatch.setenv("SPOKE_PLANS", json.dumps({"free": {"requests_per_hour": 2}}))
    wiring.reset()
    replies = [api.get("/modules") for _ in range(3)]
    # Then the one over the limit says Retry-After, and no cache may keep it
    assert [r.status for r in replies] == [200, 200, 429] and replies[2].headers["Retry-After"]
    assert_not_stored(replies[2])
