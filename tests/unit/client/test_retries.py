"""Retries: waits the server asks for are honoured, unsafe requests are never doubled."""
from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Iterator

import httpx
import pytest

from spoke_client import RateLimited, RetryPolicy, ServerError, SpokeClient, SpokeConnectionError, parse_retry_after
from tests.unit.client.fakes import BASE, Server, envelope, error

LIMITED = {"Retry-After": "7", "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
           "X-RateLimit-Reset": "1700000060"}


def test_429_with_retry_after_waits_that_long_then_succeeds(server: Server, client: SpokeClient,
                                                            sleeps: list[float]) -> None:
    # Given a rate-limited first answer that says to come back in 7 s
    server.on("GET", f"{BASE}/modules/user", error(429, "RATE_LIMIT_EXCEEDED", headers=LIMITED),
              envelope({"name": "user", "versions": ["v1.0.0"], "latest_version": "v1.0.0"},
                       headers={"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99",
                                "X-RateLimit-Reset": "1700000120"}))

    # When the user reads the module
    module = client.get_module("user")

    # Then the client waited exactly 7 s, got the module, and reports the fresh rate-limit window
    assert sleeps == [7.0]
    assert module.latest_version == "v1.0.0" and client.rate_limit is not None
    assert (client.rate_limit.limit, client.rate_limit.remaining, client.rate_limit.reset) == (100, 99, 1700000120)


def test_gives_up_after_max_retries_with_rate_limited(server: Server, client: SpokeClient,
                                                      sleeps: list[float]) -> None:
    # Given a server that keeps refusing
    server.on("GET", f"{BASE}/modules/user", error(429, "RATE_LIMIT_EXCEEDED", "slow down", headers=LIMITED))

    # When the user reads the module
    with pytest.raises(RateLimited) as raised:
        client.get_module("user")

    # Then it tried 1 + max_retries times, and the error says when to come back
    assert len(server.requests) == 4 and sleeps == [7.0, 7.0, 7.0]
    assert raised.value.retry_after == 7.0 and raised.value.code == "RATE_LIMIT_EXCEEDED"
    assert client.rate_limit is not None and client.rate_limit.remaining == 0


def test_a_retry_after_beyond_the_cap_fails_at_once(server: Server, sleeps: list[float]) -> None:
    # Given a client that waits at most 60 s and a server asking for an hour
    server.on("GET", f"{BASE}/modules/user", error(429, "RATE_LIMIT_EXCEEDED", headers={"Retry-After": "3600"}))
    spoke = SpokeClient(BASE, transport=httpx.MockTransport(server), sleep=sleeps.append,
                        retry_policy=RetryPolicy(max_retries=3, max_retry_after=60))

    # When the user reads the module, then they learn it at once rather than after a useless wait
    with pytest.raises(RateLimited) as raised:
        spoke.get_module("user")
    assert sleeps == [] and raised.value.retry_after == 3600.0


def test_post_is_not_retried_on_500(server: Server, client: SpokeClient, sleeps: list[float]) -> None:
    # Given a create that fails inside the server (it may have done the work)
    server.on("POST", f"{BASE}/modules", error(500, "INTERNAL_ERROR", "boom"))

    # When the user creates a module, then the failure surfaces after one attempt: nothing is doubled
    with pytest.raises(ServerError):
        client.create_module("user", "User service")
    assert len(server.requests) == 1 and sleeps == []


def test_post_is_retried_on_503_and_gets_backoff_with_jitter(server: Server, sleeps: list[float]) -> None:
    # Given a 503 without Retry-After (nothing was done), then success
    server.on("POST", f"{BASE}/modules", error(503, "SERVICE_UNAVAILABLE"), envelope({"name": "user"}, 201))
    spoke = SpokeClient(BASE, transport=httpx.MockTransport(server), sleep=sleeps.append,
                        retry_policy=RetryPolicy(max_retries=2, backoff_base=0.5, rng=random.Random(1)))

    # When the user creates a module
    module = spoke.create_module("user")

    # Then it was retried once after a jittered wait within the first backoff bound
    assert module.name == "user" and len(server.requests) == 2
    assert len(sleeps) == 1 and 0.0 <= sleeps[0] <= 0.5


def test_get_is_retried_on_502_and_connection_errors(server: Server, client: SpokeClient,
                                                     sleeps: list[float]) -> None:
    # Given a dropped connection, then a bad gateway, then the answer
    calls: Iterator[httpx.Response | Exception] = iter([httpx.ReadError("reset"), error(502, "BAD_GATEWAY"),
                                                        envelope({"name": "user"})])

    def answer(request: httpx.Request) -> httpx.Response:
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    server.on("GET", f"{BASE}/modules/user", answer)

    # When the user reads the module, then the read succeeds on the third attempt
    assert client.get_module("user").name == "user"
    assert len(sleeps) == 2


def test_post_is_not_retried_after_a_read_error(server: Server, client: SpokeClient, sleeps: list[float]) -> None:
    # Given a connection that drops after the create was sent
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("reset")
    server.on("POST", f"{BASE}/organizations", answer)

    # When the user creates an organization, then they get a connection error after one attempt
    with pytest.raises(SpokeConnectionError):
        client.create_organization("Acme", "acme")
    assert len(server.requests) == 1 and sleeps == []


def test_quota_exceeded_is_not_retried(server: Server, client: SpokeClient, sleeps: list[float]) -> None:
    # Given a plan that is full (waiting does not lift a quota)
    server.on("POST", f"{BASE}/modules", error(429, "QUOTA_EXCEEDED", "module quota", details={"quota": "modules"}))

    # When the user creates a module, then the quota error comes back at once
    from spoke_client import QuotaExceeded
    with pytest.raises(QuotaExceeded) as raised:
        client.create_module("user")
    assert sleeps == [] and raised.value.details == {"quota": "modules"}


def test_retry_after_reads_seconds_and_http_dates() -> None:
    # Given both forms RFC 9110 allows, when parsed, then both give seconds from now
    now = time.time()
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
