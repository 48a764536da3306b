"""A real webhook receiver on 127.0.0.1 for the webhook tests, and the README's signature check.

`verify` is the receiver-side check the README shows (signature, freshness, and the X-Spoke-Delivery
header equal to the signed body's delivery_id); the tests below run the README's snippet on what
Spoke signs, so the documentation and the sender cannot drift apart.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain.webhooks import delivery_body, delivery_headers


def verify(secret: str, headers: Mapping[str, str], body: bytes, tolerance_seconds: int = 300) -> bool:
    """The README's receiver check: the signature on the raw bytes, a fresh timestamp, and the
    X-Spoke-Delivery header equal to the signed body's delivery_id (so a replay under a new id fails)."""
    timestamp = headers["X-Spoke-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers["X-Spoke-Signature"]):
        return False
    if abs(time.time() - int(timestamp)) > tolerance_seconds:
        return False
    return json.loads(body).get("delivery_id") == headers.get("X-Spoke-Delivery")


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str
    at: float  # time.monotonic() on arrival

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def event(self) -> str:
        return self.headers["X-Spoke-Event"]

    @property
    def delivery(self) -> str:
        return self.headers["X-Spoke-Delivery"]


@dataclass
class Receiver:
    """Answers `statuses` in order, then `default`; sleeps `delay` seconds before every answer."""

    statuses: list[int] = field(default_factory=list)
    default: int = 200
    delay: float = 0.0
    location: str | None = None
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/spoke?source=test"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.received.append(Received(dict(self.headers.items()), body, self.path, time.monotonic()))
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                time.sleep(receiver.delay)
                try:
                    self.send_response(status)
                    if receiver.location:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up on us: that is the point of a slow receiver

            def log_message(self, *_: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(self, count: int, seconds: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"received {len(self.received)} of {count} requests"
        return list(self.received)


@contextlib.contextmanager
def running_receiver(**options: Any) -> Iterator[Receiver]:
    """`with running_receiver(statuses=[500]) as flaky:` - a started receiver, stopped afterwards."""
    receiver = Receiver(**options).start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as started:
        yield started


SECRET = "a-receiver-secret-of-32-chars!!!"
EVENT = ('{"id":"evt-1","event":"webhook.ping","created_at":"2025-01-01T00:00:00Z","organization":"o",'
         '"data":{}}')


def signed(delivery: str, seconds_ago: int = 0) -> tuple[dict[str, str], bytes]:
    """Headers and body exactly as a delivery of EVENT under `delivery` carries them."""
    body = delivery_body(EVENT, delivery)
    return delivery_headers("webhook.ping", delivery, SECRET, int(time.time()) - seconds_ago, body), body


def test_the_readme_check_accepts_what_spoke_signs() -> None:
    # Given headers and body exactly as a delivery carries them
    headers, body = signed("dlv-1")
    # Then the documented check accepts them, and refuses another secret, a changed body or a stale timestamp
    assert verify(SECRET, headers, body)
    assert not verify("another-secret-of-sixteen", headers, body)
    assert not verify(SECRET, headers, body.replace(b"ping", b"pong"))
    stale_headers, stale_body = signed("dlv-1", seconds_ago=3600)
    assert not verify(SECRET, stale_headers, stale_body)


def test_a_replay_under_a_new_delivery_header_is_refused() -> None:
    # Given a delivery a receiver has processed (and deduplicates on by its X-Spoke-Delivery)
    headers, body = signed("dlv-1")
    # When someone replays it within the tolerance under a new X-Spoke-Delivery
    replayed = {**headers, "X-Spoke-Delivery": "dlv-2"}
    # Then the signature alone would still pass, since the header is not signed...
    signature_only = hmac.new(SECRET.encode(), f"{headers['X-Spoke-Timestamp']}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest("sha256=" + signature_only.hexdigest(), replayed["X-Spoke-Signature"])
    # ...but the documented check refuses it: the signed body names dlv-1
    assert verify(SECRET, headers, body) and not verify(SECRET, replayed, body)
    # And without the header at all it is refused too
    assert not verify(SECRET, {k: v for k, v in headers.items() if k != "X-Spoke-Delivery"}, body)


def test_the_readme_shows_this_check() -> None:
    # Given the README's Python receiver snippet
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [snippet] = [block for block in re.findall(r"```python\n(.*?)```", readme, re.S) if "def verify" in block]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # noqa: S102 - our own README
    readme_verify = namespace["verify"]
    # Then it accepts a real delivery, and refuses a tampered body and a replay under a new delivery id
    headers, body = signed("dlv-2")
    assert readme_verify(SECRET, headers, body) and not readme_verify(SECRET, headers, body + b" ")
    assert not readme_verify(SECRET, {**headers, "X-Spoke-Delivery": "dlv-3"}, body), (
        "the README's verify() must also check X-Spoke-Delivery against the signed body's delivery_id")


def test_the_receiver_records_and_answers_in_order(receiver: Receiver) -> None:
    # Given a receiver told to fail once
    receiver.statuses = [500]
    codes = []
    # When it is posted to twice
    for _ in range(2):
        connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
        connection.request("POST", "/hooks", body=b"{}")
        codes.append(connection.getresponse().status)
        connection.close()
    # Then it answered 500, then 200, and recorded both
    assert codes == [500, 200] and len(receiver.received) == 2
