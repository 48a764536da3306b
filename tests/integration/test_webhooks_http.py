"""The webhook HTTP adapter against real sockets: pinning, vetting at send time, redirects, deadlines."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.adapters.http_delivery import HttpDelivery
from chalicelib.domain.errors import InvalidWebhookUrl
from tests.integration.test_webhooks_receiver import Receiver, running_receiver

HEADERS = {"Content-Type": "application/json", "X-Spoke-Event": "webhook.ping"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as started:
        yield started


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """Resolve the given names to the given addresses (in turn, if several); record every lookup."""
    real, lookups = socket.getaddrinfo, []

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        address = answers[host][min(len(lookups), len(answers[host])) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def test_it_connects_to_the_vetted_address_with_the_name_in_the_host_header(
        receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a name that resolves to the receiver's loopback address, and loopback allowed
    lookups = fake_dns(monkeypatch, {"hooks.example.test": ["127.0.0.1"]})
    http = HttpDelivery(timeout_seconds=2, allow_loopback=True)
    # When a delivery is posted to it
    result = http.post(f"http://hooks.example.test:{receiver.port}/in?x=1", b'{"a":1}', HEADERS)
    # Then it resolved the name once, reached the receiver, and kept the name, path and query
    assert result.ok and result.status_code == 200 and result.error is None
    assert lookups == ["hooks.example.test"]
    [request] = receiver.received
    assert request.headers["Host"] == f"hooks.example.test:{receiver.port}"
    assert request.path == "/in?x=1" and request.body == b'{"a":1}'


def test_a_name_that_now_resolves_to_a_private_address_is_refused_at_send_time(
        receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a name that was public when registered and now resolves to a private address
    fake_dns(monkeypatch, {"rebound.example.test": ["93.184.216.34", "10.0.0.7"]})
    http = HttpDelivery(timeout_seconds=2, allow_loopback=True)
    http.vet("https://rebound.example.test/hook")
    # When a delivery is attempted
    result = http.post("https://rebound.example.test/hook", b"{}", HEADERS)
    # Then nothing is sent, and the history will say why
    assert not result.ok and result.status_code is None
    assert result.error == "refused: 10.0.0.7 is a private address"


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"])
def test_metadata_addresses_are_refused_even_with_loopback_allowed(monkeypatch: pytest.MonkeyPatch,
                                                                   address: str) -> None:
    fake_dns(monkeypatch, {"metadata.example.test": [address]})
    with pytest.raises(InvalidWebhookUrl, match="metadata|link-local"):
        HttpDelivery(timeout_seconds=2, allow_loopback=True).vet("http://metadata.example.test/")


@pytest.mark.parametrize("address, reason", [
    ("fec0::1", "fec0::1 is a site-local address"),
    ("2002:a00:7::1", "2002:a00:7::1 is a 6to4 address of 10.0.0.7, a private address"),
    ("64:ff9b::a00:7", "64:ff9b::a00:7 is a NAT64 address of 10.0.0.7, a private address"),
    ("3fff::1", "3fff::1 is a documentation address (3fff::/20)"),
    ("100.64.1.2", "100.64.1.2 is a shared (carrier-grade NAT) address (100.64.0.0/10)"),
])
def test_a_name_resolving_to_a_non_global_address_is_refused_saying_which_and_why(
        monkeypatch: pytest.MonkeyPatch, address: str, reason: str) -> None:
    # Given a name that resolves to an address that is not globally routable, and loopback allowed
    fake_dns(monkeypatch, {"inward.example.test": [address]})
    http = HttpDelivery(timeout_seconds=2, allow_loopback=True)
    # When it is registered, or an attempt is made
    with pytest.raises(InvalidWebhookUrl) as refused:
        http.vet("https://inward.example.test/hook")
    result = http.post("https://inward.example.test/hook", b"{}", HEADERS)
    # Then both refuse it, naming the address and the reason
    assert refused.value.details["reason"] == reason
    assert not result.ok and result.error == f"refused: {reason}"


def test_redirects_are_not_followed() -> None:
    # Given a receiver that redirects to another receiver
    with running_receiver() as target, running_receiver(default=302, location=target.url) as redirecting:
        # When a delivery is posted to the first
        result = HttpDelivery(timeout_seconds=2, allow_loopback=True).post(redirecting.url, b"{}", HEADERS)
    # Then the 302 is a failed attempt and the redirect target hears nothing
    assert not result.ok and result.status_code == 302 and "redirects are not followed" in (result.error or "")
    assert target.received == []


@pytest.fixture
def trickler() -> Iterator[int]:
    """A server that answers a status line, then one header byte every 0.2 s, forever."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                return
            connection.recv(65536)
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while not stop.is_set():
                    connection.sendall(b"a")
                    time.sleep(0.2)
            except OSError:
                pass
            finally:
                connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    stop.set()
    server.close()


def test_a_trickling_receiver_is_cut_off_at_the_deadline(trickler: int) -> None:
    # Given a receiver that never finishes its headers, though each byte comes well within the timeout
    http = HttpDelivery(timeout_seconds=1, allow_loopback=True)
    # When a delivery is posted to it (in a thread, so that a missing deadline fails instead of hanging)
    results: list[Any] = []
    attempt = threading.Thread(target=lambda: results.append(
        http.post(f"http://127.0.0.1:{trickler}/", b"{}", HEADERS)), daemon=True)
    attempt.start()
    attempt.join(timeout=30)
    # Then the attempt ended, as a timeout, although the receiver never stopped sending
    assert not attempt.is_alive()
    [result] = results
    assert not result.ok and result.error == "timed out after 1s"


def test_a_closed_port_is_a_failed_attempt_not_an_exception() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = HttpDelivery(timeout_seconds=1, allow_loopback=True).post(f"http://127.0.0.1:{port}/", b"{}", HEADERS)
    assert not result.ok and result.status_code is None and "connection failed" in (result.error or "")


def test_loopback_is_refused_by_default(receiver: Receiver) -> None:
    result = HttpDelivery(timeout_seconds=1, allow_loopback=False).post(receiver.url, b"{}", HEADERS)
    assert result.error == "refused: 127.0.0.1 is a loopback address" and receiver.received == []
