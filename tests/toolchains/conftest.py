"""Toolchain fixtures: one local registry per session, `common` and `orders` published and compiled once.

Every test then downloads what a user would and builds it with that language's own toolchain, installed
from Debian's packages by install_toolchains.sh (`make toolchains` runs it first).
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from localdev.stack import free_port, running_stack
from tests.plans import GENEROUS_PLANS
from tests.toolchains.protos import COMMON, COMMON_FILES, ORDERS, ORDERS_FILES, VERSION
from tests.toolchains.registry import Registry


@pytest.fixture(scope="session")
def registry() -> Iterator[Registry]:
    """Given the registry running locally, with `orders` depending on `common`, both compiled."""
    environment = {"SPOKE_PLANS": GENEROUS_PLANS}
    with running_stack(api_port=free_port(), aws_port=free_port(), quiet=True, environment=environment) as stack:
        spoke = Registry.sign_up(stack.api_url)
        spoke.publish(COMMON, COMMON_FILES)
        spoke.publish(ORDERS, ORDERS_FILES, dependencies=(f"{COMMON}@{VERSION}",))
        for module in (COMMON, ORDERS):
            spoke.wait_compiled(module)   # each test's download says it when its language failed
        yield spoke
