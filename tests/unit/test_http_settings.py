"""The HTTP hygiene settings: CORS origins, operator networks and token, checked when the process starts."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.api.caching import add_vary
from chalicelib.api.cors import allowed_origin
from chalicelib.config import Settings

REQUIRED = {"table_name": "t", "bucket_name": "b", "compile_queue_name": "c", "events_queue_name": "e",
            "jwt_secret": "s" * 32}


def settings(**values: Any) -> Settings:
    return Settings(**REQUIRED, **values)


def test_by_default_no_origin_is_allowed_and_nobody_is_an_operator() -> None:
    defaults = settings()
    assert defaults.cors_allowed_origins == () and defaults.metrics_allowed_cidrs == ()
    assert defaults.metrics_token is None and defaults.metrics_token_parameter is None
    assert allowed_origin("https://ui.example.com", defaults.cors_allowed_origins) is None


def test_origins_are_a_comma_separated_allow_list_of_exact_origins() -> None:
    allowed = settings(cors_allowed_origins=" https://ui.example.com, http://localhost:3000 ,").cors_allowed_origins
    assert allowed == ("https://ui.example.com", "http://localhost:3000")
    assert allowed_origin("https://ui.example.com", allowed) == "https://ui.example.com"
    assert allowed_origin("http://localhost:3000", allowed) == "http://localhost:3000"
    for other in ("https://ui.example.com.evil.io", "http://ui.example.com", "https://example.com",
                  "http://localhost:3001", "null", "", None):
        assert allowed_origin(other, allowed) is None


def test_a_star_allows_any_origin_without_echoing_it() -> None:
    allowed = settings(cors_allowed_origins="*").cors_allowed_origins
    assert allowed_origin("https://anything.example", allowed) == "*"
    assert allowed_origin(None, allowed) is None


@pytest.mark.parametrize("bad", ["https://ui.example.com/", "https://ui.example.com/app", "ui.example.com",
                                 "ftp://ui.example.com", "*,https://ui.example.com", "https://user@ui.example.com",
                                 "https://ui.example.com:99999"])
def test_anything_but_an_origin_is_refused_at_start(bad: str) -> None:
    with pytest.raises(ValueError, match="SPOKE_CORS_ALLOWED_ORIGINS"):
        settings(cors_allowed_origins=bad)


def test_operator_networks_are_cidrs() -> None:
    assert settings(metrics_allowed_cidrs="10.0.0.0/8, 203.0.113.7,2001:db8::/32").metrics_allowed_cidrs == (
        "10.0.0.0/8", "203.0.113.7/32", "2001:db8::/32")
    with pytest.raises(ValueError, match="SPOKE_METRICS_ALLOWED_CIDRS"):
        settings(metrics_allowed_cidrs="10.0.0.0/33")
    with pytest.raises(ValueError, match="SPOKE_METRICS_ALLOWED_CIDRS"):
        settings(metrics_allowed_cidrs="office")


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(ValueError, match="SPOKE_METRICS_TOKEN must be at least 32 bytes"):
        settings(metrics_token="short")
    assert "metrics_token=" not in repr(settings(metrics_token="m" * 32)).replace("metrics_token_parameter=", "")


def test_the_preflight_max_age_is_bounded() -> None:
    assert settings(cors_max_age_seconds="7200").cors_max_age_seconds == 7200
    with pytest.raises(ValueError, match="SPOKE_CORS_MAX_AGE_SECONDS"):
        settings(cors_max_age_seconds="100000")


def test_vary_merges_each_name_once_whatever_its_spelling() -> None:
    headers = {"vary": "Accept-Encoding, origin"}
    add_vary(headers, "Authorization", "Origin", "X-Organization-ID")
    assert headers == {"vary": "Accept-Encoding, origin, Authorization, X-Organization-ID"}
    fresh: dict[str, str] = {}
    add_vary(fresh, "Authorization")
    assert fresh == {"Vary": "Authorization"}
