"""`chalice local` with a deeper listen queue, and Spoke's envelope at the edge.

Chalice's local server keeps socketserver's default backlog of 5, so a burst of new connections
(20 clients publishing at once) gets some of them reset by the kernel. API Gateway has no such
limit; raising the backlog keeps the local stack faithful.

Two kinds of answer never reach the application, so its middleware cannot put them in the
envelope; on AWS the gateway responses of `infra/template.yaml` do, and here the two smallest
overrides of `chalice.local` do the same:

- an unknown path: chalice's gateway answers 403 `{"message": "Missing Authentication Token"}`
  (as API Gateway does); here it is 404 `NOT_FOUND`, as the gateway response makes it on AWS;
- a request `http.server` refuses before chalice sees it (a header line over 65,536 bytes or more
  than 100 headers: 431 `HEADERS_TOO_LARGE`; a request line over 65,536 bytes: 414 `URI_TOO_LONG`;
  a malformed request line: 400 `BAD_REQUEST`; a method nothing serves: 405 `METHOD_NOT_ALLOWED`)
  gets the envelope instead of http.server's HTML page. So do a Content-Length that is not a number
  (400), a chunked body (411 `LENGTH_REQUIRED`: API Gateway's REST APIs take sized bodies) and a
  body over API Gateway's 10 MB (413 `PAYLOAD_TOO_LARGE`, as the REQUEST_TOO_LARGE gateway response).

Every such answer carries `X-Request-ID` (the caller's, if sane, as the application does).
Arguments are chalice's own.
"""
from __future__ import annotations

import functools
import json
import re
import sys
from http.server import BaseHTTPRequestHandler
from typing import Any

from chalice import local
from chalice.cli import main as chalice_main

from chalicelib.api.http import new_request_id
from chalicelib.services.common import utc_now

API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024
NOT_FOUND_MESSAGE = "No such endpoint: check the method and the path"
# What http.server refuses on its own, as (status, code) in the envelope. 501 (a method token with
# no do_* handler) and 505 (HTTP/2+ in a request line) are the client's doing, so they are 4xx here.
_EDGE_REFUSALS = {
    400: (400, "BAD_REQUEST"),
    411: (411, "LENGTH_REQUIRED"),
    413: (413, "PAYLOAD_TOO_LARGE"),
    414: (414, "URI_TOO_LONG"),
    431: (431, "HEADERS_TOO_LARGE"),
    501: (405, "METHOD_NOT_ALLOWED"),
    505: (400, "BAD_REQUEST"),
}
_EDGE_MESSAGES = {
    "URI_TOO_LONG": "The request line is longer than 65,536 bytes",
    "HEADERS_TOO_LARGE": "A request header line is longer than 65,536 bytes, or there are more than 100 headers",
    "METHOD_NOT_ALLOWED": "This HTTP method is not served",
}
_DIGITS = re.compile(r"[0-9]{1,19}")


def envelope_error(code: str, message: str, request_id: str) -> bytes:
    """The application's error envelope, byte for byte the shape `chalicelib.api.http` answers."""
    return json.dumps({"data": None,
                       "error": {"code": code, "message": message, "details": {}, "validation_errors": []},
                       "meta": {"request_id": request_id, "timestamp": utc_now()}}).encode()


class RouteNotFound(local.LocalGatewayException):
    CODE = 404


class EnvelopeGateway(local.LocalGateway):
    """Chalice's local API Gateway, answering an unknown path with the 404 envelope."""

    def _generate_lambda_event(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            return super()._generate_lambda_event(method, path, headers, body)
        except ValueError:  # chalice's RouteMatcher: no route has this path
            request_id = new_request_id(_header(headers, "x-request-id"))
            raise RouteNotFound({"Content-Type": "application/json", "X-Request-ID": request_id,
                                 "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
                                envelope_error("NOT_FOUND", NOT_FOUND_MESSAGE, request_id)) from None


class EnvelopeRequestHandler(local.ChaliceRequestHandler):
    """Chalice's request handler, with http.server's own refusals in the envelope."""

    headers: Any  # http.server's parsed headers; None while a new request line is parsed
    request_version: str

    def parse_request(self) -> bool:
        self.headers = None  # not the previous request's on this connection, should parsing fail
        if not BaseHTTPRequestHandler.parse_request(self):
            return False
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") is not None:
            self.send_error(411, "Send the body with a Content-Length, not Transfer-Encoding")
        elif length is not None and not _DIGITS.fullmatch(length.strip()):
            self.send_error(400, "Content-Length must be a number of bytes")
        elif length is not None and int(length) > API_GATEWAY_MAX_BODY_BYTES:
            self.send_error(413, f"Request body is {int(length)} bytes; API Gateway takes at most "
                                 f"{API_GATEWAY_MAX_BODY_BYTES} bytes")
        else:
            return True
        return False

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        status, error_code = _EDGE_REFUSALS.get(code, (400, "BAD_REQUEST"))
        text = _EDGE_MESSAGES.get(error_code) or message or "Malformed request"
        headers = getattr(self, "headers", None) if getattr(self, "requestline", "") else None
        request_id = new_request_id(headers.get("X-Request-ID") if headers is not None else None)
        body = envelope_error(error_code, text, request_id)
        self.log_error("code %d, message %s", code, message)
        if self.request_version == "HTTP/0.9":  # a request line http.server could not read: still answer HTTP/1.x
            self.request_version = "HTTP/1.0"
        self.send_response(status)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-ID", request_id)
        self.send_header("Cache-Control", "no-store")  # as API Gateway's own answers (infra/template.yaml)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


    def _send_http_response(self, code: int, headers: Any, body: str | bytes | None) -> None:
        """A HEAD answer is the GET answer without its body (RFC 9110): chalice's own handler would write
        the body, and a Content-Length of 0 beside the one the view set for the body it left out."""
        if self.command != "HEAD":
            super()._send_http_response(code, headers, body)
            return
        length = _header(headers, "content-length")
        headers = {key: value for key, value in dict(headers).items() if key.lower() != "content-length"}
        if length is None:
            length = str(len(body.encode() if isinstance(body, str) else body or b""))
        self.send_response(code)
        self.send_header("Content-Length", length)
        self._send_headers(headers)  # ends the headers; nothing follows


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name:
            return value
    return None


def create_local_server(app_obj: Any, config: Any, host: str, port: int) -> local.LocalDevServer:
    """chalice's own factory, with the request handler above (the gateway is looked up by name)."""
    server = _chalice_create_local_server(app_obj, config, host, port)
    server.server.RequestHandlerClass = functools.partial(EnvelopeRequestHandler, app_object=app_obj,
                                                          config=config)
    return server


_chalice_create_local_server = local.create_local_server


def install() -> None:
    """Put the overrides in place: only the `chalice local` process started below calls this."""
    local.ThreadedHTTPServer.request_queue_size = 128
    # ChaliceRequestHandler looks the class up by name per connection; mypy refuses replacing a class.
    local.LocalGateway = EnvelopeGateway  # type: ignore[misc]
    local.create_local_server = create_local_server


if __name__ == "__main__":
    install()
    sys.argv = ["chalice", "local", *sys.argv[1:]]
    sys.exit(chalice_main())
