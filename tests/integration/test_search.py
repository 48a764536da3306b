"""`GET /modules?q=`: name prefixes and whole description words, read from the index in proportion
to what a page returns, with totals and signed cursors."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.adapters import aws
from chalicelib.domain.search import MAX_INDEXED_WORDS
from tests.integration.api import Api


class ReadCounter:
    """Items DynamoDB reads for Query (ScannedCount, before filters) and the calls made."""

    def __init__(self) -> None:
        self.scanned = 0
        self.calls: list[str] = []

    def after_query(self, parsed: dict[str, Any], **_: Any) -> None:
        self.scanned += parsed.get("ScannedCount", 0)

    def before_call(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def reset(self) -> None:
        self.scanned, self.calls = 0, []


@pytest.fixture
def reads(aws_env: dict[str, str]) -> Iterator[ReadCounter]:
    counter = ReadCounter()
    aws.session().events.register("after-call.dynamodb.Query", counter.after_query)
    aws.session().events.register("before-call.*.*", counter.before_call)
    yield counter


@pytest.fixture
def token(api: Api) -> str:
    return api.signed_up()[0]


def names(api: Api, query: str, **kw: Any) -> list[str]:
    reply = api.get(f"/modules?{query}", **kw)
    assert reply.status == 200, reply.body
    return [m["name"] for m in reply.data["modules"]]


def test_q_matches_a_name_prefix_case_insensitively(api: Api, token: str) -> None:
    # Given modules whose names share a prefix, and one that contains it elsewhere
    for name in ("auth", "auth-api", "authz", "billing", "oauth"):
        api.module(token, name)
    # When searching by the prefix, in any case
    # Then names that start with it match, and a name that merely contains it does not
    assert names(api, "q=auth") == ["auth", "auth-api", "authz"]
    assert names(api, "q=AUTH-") == ["auth-api"]
    assert names(api, "q=uth") == []


def test_q_matches_whole_words_of_the_description(api: Api, token: str) -> None:
    # Given descriptions with related but different words
    api.module(token, "ledger", description="Handles Payments and refunds.")
    api.module(token, "gateway", description="Payment gateway for cards")
    api.module(token, "users", description="User accounts")
    # When searching words
    # Then whole words match in any case, every word of q must be present, and substrings do not match
    assert names(api, "q=payments") == ["ledger"]
    assert names(api, "q=PAYMENT") == ["gateway"]
    assert names(api, "q=refunds%20payments") == ["ledger"]
    assert names(api, "q=payment%20refunds") == []
    assert names(api, "q=ayment") == []
    assert names(api, "q=user") == ["users"]  # the name prefix; "accounts" is not "user"


def test_name_and_word_matches_merge_in_name_order_across_cursor_pages(api: Api, token: str) -> None:
    # Given modules found by the prefix "pay" and others by the word "pay", before, inside and after it
    for name, description in (("alpha", "pay per use"), ("pay-a", ""), ("pay-b", "we pay"), ("payroll", ""),
                              ("qux", "Pay later"), ("zeta", "pay"), ("other", "payday")):
        api.module(token, name, description=description)
    expected = ["alpha", "pay-a", "pay-b", "payroll", "qux", "zeta"]
    # When walking the results one per page with the cursor
    seen, cursor, totals = [], None, set()
    while True:
        page = api.get("/modules?q=pay&page_size=1" + (f"&cursor={cursor}" if cursor else "")).data
        seen += [m["name"] for m in page["modules"]]
        totals.add(page["pagination"]["total_items"])
        cursor = page["pagination"]["next_cursor"]
        if not cursor:
            break
    # Then every match comes once, in name order, with the same total on every page
    assert seen == expected and totals == {6}
    # And page numbers reach the same results
    second = api.get("/modules?q=pay&page=2&page_size=2").data
    assert [m["name"] for m in second["modules"]] == ["pay-b", "payroll"]
    assert second["pagination"] | {"next_cursor": None} == {
        "page": 2, "page_size": 2, "total_pages": 3, "total_items": 6, "has_more": True, "next_cursor": None}
    # And full module rows come back for word matches too
    first = api.get("/modules?q=pay&page_size=1").data["modules"][0]
    assert first["name"] == "alpha" and first["description"] == "pay per use" and first["version_count"] == 0


def test_patch_reindexes_the_description(api: Api, token: str) -> None:
    # Given a module found by a word of its description
    api.module(token, "orders", description="Order intake")
    assert names(api, "q=intake") == ["orders"]
    # When its description changes
    assert api.patch("/modules/orders", {"description": "Order fulfilment"}, token=token).status == 200
    # Then the old word no longer finds it and the new one does
    assert names(api, "q=intake") == []
    assert names(api, "q=fulfilment") == ["orders"]
    # And a PATCH of other fields keeps the index
    policy = {"compatibility": {"mode": "NONE"}}
    assert api.patch("/modules/orders", policy, token=token).status == 200
    assert names(api, "q=fulfilment%20order") == ["orders"]


def test_only_the_first_words_of_a_long_description_are_indexed(api: Api, token: str) -> None:
    # Given a description of more distinct words than the index takes
    api.module(token, "wordy", description=" ".join(f"w{i}" for i in range(MAX_INDEXED_WORDS + 8)))
    # Then the first MAX_INDEXED_WORDS find it, later ones do not (a documented limit)
    assert names(api, "q=w0") == ["wordy"]
    assert names(api, f"q=w{MAX_INDEXED_WORDS - 1}") == ["wordy"]
    assert names(api, f"q=w{MAX_INDEXED_WORDS}") == []


def test_search_stays_in_its_organization(api: Api, token: str) -> None:
    # Given the same word in the default organization and in a private one
    api.module(token, "public-docs", description="shared glossary")
    other, _ = api.signed_up("owner@private.test")
    assert api.post("/organizations", {"name": "Private", "slug": "private"}, token=other).status == 201
    api.module(other, "secret-docs", org="private", description="shared glossary")
    # Then each organization's search finds only its own modules
    assert names(api, "q=glossary") == ["public-docs"]
    assert names(api, "q=glossary", token=other, org="private") == ["secret-docs"]
    assert names(api, "q=glossary&org=private", token=other) == ["secret-docs"]


def test_search_reads_in_proportion_to_its_matches_not_the_organization(
        reads: ReadCounter, api: Api, token: str) -> None:  # `reads` first: hooks precede the first client
    # Given 30 modules of which two mention "ledger" and one starts with "inv"
    for i in range(27):
        api.module(token, f"mod-{i:02d}", description=f"misc module number {i}")
    api.module(token, "billing", description="General ledger")
    api.module(token, "accounts", description="Ledger accounts")
    api.module(token, "invoices", description="Invoices")
    # When searching by word, by prefix and by a word that matches nothing
    results = {}
    for query in ("ledger", "inv", "nothing-here"):
        reads.reset()
        results[query] = (names(api, f"q={query}"), reads.scanned, list(reads.calls))
    # Then each reads only its matches' items (never the partition of 30), in at most 3 calls
    assert results["ledger"][:2] == (["accounts", "billing"], 2)
    assert results["inv"][:2] == (["invoices"], 1)
    assert results["nothing-here"][:2] == ([], 0)
    # (besides the rate limit's counter: one UpdateItem per request, see test_rate_limits.py)
    assert all(calls.count("UpdateItem") == 1 for _, _, calls in results.values())
    assert all(len(calls) - 1 <= 3 and "Scan" not in calls for _, _, calls in results.values())


def test_the_total_is_counted_when_a_page_does_not_reach_the_end(api: Api, token: str) -> None:
    # Given five modules found by prefix, two of them by word as well, and one by word only
    for i in range(5):
        api.module(token, f"svc-{i}", description="svc core" if i < 2 else "")
    api.module(token, "zz", description="svc")
    # When the first page holds two
    page = api.get("/modules?q=svc&page_size=2").data
    # Then the total counts each match once
    assert [m["name"] for m in page["modules"]] == ["svc-0", "svc-1"]
    assert page["pagination"]["total_items"] == 6 and page["pagination"]["has_more"] is True
    # And a cursor of another q is refused
    reused = api.get(f"/modules?q=other&cursor={page['pagination']['next_cursor']}")
    assert (reused.status, reused.code) == (400, "INVALID_CURSOR")


def test_queries_that_can_match_nothing_or_are_too_long(api: Api, token: str) -> None:
    # Given a module
    api.module(token, "user", description="The user service")
    # Then stop words and symbols alone find nothing, a blank q lists everything, bounds are 400s
    assert names(api, "q=%2B%2B") == []
    assert names(api, "q=%20%20") == ["user"]
    too_many = api.get("/modules?q=" + "%20".join(f"w{i}" for i in range(9)))
    assert (too_many.status, too_many.code) == (400, "VALIDATION_ERROR")
    too_long = api.get("/modules?q=" + "x" * 101)
    assert (too_long.status, too_long.code) == (400, "VALIDATION_ERROR")
