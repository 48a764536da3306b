"""Fixtures of the CLI's own tests (H1): a scripted registry and the app bound to it."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.scripted import Cli
from tests.unit.client.fakes import Server


@pytest.fixture
def registry() -> Server:
    return Server()


@pytest.fixture
def cli(registry: Server, tmp_path: Path) -> Cli:
    return Cli(registry, tmp_path / "config")
