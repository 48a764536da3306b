"""Use cases of organizations and members, and the resolution of a request's organization."""
from __future__ import annotations

import uuid
from typing import Any

from chalicelib.domain.errors import (Forbidden, MemberNotFound, OrganizationNotFound,
                                      UserNotFound, ValidationFailed)
from chalicelib.domain.models import DEFAULT_ORG_ID, Member, Organization, Principal, RequestContext
from chalicelib.domain.text import bounded_text
from chalicelib.domain.names import DEFAULT_ORG_SLUG, is_org_ref, is_user_id, shown, validate_slug
from chalicelib.domain.roles import Action, Role, can
from chalicelib.services.accounts import normalise_email
from chalicelib.services.common import require, require_principal, utc_now
from chalicelib.services.ports import AccountsPort, OrganizationsPort

MAX_ORG_NAME = 100
DEFAULT_ORG = Organization(id=DEFAULT_ORG_ID, name="Default", slug=DEFAULT_ORG_SLUG, plan="free",
                           created_at="1970-01-01T00:00:00Z", is_default=True)


class OrganizationsService:
    def __init__(self, orgs: OrganizationsPort, accounts: AccountsPort) -> None:
        self._orgs = orgs
        self._accounts = accounts

    def context_for(self, request_id: str, principal: Principal | None, org_ref: str | None) -> RequestContext:
        """Every request acts in one organization: the X-Organization-ID one (id or slug) or the default."""
        ref = (org_ref or "").strip()
        if ref in ("", DEFAULT_ORG_ID, DEFAULT_ORG_SLUG):
            role = Role.DEVELOPER if principal else None
            return RequestContext(request_id=request_id, principal=principal, org=DEFAULT_ORG, role=role)
        principal = require_principal(principal)
        org_id = None
        if is_org_ref(ref):
            org_id = ref if ref.startswith("org-") else self._orgs.org_id_for_slug(ref.lower())
        org = self._orgs.get_organization(org_id) if org_id else None
        member = self._orgs.get_member(org.id, principal.user_id) if org else None
        if org is None or member is None:
            # Non-members cannot tell a private organization from a missing one.
            raise OrganizationNotFound(f"Organization '{shown(ref)}' not found", details={"organization": shown(ref)})
        return RequestContext(request_id=request_id, principal=principal, org=org, role=member.role)

    def create(self, principal: Principal | None, name: Any, slug: Any) -> Organization:
        principal = require_principal(principal)
        name = bounded_text("name", name, MAX_ORG_NAME, single_line=True, required=True)
        org = Organization(id=f"org-{uuid.uuid4().hex[:12]}", name=name, slug=validate_slug(slug),
                           plan="free", created_at=utc_now(), member_count=1)
        owner = Member(org_id=org.id, user_id=principal.user_id, email=principal.email, role=Role.OWNER,
                       joined_at=org.created_at)
        self._orgs.create_organization(org, owner)
        return org

    def list_for(self, principal: Principal | None) -> list[tuple[Organization, Role]]:
        return self._orgs.organizations_of(require_principal(principal).user_id)

    def get(self, principal: Principal | None, org_ref: str) -> tuple[Organization, Role | None]:
        ctx = self.context_for("", principal, org_ref)
        require(ctx, Action.READ)
        return ctx.org, ctx.role

    def add_member(self, ctx: RequestContext, email: Any, role: Any) -> Member:
        self._require_named(ctx)
        require(ctx, Action.MANAGE_MEMBERS)
        new_role = _role(role)
        if new_role is Role.OWNER and not can(ctx.role, Action.MANAGE_OWNERS):
            raise Forbidden("Only owners may add owners")
        address = normalise_email(email)
        user_id = self._accounts.user_id_for_email(address)
        if user_id is None:
            raise UserNotFound(f"No account with email '{address}': they must register first",
                               details={"email": address})
        member = Member(org_id=ctx.org.id, user_id=user_id, email=address, role=new_role, joined_at=utc_now())
        self._orgs.add_member(member)
        return member

    def list_members(self, ctx: RequestContext) -> list[Member]:
        self._require_named(ctx)
        require(ctx, Action.READ)
        return self._orgs.list_members(ctx.org.id)

    def remove_member(self, ctx: RequestContext, user_id: str) -> None:
        self._require_named(ctx)
        leaving_self = ctx.principal is not None and ctx.principal.user_id == user_id
        if not leaving_self:
            require(ctx, Action.MANAGE_MEMBERS)
        member = self._orgs.get_member(ctx.org.id, user_id) if is_user_id(user_id) else None
        if member is None:
            raise MemberNotFound(f"User '{shown(user_id)}' is not a member of this organization",
                                 details={"user_id": shown(user_id)})
        if member.role is Role.OWNER and not leaving_self and not can(ctx.role, Action.MANAGE_OWNERS):
            raise Forbidden("Only owners may remove owners")
        # The store refuses the last owner (LAST_OWNER) in the same transaction as the delete: a count
        # read here first could be stale by the time two owners leave at once.
        self._orgs.remove_member(ctx.org.id, user_id, member.role)

    @staticmethod
    def _require_named(ctx: RequestContext) -> None:
        if ctx.org.is_default:
            raise OrganizationNotFound("The default organization has no member list: everyone may use it")


def _role(value: Any) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationFailed(f"role must be one of {', '.join(r.value for r in Role)}", validation_errors=[
            {"field": "role", "code": "INVALID_CHOICE", "message": f"one of {', '.join(r.value for r in Role)}"}
        ]) from None
