"""Organizations, members, roles, and X-Organization-ID as the namespace of module calls."""
from __future__ import annotations

import pytest

from tests.integration.api import Api


@pytest.fixture
def acme(api: Api) -> dict:
    """Given Acme, owned by one user."""
    owner, owner_id = api.signed_up("owner@acme.test")
    org = api.post("/organizations", {"name": "Acme Corp", "slug": "acme"}, token=owner)
    assert org.status == 201
    return {"owner": owner, "owner_id": owner_id, "org": org.data}


def _member(api: Api, acme: dict, role: str) -> tuple[str, str]:
    token, user_id = api.signed_up(f"{role}@acme.test")
    added = api.post(f"/organizations/{acme['org']['id']}/members", {"email": f"{role}@acme.test", "role": role},
                     token=acme["owner"])
    assert added.status == 201, added.body
    return token, user_id


def test_creator_becomes_owner_and_lists_it(api: Api, acme: dict) -> None:
    org = acme["org"]
    assert org["id"].startswith("org-") and org["slug"] == "acme" and org["plan"] == "free"
    listed = api.get("/organizations", token=acme["owner"]).data["organizations"]
    assert [(o["slug"], o["member_count"], o["role"]) for o in listed] == [("acme", 1, "owner")]
    assert api.get("/organizations/acme", token=acme["owner"]).data["id"] == org["id"]
    assert api.get(f"/organizations/{org['id']}", token=acme["owner"]).data["slug"] == "acme"


def test_slug_is_unique_and_validated(api: Api, acme: dict) -> None:
    again = api.post("/organizations", {"name": "Other", "slug": "acme"}, token=acme["owner"])
    assert (again.status, again.code) == (409, "ORGANIZATION_EXISTS")
    for bad in ("Acme!", "default", "org-123", "-x-", "a"):
        reply = api.post("/organizations", {"name": "X", "slug": bad}, token=acme["owner"])
        assert (reply.status, reply.code) == (400, "VALIDATION_ERROR"), bad


def test_members_are_added_listed_and_removed(api: Api, acme: dict) -> None:
    org_id = acme["org"]["id"]
    _, dev_id = _member(api, acme, "developer")
    members = api.get(f"/organizations/{org_id}/members", token=acme["owner"]).data["members"]
    assert sorted((m["email"], m["role"]) for m in members) == [("developer@acme.test", "developer"),
                                                                ("owner@acme.test", "owner")]
    assert api.get("/organizations/acme", token=acme["owner"]).data["member_count"] == 2
    removed = api.delete(f"/organizations/{org_id}/members/{dev_id}", token=acme["owner"])
    assert removed.status == 204 and removed.raw in (b"", None)
    assert api.get("/organizations/acme", token=acme["owner"]).data["member_count"] == 1
    twice = api.delete(f"/organizations/{org_id}/members/{dev_id}", token=acme["owner"])
    assert (twice.status, twice.code) == (404, "MEMBER_NOT_FOUND")


def test_adding_twice_or_an_unknown_email_is_refused(api: Api, acme: dict) -> None:
    _member(api, acme, "viewer")
    org_id = acme["org"]["id"]
    again = api.post(f"/organizations/{org_id}/members", {"email": "viewer@acme.test", "role": "viewer"},
                     token=acme["owner"])
    assert (again.status, again.code) == (409, "MEMBER_EXISTS")
    nobody = api.post(f"/organizations/{org_id}/members", {"email": "nobody@acme.test", "role": "viewer"},
                      token=acme["owner"])
    assert (nobody.status, nobody.code) == (404, "USER_NOT_FOUND")
    bad_role = api.post(f"/organizations/{org_id}/members", {"email": "viewer@acme.test", "role": "boss"},
                        token=acme["owner"])
    assert (bad_role.status, bad_role.code) == (400, "VALIDATION_ERROR")


def test_roles_decide_what_members_may_do(api: Api, acme: dict) -> None:
    viewer, _ = _member(api, acme, "viewer")
    developer, _ = _member(api, acme, "developer")
    admin, _ = _member(api, acme, "admin")
    org_id = acme["org"]["id"]
    # viewers read but cannot publish
    assert api.post("/modules", {"name": "v"}, token=viewer, org="acme").code == "FORBIDDEN"
    # developers publish but cannot manage members
    api.module(developer, "billing", org="acme")
    assert api.publish(developer, "billing", "v1.0.0", org="acme").status == 201
    assert api.get("/modules/billing", token=viewer, org="acme").data["versions"] == ["v1.0.0"]
    refused = api.post(f"/organizations/{org_id}/members", {"email": "owner@acme.test", "role": "viewer"},
                       token=developer)
    assert (refused.status, refused.code) == (403, "FORBIDDEN")
    # admins manage members but not owners
    api.signed_up("new@acme.test")
    assert api.post(f"/organizations/{org_id}/members", {"email": "new@acme.test", "role": "developer"},
                    token=admin).status == 201
    no_owner = api.delete(f"/organizations/{org_id}/members/{acme['owner_id']}", token=admin)
    assert (no_owner.status, no_owner.code) == (403, "FORBIDDEN")


def test_the_last_owner_cannot_leave(api: Api, acme: dict) -> None:
    reply = api.delete(f"/organizations/{acme['org']['id']}/members/{acme['owner_id']}", token=acme["owner"])
    assert (reply.status, reply.code) == (422, "LAST_OWNER")


def test_modules_are_unique_per_organization(api: Api, acme: dict) -> None:
    # Given a module 'user' in the default organization and one in Acme
    api.module(acme["owner"], "user", description="default one")
    api.module(acme["owner"], "user", org="acme", description="acme one")
    # Then each organization sees its own, by slug or by id, and lists only its own
    assert api.get("/modules/user").data["description"] == "default one"
    assert api.get("/modules/user", token=acme["owner"], org="acme").data["description"] == "acme one"
    assert api.get("/modules/user", token=acme["owner"], org=acme["org"]["id"]).data["description"] == "acme one"
    listed = api.get("/modules?org=acme", token=acme["owner"]).data
    assert [m["description"] for m in listed["modules"]] == ["acme one"]
    again = api.post("/modules", {"name": "user"}, token=acme["owner"], org="acme")
    assert (again.status, again.code) == (409, "MODULE_EXISTS")
