"""Use cases of organizations and members, and the resolution of a request's organization.

An organization's plan (free, professional, enterprise: the limits are configuration, SPOKE_PLANS)
is set by the operator alone (`set_plan`, run by `spoke-admin` with deployment credentials); no API
call changes it. New organizations start on the free plan.
"""
from __future__ import annotations

import uuid
from typing import Any

from chalicelib.domain.errors import Forbidden, MemberNotFound, OrganizationNotFound, UserNotFound, ValidationFailed
from chalicelib.domain.models import DEFAULT_ORG_ID, Member, Organization, Principal, RequestContext
from chalicelib.domain.names import DEFAULT_ORG_SLUG, is_org_ref, is_user_id, shown, validate_slug
from chalicelib.domain.plans import DEFAULT_PLAN, DEFAULT_PLANS, PLAN_NAMES, Plan
from chalicelib.domain.quotas import limits_of, plan_named
from chalicelib.domain.roles import Action, Role, can
from chalicelib.domain.text import bounded_text
from chalicelib.services.accounts import normalise_email
from chalicelib.services.common import require, require_principal, require_session, utc_now
from chalicelib.services.ports import AccountsPort, OrganizationsPort
from chalicelib.services.quotas import Plans, quotas_for

MAX_ORG_NAME = 100
DEFAULT_ORG = Organization(id=DEFAULT_ORG_ID, name="Default", slug=DEFAULT_ORG_SLUG, plan="free",
                           created_at="1970-01-01T00:00:00Z", is_default=True)


