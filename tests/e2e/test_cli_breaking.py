"""`spoke breaking DIR --against spoke://MODULE@VERSION` against the running registry: a version published
over HTTP is the old side (its stored descriptor set), the local directory the new one."""
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
USER_RENUMBERED = USER_V1.replace("email = 2", "email = 3")


def run_spoke(cwd: Path, api_url: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user's shell runs it: its own process, config only from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOKE_")}
    env.update(SPOKE_URL=api_url, SPOKE_TOKEN=token, XDG_CONFIG_HOME=str(cwd / ".config"), NO_COLOR="1",
               PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "spoke_cli.main", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def publish(api_url: str, token: str, module: str, version: str, files: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    if version == "v1.0.0":
        created = requests.post(f"{api_url}/modules", json={"name": module}, headers=headers, timeout=30)
        assert created.status_code == 201, created.text
    published = requests.post(f"{api_url}/modules/{module}/versions", json={"version": version, "files": files},
                              headers=headers, timeout=60)
    assert published.status_code == 201, published.text


@pytest.fixture
def published(api_url: str, token: str, unique: Callable[[str], str]) -> str:
    """Given user@v1.0.0 published over HTTP: the module's (unique) name."""
    module = unique("user")
    publish(api_url, token, module, "v1.0.0", {"user.proto": USER_V1})
    return module


def test_unchanged_sources_pass(tmp_path: Path, api_url: str, token: str, published: str) -> None:
    # Given the local directory holds what was published
    (tmp_path / "proto").mkdir()
    (tmp_path / "proto" / "user.proto").write_text(USER_V1)
    # When checking it against the published version
    result = run_spoke(tmp_path, api_url, token, "breaking", "proto", "--against", f"spoke://{published}@v1.0.0")
    # Then nothing is reported
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_a_renumbered_field_exits_100(tmp_path: Path, api_url: str, token: str, published: str) -> None:
    # Given a local change that moves `email` to another field number
    (tmp_path / "proto").mkdir()
    (tmp_path / "proto" / "user.proto").write_text(USER_RENUMBERED)
    # When checking it against the version, pinned and as `latest`, as text and JSON
    text = run_spoke(tmp_path, api_url, token, "breaking", "proto", "--against", f"spoke://{published}@v1.0.0")
    as_json = run_spoke(tmp_path, api_url, token, "breaking", "proto", "--against", f"spoke://{published}",
                        "--error-format", "json")
    # Then both exit 100 and name the break at its place in the local file
    assert text.returncode == 100, text.stderr
    assert text.stdout.splitlines() == [
        'proto/user.proto:4:1:Previously present field "2" with name "email" on message "User" was deleted.']
    assert as_json.returncode == 100, as_json.stderr
    assert [(f["path"], f["type"]) for f in map(json.loads, as_json.stdout.splitlines())] == [
        ("proto/user.proto", "FIELD_NO_DELETE")]


def test_the_organization_can_be_named(tmp_path: Path, api_url: str, token: str, published: str) -> None:
    # Given the module lives in the default organization
    (tmp_path / "proto").mkdir()
    (tmp_path / "proto" / "user.proto").write_text(USER_RENUMBERED)
    # When the reference names it
    result = run_spoke(tmp_path, api_url, token, "breaking", "proto", "--against",
                       f"spoke://default/{published}@latest")
    # Then the check runs there
    assert result.returncode == 100, result.stderr


def test_an_unknown_version_exits_1_with_the_servers_code(tmp_path: Path, api_url: str, token: str,
                                                          published: str) -> None:
    (tmp_path / "proto").mkdir()
    (tmp_path / "proto" / "user.proto").write_text(USER_V1)
    result = run_spoke(tmp_path, api_url, token, "breaking", "proto", "--against", f"spoke://{published}@v9.9.9")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: VERSION_NOT_FOUND: ")
    assert "request id: " in result.stderr


def test_a_module_with_a_registry_dependency(tmp_path: Path, api_url: str, token: str,
                                             unique: Callable[[str], str]) -> None:
    # Given common@v1.0.0, and user@v1.0.0 importing it as a registry dependency
    common, user = unique("common"), unique("user")
    money = 'syntax = "proto3";\npackage common.v1;\n\nmessage Money {\n  int64 units = 1;\n}\n'
    user_proto = ('syntax = "proto3";\npackage user.v1;\n\nimport "common/money.proto";\n\n'
                  'message User {\n  string id = 1;\n  common.v1.Money balance = 2;\n}\n')
    publish(api_url, token, common, "v1.0.0", {"common/money.proto": money})
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.post(f"{api_url}/modules", json={"name": user}, headers=headers, timeout=30).status_code == 201
    published = requests.post(f"{api_url}/modules/{user}/versions", json={
        "version": "v1.0.0", "files": {"user.proto": user_proto}, "dependencies": [f"{common}@v1.0.0"]},
        headers=headers, timeout=60)
    assert published.status_code == 201, published.text
    # And a local checkout naming the dependency in spoke.yaml, without a copy of its files
    (tmp_path / "proto").mkdir()
    (tmp_path / "proto" / "spoke.yaml").write_text(f"module: {user}\ndependencies: [{common}@v1.0.0]\n")
    (tmp_path / "proto" / "user.proto").write_text(user_proto)
    # When checking it unchanged, then with `balance` renumbered
    unchanged = run_spoke(tmp_path, api_url, token, "breaking", "proto", "--against", f"spoke://{user}@v1.0.0")
    (tmp_path / "proto" / "user.proto").write_text(user_proto.replace("balance = 2", "balance = 4"))
    changed = run_spoke(tmp_path, api_url, token, "breaking", "proto", "--against", f"spoke://{user}@v1.0.0")
    # Then the import compiles from the registry, and only the module's own file is judged
    assert (unchanged.returncode, unchanged.stdout) == (0, ""), unchanged.stderr
    assert changed.returncode == 100, changed.stderr
    assert changed.stdout.startswith("proto/user.proto:")
