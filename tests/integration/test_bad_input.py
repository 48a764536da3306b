"""Bad input never gives a 500: each case gets its 4xx, its code and a message a person can act on."""
from __future__ import annotations

import json
import time

import jwt
import pytest

from tests.integration.api import Api, multipart
from tests.integration.outbox import relay_outbox

PROTO = b'syntax = "proto3";\nmessage A { string id = 1; }\n'


def _multipart_files(*files: tuple[str, bytes]) -> tuple[bytes, str]:
    return multipart({"version": "v1.0.0"}, [(f"file{i}", name, content) for i, (name, content) in enumerate(files)])


def _json_files(files: dict[str, str]) -> bytes:
    return json.dumps({"version": "v1.0.0", "files": files}).encode()


# (case, method, path, raw body, content type, expected status, expected code)
CASES = [
    ("malformed JSON", "POST", "/modules", b'{"name": "x"', "application/json", 400, "INVALID_JSON"),
    ("JSON that is not an object", "POST", "/modules", b'["user"]', "application/json", 400, "INVALID_JSON"),
    ("empty body", "POST", "/modules", b"", "application/json", 400, "INVALID_JSON"),
    ("missing field", "POST", "/modules", b'{"description": "no name"}', "application/json", 400,
     "VALIDATION_ERROR"),
    ("wrong type", "POST", "/modules", b'{"name": 42}', "application/json", 400, "VALIDATION_ERROR"),
    ("bad module name", "POST", "/modules", b'{"name": "../etc"}', "application/json", 400, "VALIDATION_ERROR"),
    ("description of wrong type", "POST", "/modules", b'{"name": "ok", "description": []}', "application/json",
     400, "VALIDATION_ERROR"),
    ("invalid version", "POST", "/modules/user/versions", json.dumps(
        {"version": "version-one", "files": {"a.proto": "x"}}).encode(), "application/json", 400,
     "INVALID_VERSION"),
    ("path with ..", "POST", "/modules/user/versions", *_multipart_files(("../evil.proto", PROTO)), 400,
     "INVALID_PATH"),
    ("path with .. in the middle", "POST", "/modules/user/versions",
     _json_files({"a/../../b.proto": "x"}), "application/json", 400, "INVALID_PATH"),
    ("absolute path", "POST", "/modules/user/versions", *_multipart_files(("/etc/passwd.proto", PROTO)), 400,
     "INVALID_PATH"),
    ("backslash", "POST", "/modules/user/versions", _json_files({"a\\b.proto": "x"}), "application/json", 400,
     "INVALID_PATH"),
    ("NUL byte", "POST", "/modules/user/versions", _json_files({"a\u0000.proto": "x"}), "application/json", 400,
     "INVALID_PATH"),
    ("non-.proto file", "POST", "/modules/user/versions", *_multipart_files(("notes.txt", b"hello")), 400,
     "INVALID_PATH"),
    ("upload without files", "POST", "/modules/user/versions", *_multipart_files(), 400, "NO_FILES"),
    ("empty file", "POST", "/modules/user/versions", *_multipart_files(("empty.proto", b"")), 400,
     "INVALID_FILE"),
    ("file that is not UTF-8", "POST", "/modules/user/versions", *_multipart_files(("a.proto", b"\xff\xfe\x00")),
     400, "INVALID_FILE"),
    ("duplicate paths", "POST", "/modules/user/versions",
     *_multipart_files(("a.proto", PROTO), ("a.proto", PROTO)), 400, "DUPLICATE_PATH"),
    ("files of wrong type", "POST", "/modules/user/versions", b'{"version": "v1.0.0", "files": ["a.proto"]}',
     "application/json", 400, "VALIDATION_ERROR"),
    ("multipart without boundary", "POST", "/modules/user/versions", b"junk", "multipart/form-data", 400,
     "BAD_REQUEST"),
    ("oversized body", "POST", "/modules/user/versions",
     *_multipart_files(("big.proto", b"// " + b"x" * (4 * 1024 * 1024))), 413, "PAYLOAD_TOO_LARGE"),
    ("unsupported content type", "POST", "/modules", b"name=x", "application/x-www-form-urlencoded", 415,
     "UNSUPPORTED_MEDIA_TYPE"),
    ("unknown module", "GET", "/modules/nope", None, None, 404, "MODULE_NOT_FOUND"),
    ("unknown version", "GET", "/modules/user/versions/v9.9.9", None, None, 404, "VERSION_NOT_FOUND"),
    ("malformed version in path", "GET", "/modules/user/versions/Latest", None, None, 400, "INVALID_VERSION"),
    ("unknown file", "GET", "/modules/user/versions/v0.1.0/files/nope.proto", None, None, 404, "FILE_NOT_FOUND"),
    ("page size over 100", "GET", "/modules?page_size=101", None, None, 400, "VALIDATION_ERROR"),
    ("page not a number", "GET", "/modules?page=abc", None, None, 400, "VALIDATION_ERROR"),
    ("page deeper than page numbers reach", "GET", "/modules?page=102&page_size=100", None, None, 400,
     "VALIDATION_ERROR"),
    ("tampered cursor", "GET", "/modules?cursor=AAAAbm90LWEtY3Vyc29y", None, None, 400, "INVALID_CURSOR"),
    ("unsupported method", "PUT", "/modules", None, None, 405, "METHOD_NOT_ALLOWED"),
    ("login with wrong password", "POST", "/auth/login", b'{"email": "owner@example.com", "password": "wrong-pass"}',
     "application/json", 401, "INVALID_CREDENTIALS"),
    ("register with short password", "POST", "/auth/register", b'{"email": "x@example.com", "password": "short"}',
     "application/json", 400, "WEAK_PASSWORD"),
    ("register with a common password", "POST", "/auth/register",
     b'{"email": "x@example.com", "password": "password123"}', "application/json", 400, "WEAK_PASSWORD"),
    ("register with bad email", "POST", "/auth/register", b'{"email": "not-an-email", "password": "long-enough-9"}',
     "application/json", 400, "VALIDATION_ERROR"),
]


