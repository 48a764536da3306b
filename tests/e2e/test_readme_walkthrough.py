"""The README's walk-through, run verbatim against `make run`: a new user types exactly those blocks.

Every ```bash block of the section `## Walk-through` is concatenated, in order, into one script run by
bash with `set -euo pipefail` in an empty directory, with the checkout's .venv/bin first on PATH (where
`make run` installs `spoke`) and a HOME of its own (so `spoke login` writes a fresh credentials file).
The registry is `python -m localdev.run`, exactly what `make run` starts, with its default plans (the
walk-through must fit a free plan's hourly rate) and its console captured.

One substitution: the README says `http://localhost:8080` (make run's address) and the test's stack
listens on a free port instead, so that it never collides with a developer's `make run` or another test
run on the same machine. Only that exact string is replaced: the README's commands are otherwise run
byte for byte, and a change to the README that breaks the walk-through fails this test.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from localdev.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SECTION_HEADING = "## Walk-through"
README_API_URL = "http://localhost:8080"
START_SECONDS = 120
SCRIPT_SECONDS = 180      # the walk-through takes ~15 s (its compile waits stop at 60 s); this only stops a hang
STOP_SECONDS = 30
FREE_PLAN_REQUESTS_PER_HOUR = 100
BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)


def walkthrough_section(markdown: str) -> str:
    """The text from the `## Walk-through` heading up to the next second-level heading."""
    start = markdown.index(f"\n{SECTION_HEADING}") + 1
    following = markdown.find("\n## ", start + len(SECTION_HEADING))
    return markdown[start:following if following != -1 else len(markdown)]


def walkthrough_blocks(markdown: str) -> list[str]:
    return BASH_BLOCK.findall(walkthrough_section(markdown))


def walkthrough_script(markdown: str, api_url: str) -> str:
    """The blocks as one script that stops at the first failing command, pointed at `api_url`."""
    body = "\n".join(walkthrough_blocks(markdown)).replace(README_API_URL, api_url)
    return "set -euo pipefail\n" + body


def test_the_walkthrough_covers_what_a_new_user_does() -> None:
    # Given the README's walk-through as the test runs it
    script = walkthrough_script(README.read_text(), "http://127.0.0.1:1")

    # Then it takes every step issue 11 names, against the stack's URL and never make run's port
    assert len(walkthrough_blocks(README.read_text())) >= 5
    for step in ("/auth/register", "/auth/login", "-F \"version=v1.0.0\"", "/files/user.proto", "If-None-Match",
                 "/download/go", "/download/python", "-F \"version=v1.1.0\"", "/compatibility/check",
                 "spoke login", "spoke push", "spoke pull user@latest", "spoke generate",
                 "spoke breaking proto/ --against spoke://user@v1.0.0", "cp -r proto old-proto",
                 "spoke breaking proto/ --against old-proto/"):
        assert step in script, f"the walk-through no longer has {step!r}"
    assert "localhost:8080" not in script


@dataclass
class Run:
    api_url: str
    console: Path


def _registry_environment(api_port: int, aws_port: int) -> dict[str, str]:
    """`make run`'s environment: none of the test session's plans, endpoints or verbosity."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPOKE_", "AWS_"))}
    return {**env, "SPOKE_PORT": str(api_port), "SPOKE_AWS_PORT": str(aws_port)}


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[Run]:
    """Given `python -m localdev.run` (what `make run` runs) on free ports, its console in a file."""
    api_port, aws_port = free_port(), free_port()
    while aws_port == api_port:
        aws_port = free_port()
    console = tmp_path / "console.log"
    with console.open("wb") as log:
        runner = subprocess.Popen([sys.executable, "-m", "localdev.run"], cwd=ROOT,
                                  env=_registry_environment(api_port, aws_port), stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            api_url = f"http://127.0.0.1:{api_port}"
            deadline = time.monotonic() + START_SECONDS
            while not _healthy(api_url):
                assert runner.poll() is None, f"make run exited early:\n{console.read_text()}"
                assert time.monotonic() < deadline, (
                    f"make run did not answer in {START_SECONDS}s:\n{console.read_text()}")
                time.sleep(0.5)
            yield Run(api_url=api_url, console=console)
        finally:
            if runner.poll() is None:
                os.killpg(runner.pid, signal.SIGINT)  # Ctrl-C, as a developer stops it
                try:
                    runner.wait(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    os.killpg(runner.pid, signal.SIGKILL)
                    runner.wait(timeout=10)


def _healthy(api_url: str) -> bool:
    try:
        return requests.get(f"{api_url}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _user_shell_environment(home: Path) -> dict[str, str]:
    """A new user's shell: the checkout's .venv/bin first on PATH, a home of their own, no SPOKE_* or AWS_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPOKE_", "AWS_", "PYTHON", "VIRTUAL_ENV"))}
    venv_bin = Path(sys.executable).parent
    return {**env, "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}", "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config")}


def _remaining(response: requests.Response) -> int:
    assert response.status_code == 200, response.text
    assert int(response.headers["X-RateLimit-Limit"]) == FREE_PLAN_REQUESTS_PER_HOUR
    return int(response.headers["X-RateLimit-Remaining"])


def test_the_readme_walkthrough_runs_verbatim_against_make_run(make_run: Run, tmp_path: Path) -> None:
    # Given the README's walk-through and an empty directory
    script = tmp_path / "walkthrough.sh"
    script.write_text(walkthrough_script(README.read_text(), make_run.api_url))
    workdir = tmp_path / "work"
    workdir.mkdir()
    home = tmp_path / "home"
    home.mkdir()

    # When a new user runs it, block after block
    started = time.monotonic()
    done = subprocess.run(["bash", str(script)], cwd=workdir, env=_user_shell_environment(home),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=SCRIPT_SECONDS)
    seconds = time.monotonic() - started
    report = (f"exit {done.returncode} after {seconds:.0f} s\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
              f"\n--- make run console (last 60 lines)\n" + "\n".join(make_run.console.read_text().splitlines()[-60:]))

    # Then every command succeeds (the breaking checks exit 100, which the README accepts explicitly)
    assert done.returncode == 0, report
    out = done.stdout

    # And the answers are the ones the README promises
    assert re.search(r"^x-ratelimit-limit: 100\r?$", out, re.IGNORECASE | re.MULTILINE), report
    assert re.search(r"^304$", out, re.MULTILINE), report                       # If-None-Match
    assert (workdir / "user.proto").read_text().startswith('syntax = "proto3";'), report
    assert '"compatible": true' in out, report                                  # v1.0.0 -> v1.1.0
    with zipfile.ZipFile(workdir / "go-code.zip") as go:
        assert any(name.endswith(".pb.go") for name in go.namelist()), go.namelist()
    with zipfile.ZipFile(workdir / "python-code.zip") as python:
        assert any(name.endswith("user_pb2.py") for name in python.namelist()), python.namelist()
    assert "pushed user@v1.2.0" in out, report
    # `spoke pull user@latest` wrote what `spoke push` sent (the files before the breaking edit)
    for name in ("user.proto", "types.proto"):
        assert (workdir / "user" / name).read_bytes() == (workdir / "old-proto" / name).read_bytes(), name
    assert 'name: "Ann"' in out, report                                         # the generated package imports
    # `spoke breaking` found the deleted field against the registry (text) and the directory (json)
    assert 'with name "email" on message "User" was deleted' in out, report
    assert '"type":"FIELD_NO_DELETE"' in out, report

    # And it stays far below the free plan's hourly rate, for the address and for the account
    credentials = json.loads((home / ".config" / "spoke" / "credentials.json").read_text())
    mine = _remaining(requests.get(f"{make_run.api_url}/auth/me",
                                   headers={"Authorization": f"Bearer {credentials['token']}"}, timeout=10))
    anonymous = _remaining(requests.get(f"{make_run.api_url}/modules", timeout=10))
    used = {"account": FREE_PLAN_REQUESTS_PER_HOUR - mine, "address": FREE_PLAN_REQUESTS_PER_HOUR - anonymous}
    assert max(used.values()) <= FREE_PLAN_REQUESTS_PER_HOUR // 2, f"requests used of 100/hour: {used}\n{report}"

    # And make run's console showed the API's requests and the worker's jobs, not the embedded AWS's log
    console = make_run.console.read_text()
    assert '"POST /modules/user/versions HTTP/1.1" 201' in console, console[-5000:]
    assert "compile job user@v1.0.0" in console, console[-5000:]
    assert "event version.compiled: user@v1.0.0" in console, console[-5000:]
    assert '"POST / HTTP/1.1" 200' not in console, console[-5000:]
