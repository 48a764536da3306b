"""Fixtures: a client wired to the scripted server, with sleeps recorded instead of slept."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from spoke_client import SpokeClient
from tests.unit.client.fakes import BASE, Server


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server: Server, sleeps: list[float]) -> Iterator[SpokeClient]:
    with SpokeClient(BASE, token="tok-123", organization="acme", max_retries=3, transport=httpx.MockTransport(server),
                     sleep=sleeps.append) as spoke:
        yield spoke
