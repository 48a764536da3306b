"""HTTP middleware: a request id on every response, and Chalice's own errors in our envelope."""
from __future__ import annotations

from typing import Any, Callable

from chalice import Response
from chalice.app import Request

from chalicelib.api.http import error_envelope, new_request_id, request_id_var

_CHALICE_CODES = {
    "UnsupportedMediaType": "UNSUPPORTED_MEDIA_TYPE",
    "MethodNotAllowedError": "METHOD_NOT_ALLOWED",
    "BadRequest": "BAD_REQUEST",
    "BadRequestError": "BAD_REQUEST",
    "NotFoundError": "NOT_FOUND",
    "InternalServerError": "INTERNAL_ERROR",
}


def request_id_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    request_id_var.set(new_request_id(event.headers.get("x-request-id")))
    response = get_response(event)
    body = response.body
    if isinstance(body, dict) and "Code" in body and "Message" in body:
        message = str(body["Message"]) if response.status_code < 500 else "Internal server error"
        response = error_envelope(_CHALICE_CODES.get(body["Code"], "BAD_REQUEST"), message,
                                  response.status_code, headers=_keep_headers(response.headers))
    response.headers["X-Request-ID"] = request_id_var.get()
    return response


def _keep_headers(headers: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() in ("allow",)}

