"""Use cases of a default-organization module's collaborators: the people its owner lets write to it.

Only the default organization has them: there everyone may sign in and create modules, so a module
belongs to its creator. In a named organization roles govern writes, and these use cases answer 400.
"""
from __future__ import annotations

from typing import Any

from chalicelib.domain.errors import CollaboratorNotFound, CollaboratorsOnlyInDefault, UserNotFound, ValidationFailed
from chalicelib.domain.models import Module, RequestContext
from chalicelib.domain.names import is_user_id, shown
from chalicelib.domain.roles import Action
from chalicelib.services.accounts import normalise_email
from chalicelib.services.common import require, require_principal, utc_now
from chalicelib.services.modules import ModulesService
from chalicelib.services.ports import AccountsPort, Collaborator, CollaboratorsPort

MAX_COLLABORATORS = 100


class CollaboratorsService:
    def __init__(self, modules: ModulesService, collaborators: CollaboratorsPort, accounts: AccountsPort,
                 limit: int = MAX_COLLABORATORS) -> None:
        self._modules = modules
        self._collaborators = collaborators
        self._accounts = accounts
        self._limit = limit

    def add(self, ctx: RequestContext, module_name: str, email: Any) -> tuple[Collaborator, bool]:
        """The collaborator, and whether this call added them (False: they already were one)."""
        _require_default(ctx)
        module = self._modules.writable(ctx, module_name, owner_only=True)
        address = normalise_email(email)
        user_id = self._accounts.user_id_for_email(address)
        if user_id is None:
            raise UserNotFound(f"No account with email '{address}': they must register first",
                               details={"email": address})
        if user_id == module.owner_id:
            raise ValidationFailed(f"'{address}' owns module '{module.name}': an owner needs no invitation",
                                   validation_errors=[{"field": "email", "code": "IS_OWNER",
                                                       "message": "the module's owner may always write"}])
        collaborator = Collaborator(org_id=ctx.org.id, module=module.name, user_id=user_id, email=address,
                                    added_at=utc_now(), added_by=require_principal(ctx.principal).user_id)
        if self._collaborators.add(collaborator, self._limit):
            return collaborator, True
        return self._collaborators.get(ctx.org.id, module.name, user_id) or collaborator, False

    def list(self, ctx: RequestContext, module_name: str) -> tuple[Module, list[Collaborator]]:
        """Anyone who may read the module may see who may write to it."""
        require(ctx, Action.READ)
        _require_default(ctx)
        module = self._modules.find(ctx, module_name)
        return module, self._collaborators.list(ctx.org.id, module.name)

    def remove(self, ctx: RequestContext, module_name: str, user_id: str) -> None:
        """The owner removes anyone; a collaborator may remove themself."""
        _require_default(ctx)
        principal = require_principal(ctx.principal)
        if principal.user_id == user_id:
            require(ctx, Action.PUBLISH)
            module = self._modules.find(ctx, module_name)
        else:
            module = self._modules.writable(ctx, module_name, owner_only=True)
        if not is_user_id(user_id) or not self._collaborators.remove(ctx.org.id, module.name, user_id):
            raise CollaboratorNotFound(f"User '{shown(user_id)}' is not a collaborator of module '{module.name}'",
                                       details={"module": module.name, "user_id": shown(user_id)})


def _require_default(ctx: RequestContext) -> None:
    if not ctx.org.is_default:
        raise CollaboratorsOnlyInDefault(
            f"Modules of organization '{ctx.org.slug}' have no collaborators: its members' roles govern who may "
            "write (add them with POST /organizations/{id}/members)")
