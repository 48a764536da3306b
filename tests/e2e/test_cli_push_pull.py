"""The `spoke` CLI as a user types it, against the registry `make run` starts: login/whoami/logout, push,
pull, generate. Each command runs as a subprocess with its own config dir, so nothing leaks between tests
(nor into the developer's own ~/.config/spoke)."""
from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import PASSWORD

Spoke = Callable[..., subprocess.CompletedProcess[str]]

USER_PROTO = ('syntax = "proto3";\r\npackage {pkg}.v1;\r\nimport "{pkg}/v1/types.proto";\r\n\r\n'
              "// Zoë's user — naïve façade ☃\r\nmessage User {{\r\n  string id = 1;\r\n  Email email = 2;\r\n}}\r\n")
TYPES_PROTO = 'syntax = "proto3";\npackage {pkg}.v1;\n\nmessage Email {{\n  string address = 1;\n}}\n'


@pytest.fixture
def config_home(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def spoke(api_url: str, config_home: Path) -> Spoke:
    """Runs `spoke ARGS...` (the installed console script's module) with SPOKE_URL set and an isolated config dir."""

    def run(*args: str, input: str | None = None, token: str | None = None, cwd: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPOKE_")}
        env.update({"SPOKE_URL": api_url, "XDG_CONFIG_HOME": str(config_home), "COLUMNS": "200"})
        if token:
            env["SPOKE_TOKEN"] = token
        return subprocess.run([sys.executable, "-m", "spoke_cli.main", *args], input=input, env=env, cwd=cwd,
                              capture_output=True, text=True, timeout=timeout)

    return run


@pytest.fixture
def account(api_url: str) -> tuple[str, str]:
    """Given a registered user: (email, password)."""
    email = f"cli-{uuid.uuid4().hex[:12]}@example.com"
    created = requests.post(f"{api_url}/auth/register", json={"email": email, "password": PASSWORD,
                                                              "first_name": "Cli", "last_name": "User"}, timeout=30)
    assert created.status_code == 201, created.text
    return email, PASSWORD


def module_dir(root: Path, module: str, files: dict[str, bytes], **extra: object) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = [f"module: {module}", "description: Made by the CLI e2e tests"]
    lines += [f"{key}: {json.dumps(value)}" for key, value in extra.items()]
    (root / "spoke.yaml").write_text("\n".join(lines) + "\n")
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


def two_files(pkg: str) -> dict[str, bytes]:
    return {f"{pkg}/v1/user.proto": USER_PROTO.format(pkg=pkg).encode(),
            f"{pkg}/v1/types.proto": TYPES_PROTO.format(pkg=pkg).encode()}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_login_whoami_logout_with_a_password(spoke: Spoke, account: tuple[str, str], config_home: Path,
                                             api_url: str) -> None:
    # Given a registered user
    email, password = account
    # When they log in with the password on stdin
    login = spoke("login", "--email", email, "--password-stdin", input=password + "\n")
    # Then the session is saved for them alone
    assert login.returncode == 0, login.stderr
    assert f"logged in to {api_url} as {email}" in login.stdout
    saved = config_home / "spoke" / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    session = json.loads(saved.read_text())["token"]
    # And whoami (global --json after the command) says who they are
    whoami = spoke("whoami", "--json")
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["user"]["email"] == email
    # When they log out
    logout = spoke("logout")
    # Then the file is gone and the server no longer accepts the session
    assert logout.returncode == 0, logout.stderr
    assert not saved.exists()
    assert requests.get(f"{api_url}/auth/me", headers={"Authorization": f"Bearer {session}"},
                        timeout=30).status_code == 401
    after = spoke("whoami")
    assert after.returncode == 1
    assert after.stderr.startswith("error: ")
    assert "request id: " in after.stderr


def test_a_wrong_password_saves_nothing(spoke: Spoke, account: tuple[str, str], config_home: Path) -> None:
    email, _ = account
    result = spoke("login", "--email", email, "--password-stdin", input="not-the-password-at-all\n")
    assert result.returncode == 1
    assert "error: " in result.stderr
    assert not (config_home / "spoke" / "credentials.json").exists()


def test_login_with_an_api_token(spoke: Spoke, account: tuple[str, str], api_url: str) -> None:
    # Given an API token made by the user
    email, password = account
    session = requests.post(f"{api_url}/auth/login", json={"email": email, "password": password},
                            timeout=30).json()["data"]["token"]
    made = requests.post(f"{api_url}/auth/tokens", json={"name": "ci", "organization": "default",
                                                                "scopes": ["read", "write"]},
                         headers={"Authorization": f"Bearer {session}"}, timeout=30)
    assert made.status_code == 201, made.text
    api_token = made.json()["data"]["token"]
    # When the CLI logs in with it (a forged one first)
    forged = spoke("login", "--token", "spk_" + "x" * 40)
    assert forged.returncode == 1
    login = spoke("login", "--token", api_token)
    # Then the real one is validated, saved, and used
    assert login.returncode == 0, login.stderr
    whoami = spoke("--json", "whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["token"]["name"] == "ci"


def test_push_creates_bumps_and_pull_returns_the_same_bytes(spoke: Spoke, token: str, tmp_path: Path,
                                                            unique: Callable[[str], str]) -> None:
    # Given a module directory (CRLF and non-ASCII text, which only a byte-exact round trip keeps)
    module = unique("cli-user")
    files = two_files("clitest")
    source = module_dir(tmp_path / "src", module, files)
    # When it is pushed for the first time
    first = spoke("push", str(source), "--version", "v1.0.0", token=token)
    # Then the module is created and the version published
    assert first.returncode == 0, first.stderr
    assert "created module" in first.stderr
    assert first.stdout.strip() == f"pushed {module}@v1.0.0 (2 files)"
    # When a change is pushed with --bump minor
    (source / "clitest/v1/types.proto").write_bytes(files["clitest/v1/types.proto"] + b"// v1.1\n")
    second = spoke("push", str(source), "--bump", "minor", "--json", token=token)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["version"] == "v1.1.0"
    # Then pulling latest gives v1.1.0 byte for byte, and v1.0.0 is still the original
    latest = spoke("pull", module, str(tmp_path / "latest"), token=token)
    assert latest.returncode == 0, latest.stderr
    assert latest.stdout.strip() == f"pulled {module}@v1.1.0 (2 files) -> {tmp_path / 'latest'}"
    assert tree(tmp_path / "latest") == {**files, "clitest/v1/types.proto": files["clitest/v1/types.proto"]
                                         + b"// v1.1\n"}
    old = spoke("pull", f"{module}@v1.0.0", token=token, cwd=tmp_path)
    assert old.returncode == 0, old.stderr
    assert tree(tmp_path / module) == files


def test_push_refuses_to_republish_with_the_servers_code(spoke: Spoke, token: str, tmp_path: Path,
                                                         unique: Callable[[str], str]) -> None:
    module = unique("cli-dup")
    source = module_dir(tmp_path / "src", module, two_files("clidup"))
    assert spoke("push", str(source), "--version", "v1.0.0", token=token).returncode == 0
    (source / "clidup/v1/types.proto").write_bytes(b'syntax = "proto3";\npackage clidup.v1;\nmessage Email {}\n'
                                                   b"message Other {}\n")
    again = spoke("push", str(source), "--version", "v1.0.0", token=token)
    assert again.returncode == 1
    assert again.stderr.startswith("error: VERSION_EXISTS: ")
    assert "request id: " in again.stderr


def test_a_missing_spoke_yaml_is_a_clear_error(spoke: Spoke, tmp_path: Path, token: str) -> None:
    result = spoke("push", str(tmp_path), "--version", "v1.0.0", token=token)
    assert result.returncode == 1
    assert result.stderr.startswith("error: SPOKE_YAML_NOT_FOUND: ")


def test_pull_of_an_unknown_module_says_so(spoke: Spoke, token: str, tmp_path: Path,
                                           unique: Callable[[str], str]) -> None:
    result = spoke("pull", f"{unique('nothing')}@v1.0.0", str(tmp_path / "out"), token=token)
    assert result.returncode == 1
    assert result.stderr.startswith("error: MODULE_NOT_FOUND: ")
    assert not (tmp_path / "out").exists()


def big_module(count: int) -> dict[str, bytes]:
    """`count` files importing each other, padded so the set is over the 4 MiB request body (the presigned
    upload path)."""
    padding = "// " + "padding " * 260 + "\n"
    files = {}
    for i in range(count):
        imports = f'import "big/v1/f{i // 2}.proto";\n' if i else ""
        parent = f"  M{i // 2} parent = 2;\n" if i else ""
        files[f"big/v1/f{i}.proto"] = (f'syntax = "proto3";\npackage big.v1;\n{imports}{padding}'
                                       f"message M{i} {{\n  string id = 1; // № {i}\n{parent}}}\n").encode()
    return files


def test_a_module_of_2000_files_round_trips_byte_identical(spoke: Spoke, token: str, tmp_path: Path,
                                                           unique: Callable[[str], str]) -> None:
    # Given a module of 2,000 files (over 4 MiB)
    module = unique("cli-big")
    files = big_module(2000)
    assert sum(len(v) for v in files.values()) > 4 * 1024 * 1024
    source = module_dir(tmp_path / "src", module, files)
    # When it is pushed and pulled back
    pushed = spoke("push", str(source), "--version", "v1.0.0", token=token, timeout=600)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.strip() == f"pushed {module}@v1.0.0 (2000 files)"
    pulled = spoke("pull", f"{module}@latest", str(tmp_path / "back"), token=token, timeout=600)
    # Then every file is back, byte for byte
    assert pulled.returncode == 0, pulled.stderr
    back = tree(tmp_path / "back")
    assert len(back) == 2000
    assert {p: hashlib.sha256(d).hexdigest() for p, d in back.items()} == \
        {p: hashlib.sha256(d).hexdigest() for p, d in files.items()}


def test_generate_unpacks_a_python_package_that_imports(spoke: Spoke, token: str, tmp_path: Path,
                                                        unique: Callable[[str], str]) -> None:
    # Given a published module
    module = unique("cli-gen")
    pkg = "gen" + uuid.uuid4().hex[:8]
    source = module_dir(tmp_path / "src", module, two_files(pkg))
    assert spoke("push", str(source), "--version", "v1.0.0", token=token).returncode == 0
    # When its Python code is generated
    out = tmp_path / "out"
    result = spoke("generate", f"{module}@v1.0.0", "--lang", "python", "-o", str(out), "--timeout", "240",
                   token=token)
    # Then it is unpacked under out/python and imports
    assert result.returncode == 0, result.stderr
    assert f"-> {out / 'python'}" in result.stdout
    assert (out / "python" / pkg / "v1" / "user_pb2.py").is_file()
    check = subprocess.run([sys.executable, "-c", f"from {pkg}.v1 import user_pb2; "
                            "print(user_pb2.User(id='7', email={'address': 'a@b.c'}).email.address)"],
                           env={**os.environ, "PYTHONPATH": str(out / "python")}, capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "a@b.c"


def test_generate_of_an_unknown_language_fails_cleanly(spoke: Spoke, token: str, tmp_path: Path,
                                                       unique: Callable[[str], str]) -> None:
    module = unique("cli-lang")
    source = module_dir(tmp_path / "src", module, two_files("clilang"))
    assert spoke("push", str(source), "--version", "v1.0.0", token=token).returncode == 0
    result = spoke("generate", f"{module}@latest", "--lang", "cobol", "-o", str(tmp_path / "out"), token=token)
    assert result.returncode == 1
    assert result.stderr.startswith("error: UNKNOWN_LANGUAGE: ")
    assert not (tmp_path / "out" / "cobol").exists()


def test_push_with_dependencies_and_a_breaking_gate(spoke: Spoke, token: str, tmp_path: Path,
                                                    unique: Callable[[str], str]) -> None:
    # Given a shared module, and a module that imports it (spoke.yaml names the dependency and a buf.yaml)
    common, user = unique("cli-common"), unique("cli-deps")
    pkg = "dep" + uuid.uuid4().hex[:8]
    common_dir = module_dir(tmp_path / "common", common, {
        f"{pkg}/common/v1/money.proto": f'syntax = "proto3";\npackage {pkg}.common.v1;\n'
                                        'message Money { int64 units = 1; }\n'.encode()})
    assert spoke("push", str(common_dir), "--version", "v1.0.0", token=token).returncode == 0
    order = (f'syntax = "proto3";\npackage {pkg}.shop.v1;\nimport "{pkg}/common/v1/money.proto";\n\n'
             f"message Order {{\n  string id = 1;\n  {pkg}.common.v1.Money total = 2;\n}}\n")
    user_dir = module_dir(tmp_path / "user", user, {f"{pkg}/shop/v1/order.proto": order.encode()},
                          dependencies=[f"{common}@v1.0.0"], breaking="buf.yaml")
    (user_dir / "buf.yaml").write_text("version: v1\nbreaking:\n  use: [FILE]\n")
    # When it is pushed (nothing to break yet), then a renumbered field is pushed as the next minor
    first = spoke("push", str(user_dir), "--bump", "minor", token=token)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"pushed {user}@v0.1.0 (1 file)"
    (user_dir / f"{pkg}/shop/v1/order.proto").write_text(order.replace("total = 2", "total = 3"))
    broken = spoke("push", str(user_dir), "--bump", "minor", token=token)
    # Then the second push is stopped locally with buf's finding, and v0.2.0 does not exist
    assert broken.returncode == 100, broken.stderr
    assert 'Previously present field "2" with name "total" on message "Order" was deleted.' in broken.stderr
    versions = spoke("--json", "versions", "ls", user, token=token)
    assert versions.returncode == 0, versions.stderr
    assert "v0.2.0" not in versions.stdout and "v0.1.0" in versions.stdout
