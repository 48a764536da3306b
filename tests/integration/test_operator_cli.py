"""`spoke-admin`, in-process against moto: the operator sets plans (the new limits hold at once for new
writes), reads an organization's plan and usage, and gives legacy default-organization modules an owner."""
from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest

from chalicelib import wiring
from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import to_item
from chalicelib.cli.operator import main
from tests.integration.api import Api
from tests.integration.test_quotas import limit, plans, refused, team, user  # noqa: F401 - limit: a fixture


def admin(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_set_plan_raises_the_limit_for_the_next_write(api: Api, monkeypatch: pytest.MonkeyPatch,
                                                      aws_env: dict[str, str]) -> None:
    # Given a free plan of one module and a professional plan of three
    table = json.loads(plans(modules=1))
    table["professional"]["modules"] = 3
    monkeypatch.setenv("SPOKE_PLANS", json.dumps(table))
    wiring.reset()
    owner = user(api)
    org_id = team(api, owner)
    api.module(owner, "one", org="team")
    refused(api.post("/modules", {"name": "two"}, token=owner, org="team"), "modules", 1, 1)
    # When the operator moves the organization to professional (by slug)
    code, out, _ = admin("set-plan", "team", "professional")
    # Then it says what changed, and the next module is accepted under the new limit
    assert (code, out) == (0, f"team ({org_id}): free -> professional\n")
    assert api.post("/modules", {"name": "two"}, token=owner, org="team").status == 201
    assert api.get(f"/organizations/{org_id}", token=owner).data["plan"] == "professional"
    # And by id, back to free: the modules stay, the next one is refused
    assert admin("set-plan", org_id, "free")[1] == f"team ({org_id}): professional -> free\n"
    refused(api.post("/modules", {"name": "three"}, token=owner, org="team"), "modules", 2, 1)


def test_show_prints_plan_limits_and_usage(api: Api, limit: Callable[..., None]) -> None:
    limit(modules=7)
    owner = user(api)
    org_id = team(api, owner)
    api.module(owner, "one", org="team")
    code, out, _ = admin("show", "team")
    shown = json.loads(out)
    assert code == 0
    assert (shown["id"], shown["slug"], shown["plan"]) == (org_id, "team", "free")
    assert shown["limits"]["modules"] == 7
    assert shown["usage"] | {"stored_bytes": 0} == {"modules": 1, "stored_bytes": 0, "members": 1, "webhooks": 0,
                                                      "compiles_today": 0}


def test_unknown_organizations_and_plans_are_refused_with_a_message(api: Api, aws_env: dict[str, str]) -> None:
    code, _, err = admin("set-plan", "nobody", "professional")
    assert code == 1 and "ORGANIZATION_NOT_FOUND" in err
    assert admin("set-plan", "default", "enterprise")[0] == 1  # the shared organization has no plan of its own
    assert admin("set-plan", "team", "platinum")[0] == 1
    assert admin()[0] == 1


def test_set_module_owner_gives_a_legacy_module_its_owner(api: Api, aws_env: dict[str, str]) -> None:
    # Given a default-organization module from before owners (no owner_id) and a registered user
    creator = user(api)
    api.module(creator, "legacy")
    table = wiring.services().table
    table.client.update_item(TableName=table.name, Key=to_item(keys.module_key("default", "legacy")),
                             UpdateExpression="REMOVE owner_id")
    user(api, "heir@example.com")
    # When the operator assigns it
    code, out, err = admin("set-module-owner", "legacy", "heir@example.com")
    # Then the module is theirs
    assert code == 0, err
    heir = wiring.services().organizations.user_id_for("heir@example.com")
    assert out == f"legacy: owner {heir} (heir@example.com)\n"
    assert wiring.services().registry.get_module("default", "legacy").owner_id == heir
    # And an unknown email is refused
    assert admin("set-module-owner", "legacy", "ghost@example.com")[0] == 1



