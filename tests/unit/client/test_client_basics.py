"""Setup, identity, tokens, files: what a CLI does on every run."""
from __future__ import annotations

import hashlib

import httpx
import pytest

from spoke_client import IntegrityError, SpokeClient
from tests.unit.client.fakes import BASE, Server, envelope, json_body

PROTO = b'syntax = "proto3";\nmessage User {}\n'
FILE_URL = f"{BASE}/modules/user/versions/latest/files/pkg/user.proto"


def test_from_env_reads_url_token_and_organization(server: Server) -> None:
    # Given the CLI's environment
    env = {"SPOKE_URL": "http://spoke.test/", "SPOKE_TOKEN": "spk_abc", "SPOKE_ORG": "acme"}
    server.on("GET", f"{BASE}/auth/me", envelope({"kind": "api_token", "user": {"id": "u1", "email": "a@b.c"},
                                                  "token": {"id": "t1", "name": "ci", "scopes": ["read"],
                                                            "organization": {"id": "org-1", "slug": "acme"}},
                                                  "organizations": [{"id": "org-1", "slug": "acme", "name": "Acme",
                                                                     "role": "developer"}]}))

    # When a client is built from it and asks who it is
    with SpokeClient.from_env(env, transport=httpx.MockTransport(server)) as spoke:
        me = spoke.me()

    # Then it spoke to that URL with that token and organization, and the identity is typed
    (request,) = server.requests
    assert request.headers["authorization"] == "Bearer spk_abc" and request.headers["x-organization-id"] == "acme"
    assert me.token is not None
    assert me.kind == "api_token" and me.token.organization_slug == "acme" and me.organizations[0].role == "developer"


def test_from_env_defaults_to_the_local_stack_without_credentials() -> None:
    # Given an empty environment, when a client is built, then it targets localhost anonymously
    spoke = SpokeClient.from_env({})
    assert spoke.base_url == "http://localhost:8080/" and spoke.token is None and spoke.organization is None


def test_login_returns_the_token_and_uses_it(server: Server) -> None:
    # Given valid credentials
    server.on("POST", f"{BASE}/auth/login", envelope({"token": "jwt-1", "expires_at": "x",
                                                      "user": {"id": "u1", "email": "a@b.c", "role": "developer"}}))
    server.on("GET", f"{BASE}/organizations", envelope({"organizations": [{"id": "org-1", "slug": "acme",
                                                                            "name": "Acme", "member_count": 3}]}))
    spoke = SpokeClient(BASE, transport=httpx.MockTransport(server))

    # When the user logs in and lists organizations
    token = spoke.login("a@b.c", "secret123")
    orgs = spoke.list_organizations()

    # Then the token came back and was sent on the next call
    assert token == "jwt-1" and server.requests[1].headers["authorization"] == "Bearer jwt-1"
    assert orgs[0].slug == "acme" and orgs[0].member_count == 3


def test_create_token_returns_the_secret_once(server: Server, client: SpokeClient) -> None:
    # Given the token route, when the user creates a scoped token
    server.on("POST", f"{BASE}/auth/tokens", envelope({"id": "t1", "name": "ci", "scopes": ["read", "publish"],
                                                       "organization": {"id": "org-1", "slug": "acme"},
                                                       "created_at": "c", "expires_at": "e", "token": "spk_s3cret"},
                                                      201))
    created = client.create_token("ci", "acme", ["read", "publish"], 30)

    # Then the request said so and the secret is in the result, but not in its repr
    assert json_body(server.requests[0]) == {"name": "ci", "organization": "acme", "scopes": ["read", "publish"],
                                             "expires_in_days": 30}
    assert created.token == "spk_s3cret" and "spk_s3cret" not in repr(created)
    assert created.scopes == ("read", "publish")


def test_get_file_verifies_the_etag(server: Server, client: SpokeClient) -> None:
    # Given a file whose ETag is its sha256
    server.on("GET", FILE_URL, httpx.Response(200, content=PROTO,
                                              headers={"ETag": f'"{hashlib.sha256(PROTO).hexdigest()}"'}))

    # When the user reads it through the latest alias, then they get the bytes
    assert client.get_file("user", "latest", "pkg/user.proto") == PROTO


def test_get_file_refuses_bytes_that_do_not_match_the_etag(server: Server, client: SpokeClient) -> None:
    # Given a corrupted body
    server.on("GET", FILE_URL, httpx.Response(200, content=PROTO + b"junk",
                                              headers={"ETag": f'"{hashlib.sha256(PROTO).hexdigest()}"'}))

    # When the user reads it, then it is refused rather than returned
    with pytest.raises(IntegrityError):
        client.get_file("user", "latest", "pkg/user.proto")


def test_versions_with_build_metadata_are_escaped(server: Server, client: SpokeClient) -> None:
    # Given a version with build metadata, when the user reads it
    server.on("GET", f"{BASE}/modules/user/versions/v1.0.0%2Bb5", envelope(
        {"module": "user", "version": "v1.0.0+b5", "files": [{"path": "a.proto", "size": 3,
                                                              "checksum": "sha256:abc"}]}))
    version = client.get_version("user", "v1.0.0+b5")

    # Then the `+` reached the server escaped and the files are typed
    assert version.files[0].sha256 == "abc" and version.files[0].size == 3


def test_health_returns_a_degraded_report_without_retrying(server: Server, client: SpokeClient,
                                                           sleeps: list[float]) -> None:
    # Given a degraded server, when the user checks health, then they get the report at once
    server.on("GET", f"{BASE}/health", envelope({"status": "degraded", "checks": {"s3": "error"}}, 503))
    assert client.health()["status"] == "degraded" and sleeps == []


def test_compatibility_of_local_files_against_the_latest_version(server: Server, client: SpokeClient) -> None:
    # Given the check route, when the user checks unpublished files
    server.on("POST", f"{BASE}/modules/user/compatibility/check", envelope(
        {"compatible": False, "breaking_changes": [{"rule": "FIELD_NO_DELETE", "file": "a.proto"}],
         "warnings": [], "version1": "v1.0.0"}))
    report = client.check_files_compatibility("user", {"a.proto": PROTO})

    # Then the files went as text against `latest`, and the findings are readable
    assert json_body(server.requests[0]) == {"version1": "latest", "files": {"a.proto": PROTO.decode()}}
    assert not report.compatible and report.breaking_changes[0]["rule"] == "FIELD_NO_DELETE"


def test_file_info_heads_the_file_for_its_size_and_sha256(server: Server, client: SpokeClient) -> None:
    # Given a file route that answers HEAD, when the user asks about the file without its bytes
    sha = hashlib.sha256(PROTO).hexdigest()
    server.on("HEAD", FILE_URL, httpx.Response(200, headers={"ETag": f'"{sha}"', "Content-Length": str(len(PROTO))}))
    entry = client.file_info("user", "latest", "pkg/user.proto")

    # Then they learn its size and checksum from one HEAD
    assert (entry.path, entry.size, entry.sha256) == ("pkg/user.proto", len(PROTO), sha)
    assert [r.method for r in server.requests] == ["HEAD"]
