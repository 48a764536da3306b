"""Where the CLI's settings come from: global options anywhere, spoke.yaml's errors, saved credentials,
which token goes to which server, which files a push takes, and what --bump makes next."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from spoke_cli.config import (
    CliError,
    Credentials,
    GlobalOptions,
    client_from,
    credentials_path,
    load_credentials,
    load_module_config,
    save_credentials,
)
from spoke_cli.main import hoist_global_options
from spoke_cli.push import collect_files
from spoke_client.semver import bump, highest_release


@pytest.mark.parametrize(("given", "parsed"), [
    (["whoami", "--json"], ["--json", "whoami"]),
    (["pull", "user", "--url", "http://x", "out"], ["--url", "http://x", "pull", "user", "out"]),
    (["push", "--org=acme", ".", "--version", "v1.0.0"], ["--org=acme", "push", ".", "--version", "v1.0.0"]),
    (["breaking", ".", "--", "--json"], ["breaking", ".", "--", "--json"]),
])
def test_global_options_may_follow_the_command(given: list[str], parsed: list[str]) -> None:
    assert hoist_global_options(given) == parsed


def write_yaml(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "spoke.yaml").write_text(text)
    return directory


def test_spoke_yaml_with_every_key(tmp_path: Path) -> None:
    config = load_module_config(write_yaml(tmp_path, "module: user\norganization: acme\ndescription: Users\n"
                                                     "dependencies: [common@v1.0.0]\ninclude: ['proto/**/*.proto']\n"
                                                     "exclude: ['proto/tmp/*']\nbreaking: buf.yaml\n"))
    assert (config.module, config.organization, config.description) == ("user", "acme", "Users")
    assert config.dependencies == ("common@v1.0.0",)
    assert (config.include, config.exclude, config.breaking) == (("proto/**/*.proto",), ("proto/tmp/*",), "buf.yaml")


def test_spoke_yaml_defaults_to_every_proto_file(tmp_path: Path) -> None:
    config = load_module_config(write_yaml(tmp_path, "module: user\n"))
    assert config.include == ("**/*.proto",)
    assert config.organization is None and config.dependencies == ()


@pytest.mark.parametrize(("text", "code", "says"), [
    (None, "SPOKE_YAML_NOT_FOUND", "module: <name>"),
    ("description: no name\n", "INVALID_SPOKE_YAML", "`module` is required"),
    ("module: user\ndependencies: [common]\n", "INVALID_SPOKE_YAML", "must be module@version"),
    ("module: user\nmodules: typo\n", "INVALID_SPOKE_YAML", "unknown key(s) modules"),
    ("module: [user\n", "INVALID_SPOKE_YAML", "not valid YAML"),
    ("- module\n", "INVALID_SPOKE_YAML", "expected a mapping"),
    ("module: user\ninclude: 7\n", "INVALID_SPOKE_YAML", "`include` must be a list of strings"),
])
def test_a_bad_spoke_yaml_says_what_to_fix(tmp_path: Path, text: str | None, code: str, says: str) -> None:
    if text is not None:
        write_yaml(tmp_path, text)
    with pytest.raises(CliError) as raised:
        load_module_config(tmp_path)
    assert raised.value.code == code
    assert says in raised.value.message
    assert "spoke.yaml" in raised.value.message


def test_credentials_are_private_and_round_trip(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    path = save_credentials(Credentials("http://spoke.test", "tok", "a@b.c"), env)
    assert path == tmp_path / "spoke" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_credentials(env) == Credentials("http://spoke.test", "tok", "a@b.c")
    assert [p.name for p in path.parent.iterdir()] == ["credentials.json"]  # no temporary file left


def test_a_damaged_credentials_file_counts_as_logged_out(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    credentials_path(env).parent.mkdir(parents=True)
    credentials_path(env).write_text("{not json")
    assert load_credentials(env) is None


def test_the_saved_token_goes_only_to_its_own_server(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    save_credentials(Credentials("http://spoke.test/", "saved-token"), env)
    with client_from(GlobalOptions(env=env)) as same:
        assert (same.base_url, same.token) == ("http://spoke.test/", "saved-token")
    with client_from(GlobalOptions(url="http://elsewhere.test", env=env)) as other:
        assert other.token is None
    with client_from(GlobalOptions(url="http://elsewhere.test", env={**env, "SPOKE_TOKEN": "ci"})) as ci:
        assert ci.token == "ci"


def test_org_option_wins_over_spoke_yaml(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    with client_from(GlobalOptions(env=env), organization="from-yaml") as from_yaml:
        assert from_yaml.organization == "from-yaml"
    with client_from(GlobalOptions(org="acme", env=env), organization="from-yaml") as from_option:
        assert from_option.organization == "acme"
    with client_from(GlobalOptions(env=env)) as default:
        assert default.organization is None and default.base_url == "http://localhost:8080/"


def test_push_takes_included_files_minus_excluded_keyed_relative(tmp_path: Path) -> None:
    for path in ("a.proto", "sub/b.proto", "sub/tmp/c.proto", "notes.txt", "spoke.yaml"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(path.encode())
    files = collect_files(tmp_path, ("**/*.proto",), ("sub/tmp/*",))
    assert files == {"a.proto": b"a.proto", "sub/b.proto": b"sub/b.proto"}


def test_a_glob_may_not_leave_the_directory(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="must stay inside"):
        collect_files(tmp_path, ("../**/*.proto",), ())


@pytest.mark.parametrize(("versions", "part", "after"), [
    ([], "patch", "v0.0.1"), ([], "minor", "v0.1.0"), ([], "major", "v1.0.0"),
    (["v1.2.3", "v1.10.0", "v2.0.0-rc.1"], "minor", "v1.11.0"),
    (["v1.2.3", "v2.0.0-rc.1"], "patch", "v1.2.4"),
    (["v0.9.9", "v1.0.0+build.5"], "major", "v2.0.0"),
])
def test_bump_counts_from_the_highest_release(versions: list[str], part: str, after: str) -> None:
    assert bump(highest_release(versions), part) == after


def test_latest_skips_pre_releases() -> None:
    assert highest_release(["v1.0.0", "v1.1.0-beta", "v0.10.0"]) == "v1.0.0"
    assert highest_release(["v1.0.0-rc.1"]) is None
