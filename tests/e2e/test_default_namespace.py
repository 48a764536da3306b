"""Issue 10's hijack, over real HTTP against the locally running registry: in the default organization
another user can neither loosen a module's policy nor publish a breaking "latest" over it; its owner
can, and so can a collaborator the owner adds."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import requests

from tests.e2e.conftest import PASSWORD

USER_V1 = 'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string id = 1;\n  string email = 2;\n}\n'
USER_BREAKING = 'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string id = 1;\n}\n'


def _person(api_url: str) -> dict[str, str]:
    """A fresh signed-in user: token, id and email."""
    email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
    assert requests.post(f"{api_url}/auth/register", json={"email": email, "password": PASSWORD},
                         timeout=30).status_code == 201
    login = requests.post(f"{api_url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    data = login.json()["data"]
    return {"token": data["token"], "id": data["user"]["id"], "email": email}


def _call(method: str, url: str, who: dict[str, str], body: Any = None) -> requests.Response:
    return requests.request(method, url, json=body, headers={"Authorization": f"Bearer {who['token']}"}, timeout=60)


def _publish(api_url: str, module: str, who: dict[str, str], version: str, proto: str) -> requests.Response:
    return _call("POST", f"{api_url}/modules/{module}/versions", who,
                 {"version": version, "description": "", "files": {"user.proto": proto}})


def test_another_user_cannot_hijack_a_default_module_but_its_owner_can_change_it(
        api_url: str, unique: Callable[[str], str]) -> None:
    alice, bob = _person(api_url), _person(api_url)
    module = unique("user")
    # Given Alice's module in the default organization, with a policy that refuses any breaking change, and v1.0.0
    created = _call("POST", f"{api_url}/modules", alice, {
        "name": module, "description": "Alice's users",
        "compatibility": {"mode": "BACKWARD", "allow_breaking_major": False}})
    assert created.status_code == 201, created.text
    assert created.json()["data"]["owner"] == {"id": alice["id"]}
    assert _publish(api_url, module, alice, "v1.0.0", USER_V1).status_code == 201
    before = requests.get(f"{api_url}/modules/{module}", timeout=30).json()["data"]

    # When Bob sets its policy to NONE and publishes a breaking v2.0.0
    patched = _call("PATCH", f"{api_url}/modules/{module}", bob, {"compatibility": {"mode": "NONE"}})
    pushed = _publish(api_url, module, bob, "v2.0.0", USER_BREAKING)

    # Then both are 403 FORBIDDEN, and the module and its versions are unchanged
    for refused in (patched, pushed):
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "FORBIDDEN"
    assert "collaborator" in patched.json()["error"]["message"]
    after = requests.get(f"{api_url}/modules/{module}", timeout=30).json()["data"]
    assert after == before and after["versions"] == ["v1.0.0"] and after["compatibility"]["mode"] == "BACKWARD"

    # And Alice can still do both
    assert _call("PATCH", f"{api_url}/modules/{module}", alice,
                 {"compatibility": {"mode": "NONE"}}).status_code == 200
    assert _publish(api_url, module, alice, "v2.0.0", USER_BREAKING).status_code == 201
    assert requests.get(f"{api_url}/modules/{module}", timeout=30).json()["data"]["latest_version"] == "v2.0.0"


def test_a_collaborator_the_owner_adds_may_publish_until_removed(api_url: str, unique: Callable[[str], str]) -> None:
    alice, bob = _person(api_url), _person(api_url)
    module = unique("shared")
    assert _call("POST", f"{api_url}/modules", alice, {"name": module}).status_code == 201
    # When Alice adds Bob by email
    added = _call("POST", f"{api_url}/modules/{module}/collaborators", alice, {"email": bob["email"]})
    assert added.status_code == 201, added.text
    assert added.json()["data"]["user_id"] == bob["id"]
    # Then Bob publishes
    assert _publish(api_url, module, bob, "v1.0.0", USER_V1).status_code == 201
    # And once removed, he no longer can
    removed = _call("DELETE", f"{api_url}/modules/{module}/collaborators/{bob['id']}", alice)
    assert removed.status_code == 204, removed.text
    assert _publish(api_url, module, bob, "v1.1.0", USER_V1).status_code == 403
    listed = requests.get(f"{api_url}/modules/{module}/collaborators", timeout=30).json()["data"]
    assert listed["collaborators"] == [] and listed["owner"] == {"id": alice["id"]}
