"""Fixtures of the CLI's tests: a scripted registry, and the app bound to it (`cli`, or `spoke` to run
`spoke ...` through typer's CliRunner with the real option and credential handling)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

import spoke_cli.breaking as breaking_cli
import spoke_cli.inspect as inspect_cli
from spoke_cli import config
from spoke_cli.main import app
from tests.unit.cli.scripted import Cli
from tests.unit.client.fakes import BASE, Server


@pytest.fixture
def registry() -> Server:
    return Server()


@pytest.fixture
def cli(registry: Server, tmp_path: Path) -> Cli:
    return Cli(registry, tmp_path / "config")


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def spoke(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Runs `spoke ...` in tmp_path against the scripted registry (the real option/credential handling)."""
    real_client_from = config.client_from

    def scripted_client(opts: config.GlobalOptions, **kwargs: Any) -> Any:
        return real_client_from(opts, transport=httpx.MockTransport(server), sleep=lambda _: None, **kwargs)

    for command in (inspect_cli, breaking_cli):
        monkeypatch.setattr(command, "client_from", scripted_client)
    monkeypatch.chdir(tmp_path)
    env = {"SPOKE_URL": BASE, "SPOKE_TOKEN": "tok-ci", "SPOKE_ORG": None, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    return lambda *args: CliRunner().invoke(app, list(args), env=env)
