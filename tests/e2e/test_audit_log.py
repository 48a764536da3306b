"""The audit trail over real HTTP (chalice local, the embedded AWS): an organization's owner reads who
created what, newest first, and follows the cursor; a stranger cannot tell the organization exists."""
from __future__ import annotations

from collections.abc import Callable

import requests


def test_an_owner_reads_the_trail_of_their_organization(api_url: str, token: str, unique: Callable[[str], str],
                                                        register_user: Callable[[], str]) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    slug = unique("audit")
    org = requests.post(f"{api_url}/organizations", json={"name": "Audited", "slug": slug}, headers=auth, timeout=30)
    assert org.status_code == 201, org.text
    org_id = org.json()["data"]["id"]
    in_org = {**auth, "X-Organization-ID": org_id}
    # Given two modules created in it
    ids = []
    for name in ("user", "billing"):
        created = requests.post(f"{api_url}/modules", json={"name": name}, headers=in_org, timeout=30)
        assert created.status_code == 201, created.text
        ids.append(created.headers["X-Request-ID"])
    # When its owner reads the trail one record per page
    first = requests.get(f"{api_url}/organizations/{org_id}/audit?limit=1", headers=auth, timeout=30)
    assert first.status_code == 200, first.text
    cursor = first.json()["data"]["pagination"]["next_cursor"]
    second = requests.get(f"{api_url}/organizations/{org_id}/audit", params={"limit": 1, "cursor": cursor},
                          headers=auth, timeout=30).json()["data"]
    # Then the newest comes first, each naming the request, the action and the resource's route
    records = first.json()["data"]["records"] + second["records"]
    assert [r["request_id"] for r in records] == ids[::-1]
    assert {r["action"] for r in records} == {"POST /modules"} and all(r["status"] == 201 for r in records)
    # And a stranger gets the 404 of an organization that does not exist
    stranger = {"Authorization": f"Bearer {register_user()}"}
    assert requests.get(f"{api_url}/organizations/{org_id}/audit", headers=stranger, timeout=30).status_code == 404
