"""What never reaches the application still answers in the envelope: unknown paths, oversize headers,
malformed request lines, as `make run` serves them (localdev/chalice_local.py)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from tests.fuzz_support import Answer, check_answer, http_request, raw_request


def _raw(api_url: str, method: str, target: str, headers: list[tuple[str, str]] | None = None,
         body: bytes = b"", version: str = "HTTP/1.1") -> Answer:
    url = urlsplit(api_url)
    sent = [("Host", url.netloc), *(headers or []), ("Connection", "close")]
    return raw_request(url.hostname, url.port, http_request(method, target, sent, body, version))


def _envelope_error(answer: Answer, status: int, code: str, method: str = "GET", path: str = "/") -> dict:
    body = check_answer(answer, method, path)
    assert answer.status == status, answer.describe()
    assert body is not None and body["error"]["code"] == code, answer.describe()
    return body


@pytest.mark.parametrize("path", [
    "/nope",
    "/modules/user/nope",
    "/" + "/".join(f"level{i}" for i in range(13)),
    "/modules/user/versions/v1.0.0/files/" + "/".join(f"d{i}" for i in range(13)) + "/x.proto",
    "/modules/user/versions/v1.0.0/files/" + "/".join(f"d{i}" for i in range(40)) + "/x.proto",
    "/auth/login/extra",
])
def test_an_unknown_path_is_a_404_envelope(api_url: str, path: str) -> None:
    # When a client asks for a path no route serves (or deeper than the file route serves)
    reply = requests.get(api_url + path, timeout=30)
    # Then it is the envelope, never API Gateway's "Missing Authentication Token"
    answer = Answer.of(reply.status_code, reply.headers, reply.content)
    body = check_answer(answer, "GET", path)
    assert reply.status_code == 404, answer.describe()
    assert body is not None and body["error"]["code"] in ("NOT_FOUND", "MODULE_NOT_FOUND", "FILE_NOT_FOUND"), \
        answer.describe()


def test_an_unknown_path_is_404_not_found_with_or_without_a_token_and_keeps_the_callers_request_id(
        api_url: str) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"X-Request-ID": "trace-0123456789"}):
        reply = requests.post(f"{api_url}/no/such/endpoint", json={"x": 1}, headers=headers, timeout=30)
        answer = Answer.of(reply.status_code, reply.headers, reply.content)
        body = _envelope_error(answer, 404, "NOT_FOUND", "POST", "/no/such/endpoint")
        assert body["error"]["message"], answer.describe()
        if "X-Request-ID" in headers:
            assert reply.headers["X-Request-ID"] == "trace-0123456789"


def test_the_connection_stays_usable_after_an_unknown_path(api_url: str) -> None:
    with requests.Session() as session:
        assert session.post(f"{api_url}/nope", data=b'{"a": 1}', timeout=30).status_code == 404
        assert session.get(f"{api_url}/health", timeout=30).status_code == 200


def test_an_oversize_header_line_is_a_431_envelope(api_url: str) -> None:
    answer = _raw(api_url, "GET", "/health", [("X-Big", "a" * 70_000)])
    _envelope_error(answer, 431, "HEADERS_TOO_LARGE", path="/health")


def test_too_many_headers_is_a_431_envelope(api_url: str) -> None:
    answer = _raw(api_url, "GET", "/health", [(f"X-H{i}", "v") for i in range(150)])
    _envelope_error(answer, 431, "HEADERS_TOO_LARGE", path="/health")


def test_an_oversize_request_line_is_a_414_envelope(api_url: str) -> None:
    answer = _raw(api_url, "GET", "/modules?q=" + "x" * 70_000)
    _envelope_error(answer, 414, "URI_TOO_LONG", path="/modules")


@pytest.mark.parametrize("method, target, version, status, code", [
    ("GET", "/health", "HTTP/9.9", 400, "BAD_REQUEST"),
    ("GET", "/health", "HTTX/1.1", 400, "BAD_REQUEST"),
    ("GET", "/health", "HTTP/1.1.1", 400, "BAD_REQUEST"),
    ("BREW", "/health", "HTTP/1.1", 405, "METHOD_NOT_ALLOWED"),
    ("GET", "/a b", "HTTP/1.1", 400, "BAD_REQUEST"),
])
def test_a_malformed_request_line_is_an_envelope(api_url: str, method: str, target: str, version: str,
                                                 status: int, code: str) -> None:
    answer = _raw(api_url, method, target, version=version)
    _envelope_error(answer, status, code, method, target)


@pytest.mark.parametrize("headers, status, code", [
    ([("Content-Type", "application/json"), ("Content-Length", "abc")], 400, "BAD_REQUEST"),
    ([("Content-Type", "application/json"), ("Content-Length", "-5")], 400, "BAD_REQUEST"),
    ([("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")], 411, "LENGTH_REQUIRED"),
    ([("Content-Type", "application/json"), ("Content-Length", str(20 * 1024 * 1024))], 413, "PAYLOAD_TOO_LARGE"),
])
def test_a_body_the_gateway_cannot_take_is_an_envelope(api_url: str, headers: list[tuple[str, str]], status: int,
                                                       code: str) -> None:
    answer = _raw(api_url, "POST", "/auth/login", headers, b"{}")
    _envelope_error(answer, status, code, "POST", "/auth/login")
