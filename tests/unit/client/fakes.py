"""A scripted Spoke (httpx.MockTransport): no network, no server; every request is recorded."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

BASE = "http://spoke.test"
S3 = "https://bucket.s3.test"
Handler = Callable[[httpx.Request], httpx.Response]


def envelope(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"data": data, "error": None, "meta": {"request_id": "req-ok", "timestamp": "2026-01-01T00:00:00Z"}}
    return httpx.Response(status, json=body, headers=headers)


def error(status: int, code: str, message: str = "refused", *, request_id: str = "req-err",
          details: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"data": None, "error": {"code": code, "message": message, "details": details or {},
                                    "validation_errors": []},
            "meta": {"request_id": request_id, "timestamp": "2026-01-01T00:00:00Z"}}
    return httpx.Response(status, json=body, headers=headers)


class Server:
    """Answers each request with the next scripted response for its route (a handler or a Response)."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[httpx.Response | Handler]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, url: str, *answers: httpx.Response | Handler) -> None:
        self.routes.setdefault((method, url), []).extend(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        key = (request.method, str(request.url))
        if key not in self.routes:  # most routes are scripted without their query string
            key = (request.method, str(request.url.copy_with(query=None)))
        queue = self.routes.get(key)
        if not queue:
            return httpx.Response(599, text=f"unscripted {key}")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(request) if callable(answer) else answer

    def sent(self, method: str, url_prefix: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and str(r.url).startswith(url_prefix)]


def json_body(request: httpx.Request) -> Any:
    return json.loads(request.content)
