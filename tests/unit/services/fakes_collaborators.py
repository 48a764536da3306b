"""CollaboratorsPort in memory, with the store's conditions: no duplicates, at most `limit` per module."""
from __future__ import annotations

from chalicelib.domain.errors import CollaboratorLimitReached
from chalicelib.services.ports import Collaborator


class FakeCollaborators:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], Collaborator] = {}
        self.gets = 0  # "is this caller a collaborator?" reads, so tests can see the owner never costs one

    def add(self, collaborator: Collaborator, limit: int) -> bool:
        c = collaborator
        if (c.org_id, c.module, c.user_id) in self.items:
            return False
        if len(self.list(c.org_id, c.module)) >= limit:
            raise CollaboratorLimitReached(f"Module '{c.module}' already has {limit} collaborators",
                                           details={"module": c.module, "limit": limit})
        self.items[(c.org_id, c.module, c.user_id)] = c
        return True

    def get(self, org_id: str, module: str, user_id: str) -> Collaborator | None:
        self.gets += 1
        return self.items.get((org_id, module, user_id))

    def list(self, org_id: str, module: str) -> list[Collaborator]:
        return sorted((c for (o, m, _), c in self.items.items() if (o, m) == (org_id, module)),
                      key=lambda c: c.user_id)

    def remove(self, org_id: str, module: str, user_id: str) -> bool:
        return self.items.pop((org_id, module, user_id), None) is not None
