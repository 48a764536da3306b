"""A small JSON-speaking wrapper over chalice.test.Client for readable tests."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from chalice.test import Client


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]
    raw: bytes

    @property
    def data(self) -> Any:
        return self.body["data"]

    @property
    def code(self) -> str | None:
        return (self.body.get("error") or {}).get("code") if isinstance(self.body, dict) else None


class Api:
    def __init__(self, client: Client) -> None:
        self.client = client

    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             org: str | None = None, headers: dict[str, str] | None = None, raw: bytes | None = None) -> Reply:
        sent = {"Content-Type": "application/json"} if body is not None or raw is not None else {}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if org:
            sent["X-Organization-ID"] = org
        sent.update(headers or {})
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, body=payload, headers=sent)
        try:
            parsed = json.loads(response.body) if response.body else None
        except ValueError:
            parsed = None
        return Reply(response.status_code, parsed, dict(response.headers), response.body)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.call("DELETE", path, **kw)

    # Givens used across tests
    def signed_up(self, email: str | None = None, password: str = "correct-horse-battery-staple") -> tuple[str, str]:
        """Register and log in; return (token, user_id)."""
        email = email or f"{uuid.uuid4().hex[:10]}@example.com"
        registered = self.post("/auth/register", {"email": email, "password": password})
        assert registered.status == 201, registered.body
        login = self.post("/auth/login", {"email": email, "password": password})
        assert login.status == 200, login.body
        return login.data["token"], login.data["user"]["id"]

    def module(self, token: str, name: str = "user", org: str | None = None, description: str = "") -> Reply:
        reply = self.post("/modules", {"name": name, "description": description}, token=token, org=org)
        assert reply.status == 201, reply.body
        return reply

    def publish(self, token: str, module: str, version: str, files: dict[str, str] | None = None,
                org: str | None = None, description: str = "") -> Reply:
        files = files or {"user.proto": 'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; }\n'}
        return self.post(f"/modules/{module}/versions",
                         {"version": version, "description": description, "files": files}, token=token, org=org)


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]], boundary: str = "spokeBoundary"
              ) -> tuple[bytes, str]:
    """Encode a multipart/form-data body the way curl -F does."""
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for field, filename, content in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