class OrganizationsService:
    def __init__(self, orgs: OrganizationsPort, accounts: AccountsPort, plans: Plans | None = None) -> None:
        self._orgs = orgs
        self._accounts = accounts
        self._plans = plans  # the plan table (quotas); None: no quotas

    def context_for(self, request_id: str, principal: Principal | None, org_ref: str | None) -> RequestContext:
        """Every request acts in one organization: the X-Organization-ID one (id or slug) or the default.
        An API token acts in its own organization (without the header too) and in no other (403)."""
        ref = (org_ref or "").strip()
        if principal is not None and principal.kind == "api_token":
            own = principal.org_id or DEFAULT_ORG_ID
            named = own if not ref else DEFAULT_ORG_ID if ref in (DEFAULT_ORG_ID, DEFAULT_ORG_SLUG) else (
                ref if ref.startswith("org-") else self._orgs.org_id_for_slug(ref.lower()) if is_org_ref(ref) else None)
            if named != own:
                own_org = self._orgs.get_organization(own) if own != DEFAULT_ORG_ID else None
                slug = own_org.slug if own_org else own
                raise Forbidden(f"This API token acts only in '{slug}'", details={"organization": slug})
            ref = own
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

    def create(self, principal: Principal | None, name: Any, slug: Any, plan: Any = None) -> Organization:
        """A new organization on the free plan, its creator its owner. Asking for another plan is refused:
        only the operator sets plans."""
        principal = require_session(principal, "create organizations")
        if plan is not None and plan != DEFAULT_PLAN:
            raise Forbidden("The plan is set by the operator: organizations start on the free plan",
                            details={"field": "plan", "plan": DEFAULT_PLAN})
        name = bounded_text("name", name, MAX_ORG_NAME, single_line=True, required=True)
        org = Organization(id=f"org-{uuid.uuid4().hex[:12]}", name=name, slug=validate_slug(slug),
                           plan="free", created_at=utc_now(), member_count=1)
        owner = Member(org_id=org.id, user_id=principal.user_id, email=principal.email, role=Role.OWNER,
                       joined_at=org.created_at)
        self._orgs.create_organization(org, owner)
        return org

    def list_for(self, principal: Principal | None) -> list[tuple[Organization, Role]]:
        """The caller's organizations; an API token sees only its own."""
        who = require_principal(principal)
        pairs = self._orgs.organizations_of(who.user_id)
        return pairs if who.kind == "session" else [(org, role) for org, role in pairs if org.id == who.org_id]

    def get(self, ctx: RequestContext) -> tuple[Organization, Role | None]:
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
        # The plan's `members` quota is a condition of the membership's own transaction.
        self._orgs.add_member(member, max_members=self._plan(ctx.org).members if self._plans is not None else None)
        return member

    def update(self, principal: Principal | None, org_ref: str, changes: dict[str, Any]) -> Organization:
        """Admins and owners rename their organization; nothing else of it is theirs to change (the slug
        names it in URLs and headers, the plan is the operator's)."""
        ctx = self.context_for("", principal, org_ref)
        if "plan" in changes:
            raise Forbidden("Only the operator changes a plan", details={"field": "plan"})
        if ctx.org.is_default:
            raise Forbidden("The default organization is shared by everyone: it cannot be renamed")
        require(ctx, Action.MANAGE_SETTINGS)
        unknown = sorted(set(changes) - {"name"})
        if unknown or "name" not in changes:
            raise ValidationFailed("Only 'name' can be changed", validation_errors=[
                {"field": f[:64], "code": "NOT_EDITABLE", "message": "cannot be changed"} for f in unknown[:20]] or [
                {"field": "name", "code": "REQUIRED", "message": "send the new name"}])
        name = bounded_text("name", changes["name"], MAX_ORG_NAME, single_line=True, required=True)
        return self._orgs.rename_organization(ctx.org.id, name)

    def usage(self, principal: Principal | None, org_ref: str) -> dict[str, Any]:
        """The plan, its limits and what the organization holds: members see how close they are. In the
        default organization usage counts per user, so it is the caller's own."""
        ctx = self.context_for("", principal, org_ref)
        require(ctx, Action.READ)
        if ctx.org.is_default:
            require_principal(ctx.principal)
        return self._overview(ctx)

    # The operator's use cases: run by `spoke-admin` with deployment credentials, never by an API route.

    def set_plan(self, org_ref: str, plan: Any) -> tuple[Organization, str]:
        """Move an organization (id or slug) to `plan`; the organization after, and the plan before. New
        writes are held to the new limits at once (each container's cached organization within
        SPOKE_CACHE_SECONDS)."""
        if plan not in PLAN_NAMES:
            raise ValidationFailed(f"plan must be one of {', '.join(PLAN_NAMES)}", validation_errors=[
                {"field": "plan", "code": "INVALID_CHOICE", "message": f"one of {', '.join(PLAN_NAMES)}"}])
        return self._orgs.set_plan(self._operator_find(org_ref).id, plan)

    def show(self, org_ref: str) -> dict[str, Any]:
        """An organization's plan, limits and usage, for the operator."""
        org = self._operator_find(org_ref)
        return {"id": org.id, "slug": org.slug, "name": org.name,
                **self._overview(RequestContext(request_id="operator", principal=None, org=org, role=None))}

    def user_id_for(self, email: Any) -> str:
        """The account of an email, for the operator (spoke-admin set-module-owner)."""
        address = normalise_email(email)
        user_id = self._accounts.user_id_for_email(address)
        if user_id is None:
            raise UserNotFound(f"No account with email '{address}'", details={"email": address})
        return user_id

    def _operator_find(self, org_ref: str) -> Organization:
        ref = (org_ref or "").strip()
        org = None
        if is_org_ref(ref) and ref not in (DEFAULT_ORG_ID, DEFAULT_ORG_SLUG):
            org_id = ref if ref.startswith("org-") else self._orgs.org_id_for_slug(ref.lower())
            org = self._orgs.get_organization(org_id) if org_id else None
        if org is None:
            raise OrganizationNotFound(f"Organization '{shown(ref)}' not found (the default organization has no "
                                       "plan of its own: its quotas are the free plan's, per user)",
                                       details={"organization": shown(ref)})
        return org

    def _plan(self, org: Organization) -> Plan:
        return plan_named(self._plans, org.plan)

    def _overview(self, ctx: RequestContext) -> dict[str, Any]:
        quotas = quotas_for(ctx, self._plans if self._plans is not None else DEFAULT_PLANS)
        assert quotas is not None
        return {"plan": quotas.plan.name, "limits": limits_of(quotas.plan),
                "usage": self._orgs.usage(quotas).as_dict()}

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
