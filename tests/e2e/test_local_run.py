"""`make run` (python -m localdev.run): Ctrl-C or SIGTERM stops everything it started.

A developer who stops the registry expects the ports free and no embedded AWS or
`chalice local` left behind, whichever way the signal reaches it.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from localdev.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 90
STOP_SECONDS = 30


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of a live process, None when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), fields[0], fields[19]


def descendants(root: int) -> dict[int, str]:
    """Every process below `root`, each with its start time (to tell a reused pid apart)."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (info := _stat(int(entry.name))) is not None:
            children.setdefault(info[0], []).append(int(entry.name))
            starts[int(entry.name)] = info[2]
    found: dict[int, str] = {}
    pending = list(children.get(root, []))
    while pending:
        pid = pending.pop()
        found[pid] = starts[pid]
        pending.extend(children.get(pid, []))
    return found


def still_running(processes: dict[int, str]) -> list[int]:
    """Those of `processes` that still run (a zombie has stopped; a reused pid is someone else)."""
    alive = []
    for pid, started in processes.items():
        info = _stat(pid)
        if info is not None and info[2] == started and info[1] != "Z":
            alive.append(pid)
    return alive


def accepts_connections(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.parametrize("how", ["ctrl-c", "sigint", "sigterm"], ids=[
    "ctrl-c-to-the-terminal-process-group", "sigint-to-the-runner-only", "sigterm-to-the-runner-only"])
def test_stopping_make_run_stops_everything_it_started(how: str, tmp_path: Path) -> None:
    # Given `python -m localdev.run` started on free ports, as `make run` starts it, and answering /health
    api_port, aws_port = free_port(), free_port()
    while aws_port == api_port:
        aws_port = free_port()
    env = {**os.environ, "SPOKE_PORT": str(api_port), "SPOKE_AWS_PORT": str(aws_port)}
    env.pop("AWS_ENDPOINT_URL", None)
    log = (tmp_path / "run.log").open("wb")
    runner = subprocess.Popen([sys.executable, "-m", "localdev.run"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              start_new_session=True)  # its own process group, like a terminal's job
    started: dict[int, str] = {}
    try:
        def healthy() -> bool:
            assert runner.poll() is None, f"runner exited early:\n{(tmp_path / 'run.log').read_text()}"
            try:
                return requests.get(f"http://127.0.0.1:{api_port}/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        assert wait_until(healthy, START_SECONDS), (tmp_path / "run.log").read_text()
        started = descendants(runner.pid)
        assert len(started) >= 2, f"expected the embedded AWS and chalice local below the runner: {started}"
        assert accepts_connections(api_port) and accepts_connections(aws_port)

        # When the developer stops it
        if how == "ctrl-c":
            os.killpg(runner.pid, signal.SIGINT)  # Ctrl-C signals the whole foreground process group
        elif how == "sigint":
            os.kill(runner.pid, signal.SIGINT)
        else:
            os.kill(runner.pid, signal.SIGTERM)

        # Then the runner exits promptly
        try:
            runner.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"runner still running {STOP_SECONDS}s after {how}:\n{(tmp_path / 'run.log').read_text()}")

        # And no process it started is left running
        assert wait_until(lambda: not still_running(started), 5), (
            f"left running after {how}: {still_running(started)}\n{(tmp_path / 'run.log').read_text()}")

        # And neither port accepts connections any more
        assert not accepts_connections(api_port), f"API port {api_port} still open after {how}"
        assert not accepts_connections(aws_port), f"embedded AWS port {aws_port} still open after {how}"
    finally:
        # Never leave our own processes behind, even when an assertion failed.
        if runner.poll() is None:
            runner.kill()
        for pid in still_running(started):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        runner.wait(timeout=10)
        log.close()
