"""The in-container cache's bounds: entries expire and the least recently used go first (no sleeping:
a fake clock moves time)."""
from __future__ import annotations

from chalicelib.adapters.cache import TtlCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_served_until_its_bound_then_read_again() -> None:
    # Given a cache with a 5 s bound holding one entry
    clock = FakeClock()
    cache: TtlCache[str, str] = TtlCache(5, 10, clock)
    cache.put("org-1", "Acme")
    # When less than the bound has passed, Then it is served
    clock.now += 4.9
    assert cache.get("org-1") == "Acme"
    # When the bound has passed, Then it is gone
    clock.now += 0.1
    assert cache.get("org-1") is None and len(cache) == 0


def test_the_least_recently_used_entry_goes_first_when_full() -> None:
    # Given a full cache of two entries, the first read since
    cache: TtlCache[str, int] = TtlCache(60, 2, FakeClock())
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    # When a third arrives
    cache.put("c", 3)
    # Then the least recently used one was dropped
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_zero_seconds_turns_it_off_and_none_is_never_cached() -> None:
    # Given a disabled cache and an enabled one
    off: TtlCache[str, bool] = TtlCache(0, 10, FakeClock())
    on: TtlCache[str, bool | None] = TtlCache(5, 10, FakeClock())
    # When values are put
    off.put("token", True)
    on.put("missing", None)
    # Then nothing is remembered
    assert off.get("token") is None and not off.enabled
    assert on.get("missing") is None and len(on) == 0


def test_invalidate_forgets_only_the_named_entries() -> None:
    # Given two memberships of two organizations
    cache: TtlCache[tuple[str, ...], str] = TtlCache(5, 10, FakeClock())
    cache.put(("member", "org-1", "user-1"), "admin")
    cache.put(("member", "org-2", "user-1"), "viewer")
    # When one is invalidated
    cache.invalidate(("member", "org-1", "user-1"))
    # Then only that one is forgotten
    assert cache.get(("member", "org-1", "user-1")) is None
    assert cache.get(("member", "org-2", "user-1")) == "viewer"
