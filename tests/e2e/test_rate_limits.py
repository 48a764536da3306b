"""Rate limits over real HTTP (`make run`'s stack of its own, free plan at 20 requests per hour so the
test is quick): the X-RateLimit-* headers on the wire, and the 429 with Retry-After once over."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from localdev.stack import Stack, free_port, running_stack
from tests.e2e.conftest import PASSWORD

FREE_PER_HOUR = 20
PLANS = json.dumps({"free": {"requests_per_hour": FREE_PER_HOUR}})


@pytest.fixture(scope="module")
def limited_stack() -> Iterator[Stack]:
    """Given a registry of its own whose free plan allows 20 requests an hour."""
    with running_stack(api_port=free_port(), aws_port=free_port(), quiet=True,
                       environment={"SPOKE_PLANS": PLANS}) as running:
        yield running


def _away_from_the_hour_boundary() -> None:
    """Counts start afresh on each epoch hour: do not straddle one."""
    left = 3600 - time.time() % 3600
    if left < 30:
        time.sleep(left + 1)


def _rate(reply: requests.Response) -> tuple[int, int, int]:
    return (int(reply.headers["X-RateLimit-Limit"]), int(reply.headers["X-RateLimit-Remaining"]),
            int(reply.headers["X-RateLimit-Reset"]))


def test_an_organization_over_its_hourly_rate_gets_429_with_retry_after(limited_stack: Stack) -> None:
    url = limited_stack.api_url
    _away_from_the_hour_boundary()
    # Given a signed-in owner of a free organization
    email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
    assert requests.post(f"{url}/auth/register", json={"email": email, "password": PASSWORD}, timeout=30).ok
    token = requests.post(f"{url}/auth/login", json={"email": email, "password": PASSWORD},
                          timeout=30).json()["data"]["token"]
    auth = {"Authorization": f"Bearer {token}"}
    created = requests.post(f"{url}/organizations", json={"name": "Rated", "slug": f"rated-{uuid.uuid4().hex[:8]}"},
                            headers=auth, timeout=30)
    assert created.status_code == 201, created.text
    in_org = {**auth, "X-Organization-ID": created.json()["data"]["id"]}
    # When it makes its 20 requests of the hour
    replies = [requests.get(f"{url}/modules", headers=in_org, timeout=30) for _ in range(FREE_PER_HOUR)]
    # Then each carries the limit, what remains and the next epoch hour as the reset
    reset = _rate(replies[0])[2]
    assert reset % 3600 == 0 and 0 < reset - time.time() <= 3600
    assert [r.status_code for r in replies] == [200] * FREE_PER_HOUR
    assert [_rate(r) for r in replies] == [(FREE_PER_HOUR, left, reset) for left in range(FREE_PER_HOUR - 1, -1, -1)]
    # When it makes one more
    over = requests.get(f"{url}/modules", headers=in_org, timeout=30)
    # Then it is a 429 in the envelope, with Retry-After until the reset
    assert over.status_code == 429, over.text
    assert _rate(over) == (FREE_PER_HOUR, 0, reset)
    assert 1 <= int(over.headers["Retry-After"]) <= reset - time.time() + 1
    body = over.json()
    assert body["data"] is None and body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert body["error"]["details"]["limit"] == FREE_PER_HOUR and body["error"]["details"]["scope"] == "org"
    assert over.headers["X-Request-ID"] == body["meta"]["request_id"]
    # And the same user in the default organization still has their own budget
    assert requests.get(f"{url}/modules", headers=auth, timeout=30).status_code == 200


def test_anonymous_requests_carry_the_headers_and_health_carries_none(limited_stack: Stack) -> None:
    url = limited_stack.api_url
    _away_from_the_hour_boundary()
    before = _rate(requests.get(f"{url}/modules", timeout=30))
    health = requests.get(f"{url}/health", timeout=30)
    after = requests.get(f"{url}/modules", timeout=30)
    assert health.status_code == 200 and not [h for h in health.headers if h.lower().startswith("x-ratelimit")]
    # /health was not counted: the address's count moved by one request, not two
    assert after.status_code in (200, 429) and _rate(after)[1] == max(0, before[1] - 1)
