"""The request loop every client call goes through: headers, retries, rate-limit bookkeeping, errors.

Two httpx clients: one for the API (base URL, bearer token, organization) and a bare one for
presigned S3 URLs, which must never see the token.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from spoke_client.errors import SpokeConnectionError, error_from_response
from spoke_client.models import RateLimit
from spoke_client.retry import NEVER_RETRY_CODES, RetryPolicy, parse_retry_after

USER_AGENT = "spoke-client/0.1"


def segment(value: str) -> str:
    """One path segment, fully escaped: versions may hold `+` (build metadata)."""
    return quote(str(value), safe="")


def file_path(path: str) -> str:
    """A file path in a URL: each directory escaped, the slashes kept (the server routes by depth)."""
    return "/".join(segment(part) for part in path.split("/"))


def _error_code(response: httpx.Response) -> str | None:
    try:
        error = json.loads(response.content).get("error") if response.content else None
    except (ValueError, AttributeError):
        return None
    return error.get("code") if isinstance(error, dict) else None


class HttpCore:
    """Sends requests with retries; subclasses add the API's methods."""

    def __init__(self, base_url: str, token: str | None, organization: str | None, *, timeout: float,
                 max_retries: int, transport: httpx.BaseTransport | None, sleep: Callable[[float], None],
                 clock: Callable[[], float], retry_policy: RetryPolicy | None) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.organization = organization
        self.retry = retry_policy or RetryPolicy(max_retries=max_retries)
        self.rate_limit: RateLimit | None = None
        self._sleep = sleep
        self._clock = clock
        headers = {"User-Agent": USER_AGENT}
        self._api = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport, headers=headers)
        self._bare = httpx.Client(timeout=timeout, transport=transport, headers=headers)

    def close(self) -> None:
        self._api.close()
        self._bare.close()

    def _api_headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.organization:
            headers["X-Organization-ID"] = self.organization
        headers.update(extra or {})
        return headers

    def send(self, method: str, url: str, *, api: bool = True, idempotent: bool | None = None,
             retry: bool = True, ok: Iterable[int] = (), headers: Mapping[str, str] | None = None,
             **kwargs: Any) -> httpx.Response:
        """One logical request: retried per the policy, a SpokeError unless the status is < 400 or in `ok`.

        `api=False` sends to an absolute (presigned) URL without the token or the organization.
        """
        client = self._api if api else self._bare
        sent_headers = self._api_headers(headers) if api else dict(headers or {})
        allowed = set(ok)
        attempt = 0
        while True:
            try:
                response = client.request(method, url, headers=sent_headers, **kwargs)
            except httpx.TransportError as error:
                if retry and attempt < self.retry.max_retries and \
                        self.retry.retryable_exception(method, error, idempotent):
                    self._sleep(self.retry.backoff(attempt))
                    attempt += 1
                    continue
                raise SpokeConnectionError(None, "CONNECTION_ERROR", f"{method} {url}: {error!r}") from error
            if api:
                self.rate_limit = RateLimit.from_headers(response.headers) or self.rate_limit
            if response.status_code < 400 or response.status_code in allowed:
                return response
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retry and attempt < self.retry.max_retries and \
                    self.retry.retryable_status(method, response.status_code, idempotent) and \
                    _error_code(response) not in NEVER_RETRY_CODES:
                delay = self.retry.delay(attempt, retry_after)
                if delay is not None:
                    self._sleep(delay)
                    attempt += 1
                    continue
            raise error_from_response(response, retry_after)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """An API call's `data` (the envelope unwrapped); None for an empty answer such as 204."""
        response = self.send(method, path, **kwargs)
        return unwrap(response)


def unwrap(response: httpx.Response) -> Any:
    if not response.content:
        return None
    body = response.json()
    if isinstance(body, dict) and "data" in body and "error" in body:
        return body["data"]
    return body
