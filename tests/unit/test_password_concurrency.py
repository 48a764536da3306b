"""argon2 holds its memory cost (64 MiB by default) while it runs: at most `max_concurrent` hashes or
verifications run at once in a process, however many threads ask (16 concurrent logins once took the API
process from 275 to 1,300 MiB). Measured as peak concurrency inside the hasher, not as wall time."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.adapters.passwords import Argon2Passwords


class PeakCounter:
    """Wraps the real argon2 hasher and records how many of its calls run at the same moment."""

    def __init__(self, hasher: Any) -> None:
        self._hasher = hasher
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0

    def _tracked(self, call: Any, *args: Any) -> Any:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            time.sleep(0.02)  # widen the window in which overlapping calls would be seen
            return call(*args)
        finally:
            with self._lock:
                self.running -= 1

    def hash(self, password: str) -> str:
        return self._tracked(self._hasher.hash, password)

    def verify(self, password_hash: str, password: str) -> bool:
        return self._tracked(self._hasher.verify, password_hash, password)


def _sixteen_at_once(passwords: Argon2Passwords, stored: str) -> list[bool]:
    start = threading.Barrier(16)

    def login(n: int) -> bool:
        start.wait()
        return passwords.verify(stored, "correct-horse-battery-staple" if n % 2 else f"wrong guess {n}")

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(login, range(16)))


def test_sixteen_concurrent_logins_run_argon2_at_most_twice_at_once() -> None:
    # Given the hasher as the API builds it (2 at once), with its argon2 calls observed
    passwords = Argon2Passwords(time_cost=1, memory_kib=8192)
    stored = passwords.hash("correct-horse-battery-staple")
    observed = PeakCounter(passwords._hasher)
    passwords._hasher = observed
    # When 16 logins verify at the same moment
    answers = _sixteen_at_once(passwords, stored)
    # Then every one got its right answer, and never more than 2 ran argon2 together
    assert answers == [bool(n % 2) for n in range(16)]
    assert observed.peak == 2


def test_without_the_bound_they_would_all_run_together() -> None:
    # The observation itself is able to see overlap: with 16 slots, far more than 2 overlap
    passwords = Argon2Passwords(time_cost=1, memory_kib=8192, max_concurrent=16)
    stored = passwords.hash("correct-horse-battery-staple")
    observed = PeakCounter(passwords._hasher)
    passwords._hasher = observed
    _sixteen_at_once(passwords, stored)
    assert observed.peak > 2


def test_a_stored_value_that_is_no_argon2_hash_never_verifies() -> None:
    # An account created by SSO stores "!sso": no password, not even that text, signs in as it
    passwords = Argon2Passwords(time_cost=1, memory_kib=8192)
    for stored, attempt in (("!sso", "!sso"), ("!sso", "anything at all"), ("plain-text", "plain-text"), ("", "")):
        assert passwords.verify(stored, attempt) is False
