"""Listings: a user iterating modules or versions gets every item, whatever the page size."""
from __future__ import annotations

import httpx

from spoke_client import Module, SpokeClient
from tests.unit.client.fakes import BASE, Server, envelope


def _modules_page(names: list[str], cursor: str | None) -> httpx.Response:
    return envelope({"modules": [{"name": n, "version_count": 1} for n in names],
                     "pagination": {"page": 1, "page_size": 2, "total_items": 5, "has_more": cursor is not None,
                                    "next_cursor": cursor}})


def test_iter_modules_follows_cursors_to_the_end(server: Server, client: SpokeClient) -> None:
    # Given three pages of modules linked by cursors
    def answer(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        return {None: _modules_page(["a", "b"], "c1"), "c1": _modules_page(["c", "d"], "c2"),
                "c2": _modules_page(["e"], None)}[cursor]
    server.on("GET", f"{BASE}/modules", answer)

    # When the user iterates them
    modules = list(client.iter_modules(q="user", page_size=2))

    # Then every module comes back once, in order, and each request resumed from the previous cursor
    assert [m.name for m in modules] == ["a", "b", "c", "d", "e"]
    assert all(isinstance(m, Module) and m.version_count == 1 for m in modules)
    sent = server.sent("GET", f"{BASE}/modules")
    assert [r.url.params.get("cursor") for r in sent] == [None, "c1", "c2"]
    assert all(r.url.params["q"] == "user" and r.url.params["page_size"] == "2" for r in sent)


def test_list_modules_returns_one_page_with_its_cursor(server: Server, client: SpokeClient) -> None:
    # Given a listing with more pages
    server.on("GET", f"{BASE}/modules", _modules_page(["a", "b"], "next"))

    # When the user asks for one page
    page = client.list_modules(page_size=2)

    # Then they can resume it themselves
    assert [m.name for m in page.items] == ["a", "b"]
    assert page.has_more and page.next_cursor == "next" and page.total_items == 5


def test_iter_versions_stops_on_a_repeated_cursor(server: Server, client: SpokeClient) -> None:
    # Given a (buggy) server that hands back the same cursor forever
    server.on("GET", f"{BASE}/modules/user/versions", envelope(
        {"module": "user", "versions": [{"version": "v1.0.0", "file_count": 2}],
         "pagination": {"has_more": True, "next_cursor": "same"}}))

    # When the user iterates the versions
    versions = list(client.iter_versions("user"))

    # Then the iteration ends instead of looping forever
    assert [v.version for v in versions] == ["v1.0.0", "v1.0.0"]
    assert versions[0].module == "user" and versions[0].file_count == 2
