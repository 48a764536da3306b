"""Merging compile statuses: the one rule the store and its test fakes share.

A job's statuses replace only the languages that job still owns and has not finished (the merge
guard), so a duplicate or late message can never overwrite a newer job's result.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

Statuses = dict[str, dict[str, Any]]
StatusChange = Statuses | Callable[[Statuses], Statuses]
FINISHED = ("succeeded", "failed")


def merge_statuses(current: Mapping[str, dict[str, Any]], change: StatusChange,
                   unless_job_finished: str | None = None) -> Statuses:
    """`current` with `change` applied (a map, or a function of the current map)."""
    merged = dict(current)
    for language, status in (change(dict(current)) if callable(change) else change).items():
        previous = current.get(language, {})
        if unless_job_finished and (previous.get("job") != unless_job_finished
                                    or previous.get("status") in FINISHED):
            continue
        merged[language] = status
    return merged


def compiled_languages(statuses: Mapping[str, dict[str, Any]]) -> list[str]:
    """The languages compiled with the default protoc release (other releases' entries are in `compilation`)."""
    return sorted(language for language, status in statuses.items()
                  if status.get("status") == "succeeded" and "@" not in language)


def abandoned_as_failed(statuses: Mapping[str, dict[str, Any]], now: datetime, grace_seconds: float,
                        reason: str) -> Statuses:
    """Statuses as readers see them: a `running` claim whose lease ran out more than `grace_seconds`
    ago has no receive left to resume it (a retry would have claimed it by then), so it is failed."""
    shown = dict(statuses)
    for language, status in statuses.items():
        expires = status.get("lease_expires_at")
        if status.get("status") != "running" or not expires:
            continue
        expired_at = datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
        if (now - expired_at).total_seconds() > grace_seconds:
            shown[language] = {**status, "status": "failed", "error": reason}
    return shown


def status_name(language: str, protoc_release: str | None = None) -> str:
    """The `compilation` entry of a language compiled with a protoc release: the default release keeps
    the bare language name, so versions compiled before releases existed stay served as they are.
    (The ZIPs are content-addressed under artifacts/: two releases' ZIPs never share an S3 key.)"""
    return f"{language}@{protoc_release}" if protoc_release else language


def status_language(name: str) -> tuple[str, str | None]:
    """(language, protoc release or None) of a `compilation` entry."""
    language, _, release = name.partition("@")
    return language, release or None
