"""`spoke modules ls`, `versions ls`, `compat` and `validate` against the running registry, run as a
subprocess the way a shell or CI job runs them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
USER_V1 = 'syntax = "proto3";\npackage user.v1;\n\nmessage User {\n  string id = 1;\n  string email = 2;\n}\n'
USER_V1_1 = USER_V1.replace("  string email = 2;\n", "  string email = 2;\n  string phone = 3;\n")
USER_V2 = USER_V1.replace("  string email = 2;\n", "")


def run_spoke(cwd: Path, api_url: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOKE_")}
    env.update(SPOKE_URL=api_url, SPOKE_TOKEN=token, XDG_CONFIG_HOME=str(cwd / ".config"), NO_COLOR="1",
               COLUMNS="200", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "spoke_cli.main", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def module(api_url: str, token: str, unique: Callable[[str], str]) -> str:
    """Given a module with v1.0.0, a compatible v1.1.0 and a breaking v2.0.0 (the policy allows a major break)."""
    name = unique("inspect")
    headers = {"Authorization": f"Bearer {token}"}
    created = requests.post(f"{api_url}/modules", json={"name": name, "description": "Inspected by the CLI"},
                            headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    for version, text in (("v1.0.0", USER_V1), ("v1.1.0", USER_V1_1), ("v2.0.0", USER_V2)):
        published = requests.post(f"{api_url}/modules/{name}/versions", json={
            "version": version, "description": f"release {version}", "files": {"user.proto": text}},
            headers=headers, timeout=60)
        assert published.status_code == 201, published.text
    return name


def test_modules_ls_shows_the_module(tmp_path: Path, api_url: str, token: str, module: str) -> None:
    # When listing modules, for a person and for a script (filtered to this one by the query)
    table = run_spoke(tmp_path, api_url, token, "modules", "ls", "--query", module)
    as_json = run_spoke(tmp_path, api_url, token, "modules", "ls", "--query", module, "--json")
    # Then the table has its row with its version count and description, JSON its record
    assert table.returncode == 0, table.stderr
    row = next(line for line in table.stdout.splitlines() if module in line)
    assert " 3 " in row and "Inspected by the CLI" in row
    assert as_json.returncode == 0, as_json.stderr
    found = [m for m in json.loads(as_json.stdout) if m["name"] == module]
    assert [(m["version_count"], m["description"]) for m in found] == [(3, "Inspected by the CLI")]


def test_versions_ls_highest_first(tmp_path: Path, api_url: str, token: str, module: str) -> None:
    table = run_spoke(tmp_path, api_url, token, "versions", "ls", module)
    as_json = run_spoke(tmp_path, api_url, token, "versions", "ls", module, "--json")
    assert table.returncode == 0, table.stderr
    out = table.stdout
    assert out.index("v2.0.0") < out.index("v1.1.0") < out.index("v1.0.0") and "release v1.1.0" in out
    assert [v["version"] for v in json.loads(as_json.stdout)] == ["v2.0.0", "v1.1.0", "v1.0.0"]


def test_compat_exit_codes(tmp_path: Path, api_url: str, token: str, module: str) -> None:
    # When comparing a compatible pair, a breaking pair, and latest against the first release
    compatible = run_spoke(tmp_path, api_url, token, "compat", module, "v1.0.0", "v1.1.0")
    breaking = run_spoke(tmp_path, api_url, token, "compat", module, "v1.1.0", "v2.0.0")
    as_json = run_spoke(tmp_path, api_url, token, "compat", module, "v1.0.0", "latest", "--json")
    # Then 0 says compatible, 100 says breaking and the table names the rule and the place
    assert compatible.returncode == 0, compatible.stderr
    assert f"{module} v1.1.0 is compatible with v1.0.0" in compatible.stdout
    assert breaking.returncode == 100, breaking.stderr
    assert "FIELD_NO_DELETE" in breaking.stdout and "user.proto:4:1" in breaking.stdout
    assert as_json.returncode == 100, as_json.stderr
    report = json.loads(as_json.stdout)
    assert (report["compatible"], report["version2"]) == (False, "v2.0.0")
    assert {c["rule"] for c in report["breaking_changes"]} >= {"FIELD_NO_DELETE"}


def test_compat_unknown_version_exits_1(tmp_path: Path, api_url: str, token: str, module: str) -> None:
    result = run_spoke(tmp_path, api_url, token, "compat", module, "v1.0.0", "v7.0.0")
    assert result.returncode == 1
    assert result.stderr.startswith("error: VERSION_NOT_FOUND: ")


def test_validate_valid_and_invalid(tmp_path: Path, api_url: str, token: str) -> None:
    # Given a valid directory and one with an undefined type at line 6, column 3
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "user.proto").write_text(USER_V1)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "user.proto").write_text(USER_V1.replace("string email", "strin email"))
    # When validating both
    good = run_spoke(tmp_path, api_url, token, "validate", "good")
    bad = run_spoke(tmp_path, api_url, token, "validate", "bad")
    bad_json = run_spoke(tmp_path, api_url, token, "validate", "bad", "--json")
    # Then the valid one exits 0, the invalid one 1 with the error located as file:line:column
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "valid (1 file)"
    assert bad.returncode == 1, bad.stderr
    lines = bad.stdout.splitlines()
    assert lines and all(line.startswith("bad/user.proto:6:3: ") for line in lines), bad.stdout
    assert "strin" in bad.stdout
    assert bad_json.returncode == 1
    errors = json.loads(bad_json.stdout)["errors"]
    assert errors and errors[0]["file"] == "user.proto" and errors[0]["line"] == 6
