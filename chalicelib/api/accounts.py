"""/auth: register, login, logout."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import api_view, envelope, json_object, principal
from chalicelib.services.common import require_principal
from chalicelib.wiring import services

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)


def _user(user, with_role: bool = False) -> dict:
    data = {"id": user.id, "email": user.email, "first_name": user.first_name, "last_name": user.last_name}
    return {**data, "role": user.role} if with_role else data


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
    body = json_object(bp.current_request)
    token, expires_at, user = services().accounts.login(body.get("email"), body.get("password"))
    return envelope({"token": token, "expires_at": expires_at,
                     "user": {"id": user.id, "email": user.email, "role": user.role}})


@bp.route("/auth/logout", methods=["POST"])
@view
def logout() -> Response:
    services().accounts.logout(require_principal(principal(bp.current_request)))
    return envelope({"success": True})
