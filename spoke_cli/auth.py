"""`spoke login`, `spoke logout`, `spoke whoami`: who the CLI acts as, saved in the user's config dir."""
from __future__ import annotations

import sys

import typer

from spoke_cli.config import (
    CliError,
    Credentials,
    client_at,
    client_from,
    credentials_path,
    delete_credentials,
    effective_url,
    load_credentials,
    options,
    save_credentials,
)
from spoke_cli.output import note, print_json, say, table
from spoke_client import SpokeError, Unauthorized
from spoke_client.models import Me

API_TOKEN_PREFIX = "spk_"


def _me_json(me: Me, url: str) -> dict[str, object]:
    return {"url": url, "kind": me.kind, "user": None if me.user is None else {
        "id": me.user.id, "email": me.user.email, "role": me.user.role},
            "token": None if me.token is None else {"id": me.token.id, "name": me.token.name,
                                                    "organization": me.token.organization_id,
                                                    "scopes": list(me.token.scopes)},
            "organizations": [{"id": o.id, "slug": o.slug, "name": o.name, "role": o.role}
                              for o in me.organizations]}


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True)
    if not password:
        raise CliError("PASSWORD_REQUIRED", "no password given (pipe it with --password-stdin)")
    return password


def login(ctx: typer.Context,
          email: str | None = typer.Option(None, "--email", help="Account email (prompted when missing)."),
          password_stdin: bool = typer.Option(False, "--password-stdin",
                                              help="Read the password from stdin's first line (for scripts)."),
          token: str | None = typer.Option(None, "--token", help="Save an API token (spk_...) instead; it is "
                                              "checked with GET /auth/me first.")) -> None:
    """Sign in and save the session (or an API token) for later commands (use the global --url for another
    registry). Credentials go to $XDG_CONFIG_HOME/spoke/credentials.json, readable by you only."""
    opts = options(ctx)
    url = effective_url(opts, load_credentials(opts.env))
    with client_at(opts, url, token or None) as client:
        if token:
            me = client.me()
            saved_email = me.user.email if me.user else None
            saved_token = token
        else:
            email = email or typer.prompt("Email")
            client.login(email.strip(), _read_password(password_stdin))
            saved_token = str(client.token)
            me = client.me()
            saved_email = me.user.email if me.user else email.strip()
    path = save_credentials(Credentials(url, saved_token, saved_email), opts.env)
    if opts.json:
        print_json({**_me_json(me, url), "credentials": str(path)})
        return
    who = saved_email or (me.token.name if me.token else "token")
    say(f"logged in to {url} as {who}")


def logout(ctx: typer.Context) -> None:
    """End the saved session on the server and delete the saved credentials. A saved API token is only
    forgotten here (it stays valid until revoked: DELETE /auth/tokens/{id})."""
    opts = options(ctx)
    saved = load_credentials(opts.env)
    if saved is None:
        delete_credentials(opts.env)  # a damaged file goes too
        say("not logged in")
        return
    if not saved.token.startswith(API_TOKEN_PREFIX):
        with client_at(opts, saved.url, saved.token) as client:
            try:
                client.logout()
            except Unauthorized:
                pass  # already expired or revoked: nothing left to end
            except SpokeError as error:
                note(f"warning: the server did not end the session ({error.code}: {error.message}); "
                     "deleting the local credentials anyway")
    delete_credentials(opts.env)
    if opts.json:
        print_json({"url": saved.url, "logged_out": True, "credentials": str(credentials_path(opts.env))})
    else:
        say(f"logged out of {saved.url}")


def whoami(ctx: typer.Context) -> None:
    """Who the CLI acts as (GET /auth/me): a user session or an API token, and its organizations."""
    opts = options(ctx)
    with client_from(opts) as client:
        url = client.base_url.rstrip("/")
        me = client.me()
    if opts.json:
        print_json(_me_json(me, url))
        return
    if me.user is not None:
        say(f"{me.user.email} ({me.kind}) at {url}")
    if me.token is not None:
        scopes = ", ".join(me.token.scopes) or "-"
        say(f"API token {me.token.name} (organization {me.token.organization_slug or me.token.organization_id}, "
            f"scopes: {scopes})")
    if me.organizations:
        table(("organization", "id", "role"), ((o.slug, o.id, o.role) for o in me.organizations))


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
