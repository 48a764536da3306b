"""The fuzz suite's invariant, shared by the in-process and the over-HTTP fuzzers.

Every answer is either the envelope (`{"data", "error", "meta": {"request_id", "timestamp"}}`, with
`X-Request-ID` equal to `meta.request_id`) or one of the documented raw successes (a file's bytes,
204, 302 to a compiled download, 304, `/metrics` text); its status is a success or a 4xx, never a
5xx; an error names a stable code and never leaks a stack trace, an AWS text or Python's own
messages; `X-Request-ID` is printable ASCII. And after every refused request (4xx) the table and the
bucket hold exactly what they held before: every item's key (and, where `Store.contents` is set, every
attribute) and every object's key and ETag, read from the test's side with its own clients (the
application's clients refuse Scan).
"""
from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ERROR_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,200}$")  # a header value any client, proxy and log can carry
# Text that must never reach a client: stack traces, Python's and AWS's own messages, HTML pages.
LEAK_MARKERS = (
    "Traceback (most recent call last)", "set_int_max_str_digits", "Exceeds the limit", "maximum recursion depth",
    "RecursionError", "botocore", "ClientError", "ValidationException", "ConditionalCheckFailed",
    "An error occurred (", "Check failed", 'File "/', "site-packages", "Missing Authentication Token",
    "<html", "<!DOCTYPE", "IsADirectoryError", "FileExistsError", "Errno",
)


@dataclass
class Answer:
    """One response, whichever client got it; header names are lower-cased."""
    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, status: int, headers: Mapping[str, Any], body: bytes | str | None) -> Answer:
        lowered = {str(k).lower(): (", ".join(map(str, v)) if isinstance(v, list) else str(v))
                   for k, v in dict(headers or {}).items()}
        raw = body.encode() if isinstance(body, str) else (body or b"")
        return cls(status, lowered, raw)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def code(self) -> str | None:
        parsed = self.json()
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            return parsed["error"].get("code")
        return None

    def describe(self) -> str:
        text = self.body[:600].decode("utf-8", "replace")
        return f"{self.status} {text}{'...' if len(self.body) > 600 else ''}"


def _route(path: str) -> str:
    return path.split("?", 1)[0]


def raw_success(method: str, path: str, answer: Answer) -> str | None:
    """The documented raw (non-envelope) successes; the name of the kind, or None."""
    route, status = _route(path), answer.status
    if status == 204 and not answer.body:
        return "no content"
    if status == 304 and not answer.body and "/files/" in route:
        return "not modified"
    if status == 302 and answer.headers.get("location") and "/download/" in route:
        return "download redirect"
    if method == "GET" and status == 200 and route.rstrip("/") == "/metrics":
        return "metrics text"
    if method == "GET" and status == 200 and "/files/" in route and answer.headers.get("etag"):
        return "file bytes"
    return None


def check_answer(answer: Answer, method: str, path: str, sent: bytes | str = b"") -> dict | None:
    """Assert the response invariant; return the envelope (None for a documented raw success)."""
    where = f"{method} {path[:300]}"
    assert answer.status < 500, f"{where}: a {answer.status}: {answer.describe()}"
    assert 200 <= answer.status, f"{where}: status {answer.status}"
    if answer.status < 400 and raw_success(method, path, answer):
        return None
    parsed = answer.json()
    assert isinstance(parsed, dict) and set(parsed) == {"data", "error", "meta"}, \
        f"{where}: not the envelope: {answer.describe()}"
    assert answer.headers.get("content-type", "").startswith("application/json"), \
        f"{where}: envelope served as {answer.headers.get('content-type')!r}"
    meta = parsed["meta"]
    assert isinstance(meta, dict) and isinstance(meta.get("request_id"), str) and meta["request_id"], \
        f"{where}: meta without request_id: {answer.describe()}"
    assert isinstance(meta.get("timestamp"), str) and meta["timestamp"], f"{where}: meta without timestamp"
    assert REQUEST_ID.match(meta["request_id"]), f"{where}: request id {meta['request_id']!r} is not printable ASCII"
    assert answer.headers.get("x-request-id") == meta["request_id"], \
        f"{where}: X-Request-ID {answer.headers.get('x-request-id')!r} != meta.request_id {meta['request_id']!r}"
    if answer.status >= 400:
        error = parsed["error"]
        assert parsed["data"] is None, f"{where}: an error with data: {answer.describe()}"
        assert isinstance(error, dict) and set(error) == {"code", "message", "details", "validation_errors"}, \
            f"{where}: error not {{code, message, details, validation_errors}}: {answer.describe()}"
        assert isinstance(error["code"], str) and ERROR_CODE.match(error["code"]), f"{where}: code {error['code']!r}"
        assert isinstance(error["message"], str) and error["message"], f"{where}: empty message"
        assert isinstance(error["details"], dict), f"{where}: details {error['details']!r}"
        assert isinstance(error["validation_errors"], list), f"{where}: validation_errors"
        assert answer.headers.get("cache-control") == "no-store", \
            f"{where}: an error a cache may keep (Cache-Control {answer.headers.get('cache-control')!r})"
        check_no_leak(answer, sent, where)
    else:
        assert parsed["error"] is None, f"{where}: a success with an error: {answer.describe()}"
    return parsed


