"""/organizations, their members, and their plan's usage."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.http import api_view, envelope, json_object, principal, request_context
from chalicelib.domain.roles import Role
from chalicelib.wiring import services

if TYPE_CHECKING:  # annotations only: a cold start does not load pydantic models
    from chalicelib.domain.models import Member, Organization

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)


def _org(org: Organization, role: Role | None = None) -> dict:
    data = {"id": org.id, "name": org.name, "slug": org.slug, "plan": org.plan, "created_at": org.created_at,
            "member_count": org.member_count}
    return {**data, "role": role.value} if role else data


def _member(member: Member) -> dict:
    return {"user_id": member.user_id, "email": member.email, "role": member.role.value,
            "joined_at": member.joined_at}


@bp.route("/organizations", methods=["POST"])
@view
def create_organization() -> Response:
    body = json_object(bp.current_request)
    org = services().organizations.create(principal(bp.current_request), body.get("name"), body.get("slug"),
                                          body.get("plan"))
    return envelope(_org(org, Role.OWNER), 201)


@bp.route("/organizations", methods=["GET"])
@view
def list_organizations() -> Response:
    pairs = services().organizations.list_for(principal(bp.current_request))
    return envelope({"organizations": [_org(org, role) for org, role in pairs]})


@bp.route("/organizations/{org_id}", methods=["GET"])
@view
def get_organization(org_id: str) -> Response:
    org, role = services().organizations.get(request_context(bp.current_request, org_id))
    return envelope(_org(org, role))


@bp.route("/organizations/{org_id}", methods=["PATCH"])
@view
def update_organization(org_id: str) -> Response:
    body = json_object(bp.current_request)
    org = services().organizations.update(principal(bp.current_request), org_id, body)
    return envelope(_org(org))


@bp.route("/organizations/{org_id}/usage", methods=["GET"])
@view
def organization_usage(org_id: str) -> Response:
    return envelope(services().organizations.usage(principal(bp.current_request), org_id))


@bp.route("/organizations/{org_id}/members", methods=["POST"])
@view
def add_member(org_id: str) -> Response:
    body = json_object(bp.current_request)
    ctx = request_context(bp.current_request, org_id)
    member = services().organizations.add_member(ctx, body.get("email"), body.get("role", "developer"))
    return envelope(_member(member), 201)


@bp.route("/organizations/{org_id}/members", methods=["GET"])
@view
def list_members(org_id: str) -> Response:
    ctx = request_context(bp.current_request, org_id)
    return envelope({"members": [_member(m) for m in services().organizations.list_members(ctx)]})


@bp.route("/organizations/{org_id}/members/{user_id}", methods=["DELETE"])
@view
def remove_member(org_id: str, user_id: str) -> Response:
    ctx = request_context(bp.current_request, org_id)
    services().organizations.remove_member(ctx, user_id)
    return Response(body="", status_code=204)
