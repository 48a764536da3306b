"""Webhook HTTP: vet a URL's addresses, then POST to the vetted address itself, within a hard deadline.

The name is resolved once; every address must pass `address_refusal`, and the connection goes to
that address (Host header and TLS server name from the URL), so a DNS answer that changes between
the check and the connect cannot redirect us. Redirects are never followed, proxies never used,
and a watchdog closes the socket at the deadline, so a receiver that trickles bytes cannot hold a
worker longer than the timeout. Standard library only: nothing to package into the Lambda.
"""
from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from chalicelib.domain.errors import InvalidWebhookUrl
from chalicelib.domain.webhooks import Target, address_refusal, parse_url

_resolver = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook-dns")  # getaddrinfo has no timeout


@dataclass(frozen=True)
class HttpResult:
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to a vetted IP but verifies the certificate (and sends SNI) for the URL's host name."""

    def __init__(self, address: str, port: int, server_name: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(address, port, timeout=timeout, context=context)
        self._server_name, self._tls = server_name, context

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self._server_name)


class HttpDelivery:
    def __init__(self, timeout_seconds: float, allow_loopback: bool) -> None:
        self._timeout = timeout_seconds
        self._allow_loopback = allow_loopback
        self._tls = ssl.create_default_context()

    def vet(self, url: str) -> Target:
        """The URL's target if every address it resolves to may be contacted; InvalidWebhookUrl if not."""
        target = parse_url(url)
        self._vetted_address(target, url)
        return target

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
        """One attempt; never raises: refusals, timeouts and failures come back as `error`."""
        started = time.monotonic()
        aborted = threading.Event()
        try:
            target = parse_url(url)
            address = self._vetted_address(target, url)
            status, error = self._exchange(target, address, body, headers, started + self._timeout, aborted), None
        except InvalidWebhookUrl as refused:
            status, error = None, f"refused: {refused.details.get('reason', refused.message)}"
        except (TimeoutError, FutureTimeout):
            status, error = None, f"timed out after {self._timeout:g}s"
        except ssl.SSLError as failure:
            status, error = None, f"TLS failed: {failure.reason or type(failure).__name__}"
        except (OSError, http.client.HTTPException) as failure:
            status, error = None, (f"timed out after {self._timeout:g}s" if aborted.is_set()
                                   else f"connection failed: {type(failure).__name__}: {failure}"[:300])
        if status is not None and not 200 <= status < 300:
            error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
        return HttpResult(status, int((time.monotonic() - started) * 1000), error)

    def _vetted_address(self, target: Target, url: str) -> str:
        try:
            infos = _resolver.submit(socket.getaddrinfo, target.host, target.port,
                                     type=socket.SOCK_STREAM).result(timeout=self._timeout)
        except (socket.gaierror, UnicodeError):
            raise InvalidWebhookUrl(f"Webhook URL refused: '{target.host}' does not resolve",
                                    details={"url": url, "reason": "the host name does not resolve"}) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            reason = address_refusal(address, self._allow_loopback)
            if reason:
                raise InvalidWebhookUrl(f"Webhook URL refused: '{target.host}' resolves to {address}, {reason}",
                                        details={"url": url, "reason": f"{address} is {reason}"})
        if not addresses:
            raise InvalidWebhookUrl("Webhook URL refused: no address", details={"url": url, "reason": "no address"})
        return addresses[0]

    def _exchange(self, target: Target, address: str, body: bytes, headers: dict[str, str], deadline: float,
                  aborted: threading.Event) -> int:
        remaining = max(deadline - time.monotonic(), 0.001)
        connection: http.client.HTTPConnection = (
            PinnedHTTPSConnection(address, target.port, target.host, remaining, self._tls)
            if target.scheme == "https" else http.client.HTTPConnection(address, target.port, timeout=remaining))

        def abort() -> None:
            aborted.set()
            sock = connection.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        watchdog = threading.Timer(remaining, abort)
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request("POST", target.request_path, body=body, headers={
                **headers, "Host": target.host_header, "Content-Length": str(len(body)), "Connection": "close"})
            status = connection.getresponse().status
            if aborted.is_set():  # a cut-off response can parse as complete: it still came too late
                raise TimeoutError
            return status
        finally:
            watchdog.cancel()
            connection.close()