def check_no_leak(answer: Answer, sent: bytes | str, where: str) -> None:
    text = answer.body.decode("utf-8", "replace")
    sent_text = sent.decode("utf-8", "replace") if isinstance(sent, bytes) else str(sent)
    for marker in LEAK_MARKERS:
        if marker in text and marker not in sent_text and marker not in where:
            raise AssertionError(f"{where}: the answer leaks {marker!r}: {answer.describe()}")


# ---------------------------------------------------------------------------------------------- store
@dataclass(frozen=True)
class StoreSnapshot:
    items: Mapping[tuple[str, str], str]
    objects: Mapping[str, str]

    def diff(self, after: StoreSnapshot, limit: int = 12) -> str:
        lines = []
        for label, old, new in (("item", self.items, after.items), ("object", self.objects, after.objects)):
            for key in sorted(set(new) - set(old), key=str)[:limit]:
                lines.append(f"+ {label} {key}")
            for key in sorted(set(old) - set(new), key=str)[:limit]:
                lines.append(f"- {label} {key}")
            for key in sorted((k for k in set(old) & set(new) if old[k] != new[k]), key=str)[:limit]:
                lines.append(f"~ {label} {key}")
        return "\n".join(lines)


@dataclass
class Store:
    """Reads the whole table and bucket with the test's own clients (never the application's).

    Every snapshot holds every item's key and every object's key and ETag. With `contents`, it also
    holds every item's attributes, so a refused request that rewrites an item is caught too; moto
    serializes a Scan slowly (about 1 ms an item with attributes, a quarter of that for keys only),
    so the fuzzers compare keys and the table of known cases compares contents.
    """
    dynamodb: Any
    s3: Any
    table: str
    bucket: str
    contents: bool = False
    snapshots: int = field(default=0)

    def snapshot(self, contents: bool | None = None) -> StoreSnapshot:
        self.snapshots += 1
        with_contents = self.contents if contents is None else contents
        items: dict[tuple[str, str], str] = {}
        kwargs: dict[str, Any] = {"TableName": self.table}
        if not with_contents:
            kwargs["ProjectionExpression"] = "PK, SK"
        while True:
            page = self.dynamodb.scan(**kwargs)
            for item in page.get("Items", []):
                key = (item["PK"].get("S", ""), item["SK"].get("S", ""))
                if key[0].startswith("COUNTER#"):  # requests are counted, refused ones too (rate limits,
                    continue                       # failed logins): bookkeeping, not stored data
                items[key] = json.dumps(item, sort_keys=True, default=repr) if with_contents else ""
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        objects: dict[str, str] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for obj in page.get("Contents", []):
                objects[obj["Key"]] = f"{obj.get('ETag')}:{obj.get('Size')}"
        return StoreSnapshot(items, objects)


def check_unchanged(before: StoreSnapshot, after: StoreSnapshot, answer: Answer, method: str, path: str) -> None:
    if before != after:
        raise AssertionError(f"{method} {path[:300]} was refused ({answer.describe()}) but changed the store:\n"
                             f"{before.diff(after)}")


def check_exchange(answer: Answer, method: str, path: str, sent: bytes | str, before: StoreSnapshot,
                   after: StoreSnapshot) -> dict | None:
    """The whole invariant for one request: the answer's shape, and nothing stored when refused."""
    envelope = check_answer(answer, method, path, sent)
    if 400 <= answer.status < 500:
        check_unchanged(before, after, answer, method, path)
    return envelope


# --------------------------------------------------------------------------------------- raw sockets
def raw_request(host: str, port: int, payload: bytes, timeout: float = 20) -> Answer:
    """Send bytes as they are (what HTTP clients refuse to send) and read one response until close."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return parse_response(b"".join(chunks))


def parse_response(data: bytes) -> Answer:
    """The first HTTP/1.x response in `data` (status 0 when there is none)."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/"):
        return Answer(0, {}, data)
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(rest)))
    return Answer(status, headers, rest[:length])


def http_request(method: str, target: str, headers: Iterable[tuple[str, str]] = (), body: bytes = b"",
                 version: str = "HTTP/1.1") -> bytes:
    """Serialize a request byte for byte (Host and Connection: close are the caller's to add)."""
    lines = [f"{method} {target} {version}".encode("latin-1", "replace")]
    lines += [f"{k}: {v}".encode("latin-1", "replace") for k, v in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body

