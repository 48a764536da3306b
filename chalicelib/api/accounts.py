"""/auth: register, login, logout, password change, who-am-I, and API tokens."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import api_view, envelope, json_object, principal, source_ip
from chalicelib.wiring import services

if TYPE_CHECKING:
    from chalicelib.domain.api_tokens import ApiToken
    from chalicelib.domain.models import User

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)


def _user(user: User, with_role: bool = False) -> dict[str, Any]:
    data = {"id": user.id, "email": user.email, "first_name": user.first_name, "last_name": user.last_name}
    return {**data, "role": user.role} if with_role else data


def _token(token: ApiToken) -> dict[str, Any]:
    """An API token as its user sees it: never its secret nor its hash."""
    return {"id": token.id, "name": token.name, "organization": {"id": token.org_id, "slug": token.org_slug},
            "scopes": list(token.scopes), "created_at": token.created_at, "expires_at": token.expires_at,
            "last_used_at": token.last_used_at}


def _session(token: str, expires_at: str, user: User) -> dict[str, Any]:
    return {"token": token, "expires_at": expires_at,
            "user": {"id": user.id, "email": user.email, "role": user.role}}


@bp.route("/auth/register", methods=["POST"])
@view
def register() -> Response:
    body = json_object(bp.current_request)
    user = services().accounts.register(body.get("email"), body.get("password"), body.get("first_name"),
                                        body.get("last_name"))
    return envelope({"user": _user(user)}, 201)


@bp.route("/auth/login", methods=["POST"])
@view
def login() -> Response:
    request = bp.current_request
    body = json_object(request)
    return envelope(_session(*services().accounts.login(body.get("email"), body.get("password"),
                                                        source_ip(request))))


@bp.route("/auth/logout", methods=["POST"])
@view
def logout() -> Response:
    services().accounts.logout(principal(bp.current_request))
    return envelope({"success": True})


@bp.route("/auth/password", methods=["POST"])
@view
def change_password() -> Response:
    request = bp.current_request
    body = json_object(request)
    token, expires_at, user = services().accounts.change_password(
        principal(request), body.get("current_password"), body.get("new_password"), source_ip(request))
    return envelope({**_session(token, expires_at, user), "sessions_ended": True})


@bp.route("/auth/me", methods=["GET"])
@view
def me() -> Response:
    identity = services().accounts.identity(principal(bp.current_request))
    token = identity.token
    return envelope({
        "kind": identity.kind,
        "user": _user(identity.user),
        "token": None if token is None else {k: v for k, v in _token(token).items()
                                             if k in ("id", "name", "organization", "scopes", "expires_at")},
        "organizations": [{"id": org.id, "slug": org.slug, "name": org.name, "plan": org.plan, "role": role.value}
                          for org, role in identity.organizations],
    })


@bp.route("/auth/tokens", methods=["POST"])
@view
def create_token() -> Response:
    request = bp.current_request
    token, text = services().api_tokens.create(principal(request), json_object(request))
    return envelope({**_token(token), "token": text}, 201)


@bp.route("/auth/tokens", methods=["GET"])
@view
def list_tokens() -> Response:
    return envelope({"tokens": [_token(t) for t in services().api_tokens.list(principal(bp.current_request))]})


@bp.route("/auth/tokens/{token_id}", methods=["DELETE"])
@view
def revoke_token(token_id: str) -> Response:
    services().api_tokens.revoke(principal(bp.current_request), token_id)
    return Response(body="", status_code=204)
