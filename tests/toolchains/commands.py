"""Running the toolchains: found on PATH (a clear failure when missing, never a skip), output on failure."""
from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

INSTALL_HINT = "install the toolchains first: tests/toolchains/install_toolchains.sh (as root), or `make toolchains`"


def tool(name: str) -> str:
    """The toolchain binary's path."""
    found = shutil.which(name)
    assert found, f"{name} not found: {INSTALL_HINT}"
    return found


def run(command: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None,
        timeout: float = 300) -> str:
    """Runs a toolchain command; on failure the assertion shows its whole output. Returns stdout."""
    done = subprocess.run(list(command), cwd=cwd, env=dict(env) if env is not None else None, timeout=timeout,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def debian_version(package: str) -> str:
    """The upstream version of an installed Debian package (`3.21.12-3+deb12u1` -> `3.21.12`)."""
    done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout, f"{package} is not installed: {INSTALL_HINT}"
    return re.sub(r"^\d+:", "", done.stdout).split("-")[0].split("+")[0]
