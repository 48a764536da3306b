"""Errors raised by the client: one class per thing a caller reacts to differently.

The server's envelope carries `error.code`; the code decides the class when it is a known one, the
status otherwise, so a new server code still lands in the right family (a 404 is always NotFound).
"""
from __future__ import annotations

import json
import re
from typing import Any

import httpx

# When the body is not the envelope (a proxy, S3, a HEAD answer), the status names the code.
STATUS_CODES: dict[int, str] = {
    400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT", 410: "GONE", 411: "LENGTH_REQUIRED", 413: "PAYLOAD_TOO_LARGE", 414: "URI_TOO_LONG",
    415: "UNSUPPORTED_MEDIA_TYPE", 422: "UNPROCESSABLE", 429: "RATE_LIMITED", 431: "HEADERS_TOO_LARGE",
    500: "INTERNAL_ERROR", 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE", 504: "TIMEOUT",
}


class SpokeError(Exception):
    """Any refusal or failure, with what the server said about it (and its request id for support)."""

    def __init__(self, status: int | None, code: str, message: str, details: dict[str, Any] | None = None,
                 request_id: str | None = None, validation_errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{code}: {message}" if status is None else f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}
        self.request_id = request_id
        self.validation_errors: list[dict[str, Any]] = validation_errors or []


class BadRequest(SpokeError):
    """400/422: the request itself is wrong; retrying it unchanged cannot help."""


class Unauthorized(SpokeError):
    """401: no token, or an expired, revoked or tampered one: sign in again."""


class Forbidden(SpokeError):
    """403: signed in, but your role or token scopes do not allow it."""


class QuotaExceeded(Forbidden):
    """The organization's plan is full (modules, versions, bytes...): waiting does not lift it."""


class NotFound(SpokeError):
    """404: no such module, version, file, organization or token (or not visible to you)."""


class Conflict(SpokeError):
    """409: the thing exists, or the state forbids it right now."""


class VersionExists(Conflict):
    """The version was published with other content; versions are immutable."""


class RateLimited(SpokeError):
    """429 after the retries ran out; `retry_after` says when the server will answer again."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class ServerError(SpokeError):
    """5xx: the server or the gateway failed; safe requests were already retried."""


class SpokeConnectionError(SpokeError):
    """No HTTP answer at all (DNS, refused, reset, timeout) after the retries."""


class IntegrityError(SpokeError):
    """Downloaded bytes do not match the size or sha256 the server announced: nothing is returned or kept."""


class DownloadTimeout(SpokeError):
    """The artifact was still being compiled when the caller's deadline passed."""


BY_CODE: dict[str, type[SpokeError]] = {
    "VERSION_EXISTS": VersionExists,
    "QUOTA_EXCEEDED": QuotaExceeded,
    "RATE_LIMIT_EXCEEDED": RateLimited,
    "RATE_LIMITED": RateLimited,
    "TOO_MANY_REQUESTS": RateLimited,
    "TOO_MANY_LOGIN_ATTEMPTS": RateLimited,
}
BY_STATUS: dict[int, type[SpokeError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 422: BadRequest,
    429: RateLimited,
}


def _class_for(status: int, code: str) -> type[SpokeError]:
    if code in BY_CODE:
        return BY_CODE[code]
    if status in BY_STATUS:
        return BY_STATUS[status]
    if status >= 500:
        return ServerError
    return BadRequest if 400 <= status < 500 else SpokeError


def _request_id(response: httpx.Response, meta: Any) -> str | None:
    found = meta.get("request_id") if isinstance(meta, dict) else None
    if isinstance(found, str):
        return found
    header: str | None = response.headers.get("x-request-id") or response.headers.get("x-amzn-requestid")
    return header


def _plain_message(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) of a non-envelope body: S3's XML <Code>/<Message>, else the text's start."""
    text = response.text if response.content else ""
    code = re.search(r"<Code>([^<]{1,100})</Code>", text)
    message = re.search(r"<Message>([^<]{1,500})</Message>", text)
    if code:
        return code.group(1), message.group(1) if message else code.group(1)
    return None, (text.strip()[:300] or response.reason_phrase or f"HTTP {response.status_code}")


def error_from_response(response: httpx.Response, retry_after: float | None = None) -> SpokeError:
    """The SpokeError a non-2xx response stands for, whatever its body is."""
    status = response.status_code
    body: Any = None
    if response.content:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        code, message = error["code"], str(error.get("message") or error["code"])
        details = error.get("details") if isinstance(error.get("details"), dict) else {}
        validation = error.get("validation_errors") if isinstance(error.get("validation_errors"), list) else []
    else:
        plain_code, message = _plain_message(response)
        code = plain_code or STATUS_CODES.get(status, f"HTTP_{status}")
        details, validation = {}, []
    cls = _class_for(status, code)
    args = (status, code, message, details, _request_id(response, body.get("meta") if isinstance(body, dict)
                                                        else None), validation)
    if cls is RateLimited:
        return RateLimited(*args, retry_after=retry_after)
    return cls(*args)
