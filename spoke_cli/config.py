"""Where the CLI's settings come from: global options, the saved login, and a module's spoke.yaml.

Precedence (most specific wins): `--url`/`--org` (or SPOKE_URL/SPOKE_ORG), then spoke.yaml's
`organization`, then the saved login, then the defaults. SPOKE_TOKEN replaces the saved token.
"""
from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from spoke_client import SpokeClient

DEFAULT_URL = "http://localhost:8080"
SPOKE_YAML = "spoke.yaml"
DEFAULT_INCLUDE = ("**/*.proto",)


class CliError(Exception):
    """A refusal the CLI itself makes (bad spoke.yaml, missing argument...): printed as `error: CODE: message`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class GlobalOptions:
    """What the user set before (or after) the command: the root context's `obj`."""
    url: str | None = None
    org: str | None = None
    json: bool = False
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    # Passed to every SpokeClient the CLI builds: tests inject `transport` (httpx.MockTransport) and `sleep`.
    client_kwargs: dict[str, Any] = field(default_factory=dict)


def options(ctx: typer.Context) -> GlobalOptions:
    """The global options of this invocation, from any (sub)command's context."""
    found = ctx.find_object(GlobalOptions)
    return found if found is not None else GlobalOptions()


# -- saved credentials ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Credentials:
    url: str
    token: str
    email: str | None = None


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "spoke"


def credentials_path(env: Mapping[str, str] | None = None) -> Path:
    return config_dir(env) / "credentials.json"


def load_credentials(env: Mapping[str, str] | None = None) -> Credentials | None:
    """The saved login, or None when there is none (a damaged file counts as none: log in again)."""
    path = credentials_path(env)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str) or not isinstance(data.get("token"), str):
        return None
    email = data.get("email")
    return Credentials(data["url"], data["token"], email if isinstance(email, str) else None)


def save_credentials(credentials: Credentials, env: Mapping[str, str] | None = None) -> Path:
    """Written 0600 in a 0700 directory, atomically: the token is a password; other users must not read it,
    and an interrupted write must not leave half a file."""
    path = credentials_path(env)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    temporary = path.parent / f".credentials.{secrets.token_hex(6)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"url": credentials.url, "token": credentials.token, "email": credentials.email}, out)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def delete_credentials(env: Mapping[str, str] | None = None) -> bool:
    path = credentials_path(env)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


# -- the client -------------------------------------------------------------------------------------
def normalize_url(url: str) -> str:
    return url.strip().rstrip("/")


def effective_url(opts: GlobalOptions, saved: Credentials | None = None) -> str:
    if opts.url:
        return normalize_url(opts.url)
    if saved is not None:
        return normalize_url(saved.url)
    return DEFAULT_URL


def client_from(opts: GlobalOptions, *, organization: str | None = None, **kwargs: Any) -> SpokeClient:
    """A SpokeClient for this invocation. `organization` (e.g. spoke.yaml's) applies when --org/SPOKE_ORG
    is not set. The saved token goes only to the server it was issued by: `--url` naming another server
    sends no token (SPOKE_TOKEN is sent wherever the user points it)."""
    saved = load_credentials(opts.env)
    url = effective_url(opts, saved)
    token = opts.env.get("SPOKE_TOKEN") or None
    if token is None and saved is not None and normalize_url(saved.url) == url:
        token = saved.token
    return SpokeClient(url, token, opts.org or organization or None, **{**opts.client_kwargs, **kwargs})


def client_at(opts: GlobalOptions, url: str, token: str | None) -> SpokeClient:
    """A client for exactly this URL and token (login and logout, which decide both themselves)."""
    return SpokeClient(url, token, None, **opts.client_kwargs)


# -- spoke.yaml -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModuleConfig:
    """A module directory's spoke.yaml."""
    module: str
    organization: str | None = None
    description: str | None = None
    dependencies: tuple[str, ...] = ()
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = ()
    breaking: str | None = None


def _strings(data: Mapping[str, Any], key: str, where: Path) -> tuple[str, ...] | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CliError("INVALID_SPOKE_YAML", f"{where}: `{key}` must be a list of strings")
    return tuple(v.strip() for v in value)


def _text(data: Mapping[str, Any], key: str, where: Path) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise CliError("INVALID_SPOKE_YAML", f"{where}: `{key}` must be a string")
    return str(value).strip() or None


KNOWN_KEYS = frozenset({"module", "organization", "description", "dependencies", "include", "exclude", "breaking"})


def load_module_config(directory: Path) -> ModuleConfig:
    """DIR/spoke.yaml, or a CliError saying exactly what is missing or wrong (with the file's name)."""
    import yaml  # only push needs it

    path = directory / SPOKE_YAML
    if not directory.is_dir():
        raise CliError("NOT_A_DIRECTORY", f"{directory} is not a directory")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError("SPOKE_YAML_NOT_FOUND", f"{path} does not exist: create it with at least "
                       "`module: <name>`") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CliError("INVALID_SPOKE_YAML", f"{path}: cannot read it: {error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CliError("INVALID_SPOKE_YAML", f"{path} is not valid YAML: {error}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CliError("INVALID_SPOKE_YAML", f"{path}: expected a mapping of keys (module: ..., ...)")
    unknown = sorted(str(k) for k in data if k not in KNOWN_KEYS)
    if unknown:
        raise CliError("INVALID_SPOKE_YAML", f"{path}: unknown key(s) {', '.join(unknown)}; "
                       f"known: {', '.join(sorted(KNOWN_KEYS))}")
    module = _text(data, "module", path)
    if not module:
        raise CliError("INVALID_SPOKE_YAML", f"{path}: `module` is required (the module's name)")
    dependencies = _strings(data, "dependencies", path) or ()
    for dependency in dependencies:
        name, at, version = dependency.partition("@")
        if not name or not at or not version:
            raise CliError("INVALID_SPOKE_YAML", f"{path}: dependency {dependency!r} must be module@version")
    return ModuleConfig(module=module, organization=_text(data, "organization", path),
                        description=_text(data, "description", path), dependencies=dependencies,
                        include=_strings(data, "include", path) or DEFAULT_INCLUDE,
                        exclude=_strings(data, "exclude", path) or (), breaking=_text(data, "breaking", path))
