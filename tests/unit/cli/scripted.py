"""Runs the `spoke` app in-process (typer's CliRunner) against the scripted registry of tests/unit/client:
the real option, credential and error handling, no network, no sleeping."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner, Result

from spoke_cli.config import GlobalOptions
from spoke_cli.main import app
from tests.unit.client.fakes import BASE, Server


@dataclass
class Cli:
    server: Server
    config_home: Path
    env: dict[str, str] = field(default_factory=dict)
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def clock(self) -> float:
        """Time passes only by (recorded) sleeps: deadlines are reached without waiting."""
        return sum(self.sleeps)

    def __call__(self, *args: str, input: str | None = None, **env: str | None) -> Result:
        """`spoke ARGS`; SPOKE_URL is the scripted server unless `env` says otherwise."""
        variables: dict[str, Any] = {"SPOKE_URL": BASE, "SPOKE_ORG": None, "SPOKE_TOKEN": None,
                                     "XDG_CONFIG_HOME": str(self.config_home), **self.env, **env}
        options = GlobalOptions(env={k: v for k, v in variables.items() if v is not None},
                                client_kwargs={"transport": httpx.MockTransport(self.server),
                                               "sleep": self.sleep, "clock": self.clock})
        return CliRunner().invoke(app, list(args), input=input, env=variables, obj=options)
