"""Webhook settings from the environment: the retry schedule, the loopback switch, the bounds."""
from __future__ import annotations

import pytest

from chalicelib.config import Settings

BASE = {"table_name": "t", "bucket_name": "b", "compile_queue_name": "c", "events_queue_name": "e",
        "jwt_secret": "x" * 32}


def test_defaults_are_production_safe() -> None:
    settings = Settings(**BASE)
    assert settings.webhook_allow_loopback is False and settings.webhook_timeout_seconds == 5
    assert settings.webhook_retry_delays == (30, 120, 480, 900) and settings.webhook_max_attempts == 5


def test_the_local_stage_values_parse() -> None:
    # Given the variables the local stack sets
    settings = Settings(**BASE, webhook_allow_loopback="true", webhook_retry_delays="1,2,4",
                        webhook_timeout_seconds="3")
    # Then they are typed
    assert settings.webhook_allow_loopback is True and settings.webhook_retry_delays == (1, 2, 4)
    assert settings.webhook_timeout_seconds == 3.0


@pytest.mark.parametrize("field, value", [("webhook_retry_delays", "1,901"), ("webhook_retry_delays", ""),
                                          ("webhook_retry_delays", "a,b"), ("webhook_timeout_seconds", "30"),
                                          ("webhook_max_attempts", "0"), ("webhook_allow_loopback", "maybe")])
def test_out_of_range_values_are_refused_at_start(field: str, value: str) -> None:
    with pytest.raises(ValueError):
        Settings(**BASE, **{field: value})


@pytest.mark.parametrize("field,value", [("token_ttl_seconds", "0"), ("protoc_timeout_seconds", "29"),
                                         ("cache_seconds", "-1"), ("archive_max_entries", "1.5"),
                                         ("compile_lease_seconds", "abc"), ("webhook_allow_loopback", "maybe")])
def test_settings_refuse_values_out_of_their_bounds(field: str, value: str) -> None:
    # Given an environment value outside a setting's documented range, Then the process refuses to start
    with pytest.raises(ValueError, match=f"SPOKE_{field.upper()}"):
        Settings(**BASE, **{field: value})


def test_settings_coerce_environment_text() -> None:
    settings = Settings(**BASE, protoc_memory_mib="512", cache_seconds="0", webhook_allow_loopback="1")
    assert (settings.protoc_memory_mib, settings.cache_seconds, settings.webhook_allow_loopback) == (512, 0.0, True)