@pytest.fixture
def seeded(api: Api) -> str:
    """Given a signed-in owner of module 'user' with version v0.1.0 in the default organization."""
    token, _ = api.signed_up("owner@example.com")
    api.module(token, "user")
    assert api.publish(token, "user", "v0.1.0").status == 201
    return token


@pytest.mark.parametrize("case,method,path,raw,content_type,status,code", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_its_4xx_code_and_message(api: Api, seeded: str, case: str, method: str, path: str,
                                                 raw: bytes | None, content_type: str | None, status: int,
                                                 code: str) -> None:
    # When the request is sent
    headers = {"Authorization": f"Bearer {seeded}"}
    if content_type:
        headers["Content-Type"] = content_type
    reply = api.call(method, path, raw=raw, headers=headers) if raw is not None else api.call(
        method, path, headers=headers)
    # Then it is refused with its status, code and a message, in the envelope
    assert (reply.status, reply.code) == (status, code), reply.body
    assert reply.body["data"] is None
    assert len(reply.body["error"]["message"]) > 10
    assert reply.headers["X-Request-ID"] == reply.body["meta"]["request_id"]


def test_bad_uploads_store_nothing(api: Api, seeded: str) -> None:
    # Given a refused upload (duplicate paths)
    body, content_type = _multipart_files(("a.proto", PROTO), ("a.proto", PROTO))
    api.call("POST", "/modules/user/versions", raw=body,
             headers={"Authorization": f"Bearer {seeded}", "Content-Type": content_type})
    # Then the module has still only its first version and the counters did not move
    assert api.get("/modules/user").data["versions"] == ["v0.1.0"]
    relay_outbox()  # the totals are added up from the table's stream
    assert "spoke_versions_total 1\n" in api.get("/metrics").raw.decode()


def _token(secret: str, **overrides: object) -> str:
    now = int(time.time())
    claims = {"sub": "user-x", "email": "x@example.com", "iat": now, "exp": now + 600, "jti": "abc",
              "iss": "spoke", **overrides}
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.mark.parametrize("kind", ["tampered", "expired", "wrong secret", "not a jwt", "wrong scheme"])
def test_bad_tokens_are_401(api: Api, jwt_secret: str, kind: str) -> None:
    # Given a token that must not be accepted
    good = _token(jwt_secret)
    header = {
        "tampered": "Bearer " + good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "expired": "Bearer " + _token(jwt_secret, exp=int(time.time()) - 10, iat=int(time.time()) - 100),
        "wrong secret": "Bearer " + _token("another-secret-that-is-long-enough-for-hs256"),
        "not a jwt": "Bearer hello",
        "wrong scheme": "Basic dXNlcjpwYXNz",
    }[kind]
    # When it is used to create a module
    reply = api.call("POST", "/modules", raw=b'{"name": "x"}',
                     headers={"Authorization": header, "Content-Type": "application/json"})
    # Then the request is refused as unauthorized and nothing is created
    assert (reply.status, reply.code) == (401, "UNAUTHORIZED")
    assert api.get("/modules/x").status == 404


def test_foreign_organizations_module_is_invisible(api: Api) -> None:
    # Given a module in Acme's private organization
    owner, _ = api.signed_up()
    org = api.post("/organizations", {"name": "Acme", "slug": "acme"}, token=owner).data
    api.module(owner, "secret", org="acme")
    outsider, _ = api.signed_up()
    # When an outsider asks for it, by slug or id, or without signing in
    by_slug = api.get("/modules/secret", token=outsider, org="acme")
    by_id = api.get("/modules/secret", token=outsider, org=org["id"])
    anonymous = api.get("/modules/secret", org="acme")
    # Then it does not exist for them
    assert (by_slug.status, by_slug.code) == (404, "ORGANIZATION_NOT_FOUND")
    assert (by_id.status, by_id.code) == (404, "ORGANIZATION_NOT_FOUND")
    assert (anonymous.status, anonymous.code) == (401, "UNAUTHORIZED")
    # And in the default organization there is no such module either
    assert api.get("/modules/secret", token=outsider).code == "MODULE_NOT_FOUND"
