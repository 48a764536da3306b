"""Modules: create, read, edit, list with pages, cursors and a name/description filter."""
from __future__ import annotations

import pytest

from tests.integration.api import Api
from tests.integration.outbox import relay_outbox


@pytest.fixture
def token(api: Api) -> str:
    return api.signed_up()[0]


def test_create_then_read_a_module(api: Api, token: str) -> None:
    created = api.post("/modules", {"name": "user", "description": "User service protobuf definitions"},
                       token=token)
    assert created.status == 201
    assert created.data["name"] == "user" and created.data["versions"] == []
    got = api.get("/modules/user").data
    assert got["description"] == "User service protobuf definitions"
    assert got["latest_version"] is None and got["versions"] == []


def test_patch_changes_only_the_description(api: Api, token: str) -> None:
    api.module(token, "user", description="old")
    patched = api.patch("/modules/user", {"description": "new"}, token=token)
    assert patched.status == 200 and patched.data["description"] == "new"
    assert api.get("/modules/user").data["description"] == "new"
    renamed = api.patch("/modules/user", {"name": "other"}, token=token)
    assert (renamed.status, renamed.code) == (400, "VALIDATION_ERROR")
    missing = api.patch("/modules/none", {"description": "x"}, token=token)
    assert (missing.status, missing.code) == (404, "MODULE_NOT_FOUND")


def test_pages_cursors_and_filter(api: Api, token: str) -> None:
    # Given 25 modules
    for i in range(25):
        api.module(token, f"mod-{i:02d}", description="payments" if i % 5 == 0 else "misc")
    # (the default organization's module total comes from the table's stream, once it has been relayed)
    relay_outbox()
    # When listing page by page
    first = api.get("/modules?page_size=10").data
    third = api.get("/modules?page_size=10&page=3").data
    # Then pages are in name order with totals from the counters
    assert [m["name"] for m in first["modules"]] == [f"mod-{i:02d}" for i in range(10)]
    assert [m["name"] for m in third["modules"]] == [f"mod-{i:02d}" for i in range(20, 25)]
    assert first["pagination"] | {"next_cursor": None} == {
        "page": 1, "page_size": 10, "total_pages": 3, "total_items": 25, "has_more": True, "next_cursor": None}
    assert third["pagination"]["has_more"] is False
    # And the cursor walks the same order
    cursor = first["pagination"]["next_cursor"]
    second = api.get(f"/modules?page_size=10&cursor={cursor}").data
    assert [m["name"] for m in second["modules"]] == [f"mod-{i:02d}" for i in range(10, 20)]
    # And q filters by name or description
    paid = api.get("/modules?q=payments").data
    assert [m["name"] for m in paid["modules"]] == ["mod-00", "mod-05", "mod-10", "mod-15", "mod-20"]
    assert paid["pagination"]["total_items"] == 5
    assert [m["name"] for m in api.get("/modules?q=mod-1").data["modules"]] == [f"mod-{i}" for i in range(10, 20)]


def test_a_cursor_from_another_listing_is_refused(api: Api, token: str) -> None:
    for i in range(3):
        api.module(token, f"m{i}")
    cursor = api.get("/modules?page_size=1").data["pagination"]["next_cursor"]
    reused = api.get(f"/modules?page_size=1&q=m&cursor={cursor}")
    assert (reused.status, reused.code) == (400, "INVALID_CURSOR")
