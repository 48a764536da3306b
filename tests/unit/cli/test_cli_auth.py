"""`spoke login`, `logout`, `whoami` against a scripted registry: what is saved, what is sent, what is shown."""
from __future__ import annotations

import json

import httpx

from spoke_cli.config import Credentials, load_credentials, save_credentials
from tests.unit.cli.scripted import Cli
from tests.unit.client.fakes import BASE, Server, envelope, error, json_body

ME = {"kind": "user", "user": {"id": "u1", "email": "ada@example.com", "role": "user"}, "token": None,
      "organizations": [{"id": "org-1", "slug": "acme", "name": "Acme", "plan": "team", "role": "admin"}]}
TOKEN_ME = {"kind": "api_token", "user": {"id": "u1", "email": "ada@example.com"},
            "token": {"id": "t1", "name": "ci", "organization": "org-1", "scopes": ["read"]}, "organizations": []}


def session(token: str = "jwt-1") -> httpx.Response:
    return envelope({"token": token, "expires_at": "2026-01-02T00:00:00Z", "user": ME["user"]})


def test_login_with_the_password_on_stdin_saves_the_session(cli: Cli, registry: Server) -> None:
    # Given a registry that accepts the password
    registry.on("POST", f"{BASE}/auth/login", session("jwt-1"))
    registry.on("GET", f"{BASE}/auth/me", envelope(ME))
    # When logging in
    result = cli("login", "--email", "ada@example.com", "--password-stdin", input="correct-horse-battery-staple\n")
    # Then the password went to the server and the session is saved for that server
    assert result.exit_code == 0, result.output
    assert json_body(registry.sent("POST", f"{BASE}/auth/login")[0]) == {
        "email": "ada@example.com", "password": "correct-horse-battery-staple"}
    assert result.stdout.strip() == f"logged in to {BASE} as ada@example.com"
    assert load_credentials(cli.env | {"XDG_CONFIG_HOME": str(cli.config_home)}) == \
        Credentials(BASE, "jwt-1", "ada@example.com")


def test_login_prompts_for_what_is_missing(cli: Cli, registry: Server) -> None:
    registry.on("POST", f"{BASE}/auth/login", session())
    registry.on("GET", f"{BASE}/auth/me", envelope(ME))
    result = cli("login", input="ada@example.com\ncorrect-horse-battery-staple\n")
    assert result.exit_code == 0, result.output
    assert json_body(registry.sent("POST", f"{BASE}/auth/login")[0])["email"] == "ada@example.com"


def test_a_refused_login_saves_nothing_and_prints_the_servers_code(cli: Cli, registry: Server) -> None:
    registry.on("POST", f"{BASE}/auth/login", error(401, "INVALID_CREDENTIALS", "Email or password is wrong",
                                                    request_id="req-9"))
    result = cli("login", "--email", "ada@example.com", "--password-stdin", input="nope-nope-nope\n")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: INVALID_CREDENTIALS: Email or password is wrong",
                                          "request id: req-9"]
    assert not (cli.config_home / "spoke" / "credentials.json").exists()


def test_an_api_token_is_checked_before_it_is_saved(cli: Cli, registry: Server) -> None:
    # Given a token the server does not know, then one it knows
    registry.on("GET", f"{BASE}/auth/me", error(401, "UNAUTHORIZED", "Invalid token"), envelope(TOKEN_ME))
    refused = cli("login", "--token", "spk_forged")
    assert refused.exit_code == 1
    assert not (cli.config_home / "spoke" / "credentials.json").exists()
    accepted = cli("login", "--token", "spk_real")
    # Then only the valid one is saved, and it was sent as the bearer token
    assert accepted.exit_code == 0, accepted.output
    assert registry.requests[-1].headers["authorization"] == "Bearer spk_real"
    assert load_credentials({"XDG_CONFIG_HOME": str(cli.config_home)}) == \
        Credentials(BASE, "spk_real", "ada@example.com")


def test_logout_ends_the_session_on_the_server_and_forgets_it(cli: Cli, registry: Server) -> None:
    env = {"XDG_CONFIG_HOME": str(cli.config_home)}
    save_credentials(Credentials(BASE, "jwt-1", "ada@example.com"), env)
    registry.on("POST", f"{BASE}/auth/logout", httpx.Response(204))
    result = cli("logout")
    assert result.exit_code == 0, result.output
    assert registry.sent("POST", f"{BASE}/auth/logout")[0].headers["authorization"] == "Bearer jwt-1"
    assert load_credentials(env) is None


def test_logout_with_an_expired_session_still_forgets_it(cli: Cli, registry: Server) -> None:
    env = {"XDG_CONFIG_HOME": str(cli.config_home)}
    save_credentials(Credentials(BASE, "jwt-old"), env)
    registry.on("POST", f"{BASE}/auth/logout", error(401, "UNAUTHORIZED", "Token expired"))
    assert cli("logout").exit_code == 0
    assert load_credentials(env) is None


def test_logout_of_an_api_token_does_not_revoke_it(cli: Cli, registry: Server) -> None:
    env = {"XDG_CONFIG_HOME": str(cli.config_home)}
    save_credentials(Credentials(BASE, "spk_keep"), env)
    result = cli("logout")
    assert result.exit_code == 0
    assert registry.requests == []
    assert load_credentials(env) is None


def test_whoami_prefers_spoke_token_over_the_saved_login(cli: Cli, registry: Server) -> None:
    save_credentials(Credentials(BASE, "jwt-saved"), {"XDG_CONFIG_HOME": str(cli.config_home)})
    registry.on("GET", f"{BASE}/auth/me", envelope(TOKEN_ME))
    result = cli("whoami", "--json", SPOKE_TOKEN="spk_ci")
    assert result.exit_code == 0, result.output
    assert registry.requests[0].headers["authorization"] == "Bearer spk_ci"
    shown = json.loads(result.stdout)
    assert shown["kind"] == "api_token" and shown["token"]["name"] == "ci" and shown["token"]["scopes"] == ["read"]


def test_whoami_shows_the_user_and_their_organizations(cli: Cli, registry: Server) -> None:
    save_credentials(Credentials(BASE, "jwt-saved"), {"XDG_CONFIG_HOME": str(cli.config_home)})
    registry.on("GET", f"{BASE}/auth/me", envelope(ME))
    result = cli("whoami")
    assert result.exit_code == 0, result.output
    assert f"ada@example.com (user) at {BASE}" in result.stdout
    assert "acme" in result.stdout and "admin" in result.stdout


def test_whoami_when_logged_out_is_an_error(cli: Cli, registry: Server) -> None:
    registry.on("GET", f"{BASE}/auth/me", error(401, "UNAUTHORIZED", "Sign in first"))
    result = cli("whoami")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: UNAUTHORIZED: Sign in first")
    assert "authorization" not in registry.requests[0].headers


def test_login_url_is_remembered_for_later_commands(cli: Cli, registry: Server) -> None:
    # Given a registry at another URL, named with --url after the command
    other = "http://registry.example.test"
    registry.on("GET", f"{other}/auth/me", envelope(TOKEN_ME))
    assert cli("login", "--token", "spk_real", "--url", other, SPOKE_URL=None).exit_code == 0
    # When a later command names no URL at all
    result = cli("whoami", "--json", SPOKE_URL=None)
    # Then it goes to the saved registry, with the saved token
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["url"] == other
    assert [str(r.url) for r in registry.requests] == [f"{other}/auth/me"] * 2
    assert registry.requests[-1].headers["authorization"] == "Bearer spk_real"
