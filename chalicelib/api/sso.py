"""Single sign-on (OpenID Connect): an organization's SSO settings, and the two steps of a login."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.http import api_view, envelope, json_object, request_context
from chalicelib.wiring import services

if TYPE_CHECKING:  # annotations only: a cold start does not load the SSO modules
    from chalicelib.domain.sso import SsoConfig

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)


def _config(config: SsoConfig) -> dict:
    """The settings as stored; the client secret is never returned, only that it is set."""
    return {"organization_id": config.org_id, "issuer": config.issuer, "client_id": config.client_id,
            "client_secret_set": True, "allowed_domains": list(config.allowed_domains),
            "default_role": config.default_role.value,
            "authorization_endpoint": config.provider.authorization_endpoint,
            "token_endpoint": config.provider.token_endpoint, "jwks_uri": config.provider.jwks_uri,
            "token_endpoint_auth_method": config.provider.token_auth_method,
            "updated_at": config.updated_at, "updated_by": config.updated_by}


@bp.route("/organizations/{org_id}/sso", methods=["PUT"])
@view
def configure_sso(org_id: str) -> Response:
    body = json_object(bp.current_request)
    ctx = request_context(bp.current_request, org_id)
    return envelope(_config(services().sso.configure(ctx, body)))


@bp.route("/organizations/{org_id}/sso", methods=["GET"])
@view
def get_sso(org_id: str) -> Response:
    ctx = request_context(bp.current_request, org_id)
    return envelope(_config(services().sso.get(ctx)))


@bp.route("/organizations/{org_id}/sso", methods=["DELETE"])
@view
def delete_sso(org_id: str) -> Response:
    ctx = request_context(bp.current_request, org_id)
    services().sso.delete(ctx)
    return Response(body="", status_code=204)


@bp.route("/auth/sso/{org}/start", methods=["POST"])
@view
def start_sso(org: str) -> Response:
    body = json_object(bp.current_request)
    started = services().sso.start(org, body.get("redirect_uri"))
    return envelope({"authorization_url": started.authorization_url, "state": started.state,
                     "expires_at": started.expires_at})


@bp.route("/auth/sso/callback", methods=["POST"])
@view
def sso_callback() -> Response:
    body = json_object(bp.current_request)
    login = services().sso.callback(body.get("state"), body.get("code"))
    user = login.user
    return envelope({"token": login.token, "expires_at": login.expires_at,
                     "user": {"id": user.id, "email": user.email, "role": user.role},
                     "organization": {"id": login.organization.id, "slug": login.organization.slug,
                                      "name": login.organization.name},
                     "role": login.role.value, "provisioned": login.provisioned})
