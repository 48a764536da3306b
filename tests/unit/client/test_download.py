"""Downloads: wait out the compile, fetch S3 without the token, and never hand back corrupt bytes."""
from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from spoke_client import DownloadTimeout, IntegrityError, SpokeClient
from tests.unit.client.fakes import BASE, S3, Server, envelope, error

ZIP = b"PK\x03\x04 compiled go code"
DOWNLOAD = f"{BASE}/modules/user/versions/v1.0.0/download/go"
ARTIFACT = f"{S3}/artifacts/abc?X-Amz-Signature=sig"


def _ready(content: bytes = ZIP, sha256: str | None = None) -> httpx.Response:
    return envelope({"language": "go", "url": ARTIFACT, "size": len(content), "expires_in": 900,
                     "sha256": sha256 or hashlib.sha256(content).hexdigest()})


def _pending(status: str = "running") -> httpx.Response:
    return envelope({"language": "go", "status": status}, 202, headers={"Retry-After": "5"})


def test_download_polls_202_then_verifies_and_returns_the_bytes(server: Server, client: SpokeClient,
                                                               sleeps: list[float]) -> None:
    # Given a compile still running for two polls, then ready on S3
    server.on("GET", DOWNLOAD, _pending("pending"), _pending("running"), _ready())
    server.on("GET", ARTIFACT, httpx.Response(200, content=ZIP))
    seen: list[str] = []

    # When the user downloads the Go code
    data = client.download("user", "v1.0.0", "go", progress=lambda status, elapsed: seen.append(status["status"]))

    # Then they waited as the server asked, saw the progress, and got the verified bytes
    assert data == ZIP
    assert seen == ["pending", "running"] and sleeps == [5.0, 5.0]
    assert all(r.headers["accept"] == "application/json" for r in server.sent("GET", DOWNLOAD))


def test_the_presigned_fetch_carries_no_authorization_header(server: Server, client: SpokeClient) -> None:
    # Given a ready artifact
    server.on("GET", DOWNLOAD, _ready())
    server.on("GET", ARTIFACT, httpx.Response(200, content=ZIP))

    # When the user downloads it
    client.download("user", "v1.0.0", "go")

    # Then the API saw the token and the organization, and S3 saw neither
    (api,) = server.sent("GET", DOWNLOAD)
    (s3,) = server.sent("GET", S3)
    assert api.headers["authorization"] == "Bearer tok-123" and api.headers["x-organization-id"] == "acme"
    assert "authorization" not in s3.headers and "x-organization-id" not in s3.headers


def test_a_sha256_mismatch_is_refused(server: Server, client: SpokeClient, tmp_path: Path) -> None:
    # Given S3 serving bytes other than the ones the server announced
    server.on("GET", DOWNLOAD, _ready())
    server.on("GET", ARTIFACT, httpx.Response(200, content=ZIP.replace(b"go", b"GO")))

    # When the user downloads to a file
    target = tmp_path / "out" / "go.zip"
    with pytest.raises(IntegrityError) as raised:
        client.download("user", "v1.0.0", "go", target)

    # Then the download is refused and nothing is left behind
    assert raised.value.code == "CHECKSUM_MISMATCH"
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_a_size_mismatch_is_refused(server: Server, client: SpokeClient) -> None:
    # Given a truncated body
    server.on("GET", DOWNLOAD, _ready())
    server.on("GET", ARTIFACT, httpx.Response(200, content=ZIP[:5]))

    # When the user downloads, then it is refused
    with pytest.raises(IntegrityError) as raised:
        client.download("user", "v1.0.0", "go")
    assert raised.value.code == "SIZE_MISMATCH"


def test_download_writes_to_a_path_atomically(server: Server, client: SpokeClient, tmp_path: Path) -> None:
    # Given a ready artifact, when the user downloads it to a path
    server.on("GET", DOWNLOAD, _ready())
    server.on("GET", ARTIFACT, httpx.Response(200, content=ZIP))
    written = client.download("user", "v1.0.0", "go", tmp_path / "go.zip")

    # Then the file holds the verified bytes and no temporary file remains
    assert written == tmp_path / "go.zip" and written.read_bytes() == ZIP
    assert [p.name for p in tmp_path.iterdir()] == ["go.zip"]


def test_download_requests_a_compile_that_was_never_asked_for(server: Server, client: SpokeClient) -> None:
    # Given a language nobody asked to compile yet
    server.on("GET", DOWNLOAD, _pending("not_requested"), _pending("running"), _ready())
    server.on("POST", f"{BASE}/modules/user/versions/v1.0.0/compile", envelope({"compilation": {}}, 202))
    server.on("GET", ARTIFACT, httpx.Response(200, content=ZIP))

    # When the user downloads it, then the client asks for the compile once and gets the result
    assert client.download("user", "v1.0.0", "go") == ZIP
    (compile_request,) = server.sent("POST", f"{BASE}/modules/user/versions/v1.0.0/compile")
    assert compile_request.content == b'{"languages":["go"]}'


def test_download_gives_up_at_the_deadline(server: Server) -> None:
    # Given a compile that never finishes, and a clock that advances as the client sleeps
    now = [0.0]
    server.on("GET", DOWNLOAD, _pending())
    spoke = SpokeClient(BASE, transport=httpx.MockTransport(server), sleep=lambda s: now.__setitem__(0, now[0] + s),
                        clock=lambda: now[0])

    # When the user downloads with a 12 s deadline
    with pytest.raises(DownloadTimeout) as raised:
        spoke.download("user", "v1.0.0", "go", deadline=12)

    # Then they hear so at the deadline, not later
    assert raised.value.code == "DOWNLOAD_TIMEOUT" and now[0] == 12.0


def test_a_failed_compilation_is_reported(server: Server, client: SpokeClient) -> None:
    # Given a compile that failed, when the user downloads, then the compiler's message reaches them
    server.on("GET", DOWNLOAD, error(422, "COMPILATION_FAILED", "protoc said no"))
    with pytest.raises(Exception) as raised:
        client.download("user", "v1.0.0", "go")
    assert getattr(raised.value, "code", None) == "COMPILATION_FAILED"


def test_a_transient_s3_error_is_retried(server: Server, client: SpokeClient, sleeps: list[float]) -> None:
    # Given S3 answering 503 SlowDown once
    server.on("GET", DOWNLOAD, _ready())
    server.on("GET", ARTIFACT, httpx.Response(503, text="<Error><Code>SlowDown</Code></Error>"),
              httpx.Response(200, content=ZIP))

    # When the user downloads, then the fetch is retried and succeeds
    assert client.download("user", "v1.0.0", "go") == ZIP
    assert len(sleeps) == 1
