"""Pure webhook rules: which addresses may be contacted, URLs, events, signatures, backoff, ids."""
from __future__ import annotations

import hashlib
import hmac

import pytest

from chalicelib.domain.errors import InvalidWebhookUrl, UnknownEvent, ValidationFailed
from chalicelib.domain.webhooks import (DeliveryPolicy, Webhook, address_refusal, delivery_headers, delivery_id,
                                        fan_out_salt, normalise_events, parse_url, signature, validate_secret)
from chalicelib.services.events import EVENT_TYPES


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "a loopback address"), ("::1", "a loopback address"),
    ("10.0.0.1", "a private address"), ("172.16.5.4", "a private address"), ("192.168.1.1", "a private address"),
    ("fd12::1", "a private address"), ("100.64.0.1", "not a publicly routable address"),
    ("169.254.169.254", "a cloud metadata address"), ("fd00:ec2::254", "a cloud metadata address"),
    ("169.254.1.1", "a link-local address"), ("fe80::1%eth0", "a link-local address"),
    ("224.0.0.1", "a multicast address"), ("ff02::1", "a multicast address"),
    ("0.0.0.0", "an unspecified address"), ("::", "an unspecified address"),
    ("240.0.0.1", "a private address"), ("::ffff:10.0.0.1", "a private address"),
    ("::ffff:127.0.0.1", "a loopback address"), ("2002:a00:1::1", "a private address"),
    ("64:ff9b::a9fe:a9fe", "a cloud metadata address"), ("192.0.0.192", "a cloud metadata address"),
])
def test_addresses_that_must_not_be_contacted(address: str, reason: str) -> None:
    assert address_refusal(address, allow_loopback=False) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_may_be_contacted(address: str) -> None:
    assert address_refusal(address, allow_loopback=False) is None


def test_allowing_loopback_allows_nothing_else() -> None:
    # Given the local stage's configuration
    # Then loopback is reachable, and link-local, metadata and private addresses are still refused
    assert address_refusal("127.0.0.1", True) is None and address_refusal("::1", True) is None
    assert address_refusal("::ffff:127.0.0.1", True) is None
    for address in ("169.254.169.254", "169.254.170.2", "fe80::1", "10.0.0.1", "0.0.0.0"):
        assert address_refusal(address, True) is not None, address


@pytest.mark.parametrize("url, reason", [
    ("file:///etc/passwd", "only http and https"), ("ftp://example.com/x", "only http and https"),
    ("gopher://example.com", "only http and https"), ("http://", "no host"),
    ("https://user:pass@example.com/", "credentials"), ("http://example.com:99999/", "not a valid URL"),
    ("http://exa mple.com/", "without spaces"), ("https://example.com/" + "a" * 2048, "at most 2048"),
])
def test_urls_refused_before_any_lookup(url: str, reason: str) -> None:
    with pytest.raises(InvalidWebhookUrl, match=reason):
        parse_url(url)


def test_a_missing_url_is_a_validation_error() -> None:
    for value in (None, "", 42):
        with pytest.raises(ValidationFailed):
            parse_url(value)


def test_targets_keep_path_query_port_and_host_header() -> None:
    target = parse_url("https://Hooks.Example.com:8443/in/spoke?team=a#ignored")
    assert (target.scheme, target.host, target.port, target.request_path) == (
        "https", "hooks.example.com", 8443, "/in/spoke?team=a")
    assert target.host_header == "hooks.example.com:8443"
    assert parse_url("http://example.com").request_path == "/" and parse_url("http://example.com").port == 80
    assert parse_url("http://[2606:4700::1]:8080/").host_header == "[2606:4700::1]:8080"


def test_events_are_known_names_or_the_wildcard() -> None:
    assert normalise_events(["version.published", "module.created", "module.created"], EVENT_TYPES) == (
        "module.created", "version.published")
    assert normalise_events(["*", "module.created"], EVENT_TYPES) == ("*",)
    with pytest.raises(UnknownEvent) as refused:
        normalise_events(["module.created", "module.deleted"], EVENT_TYPES)
    assert refused.value.details == {"unknown": ["module.deleted"], "valid": ["*", *EVENT_TYPES]}
    assert "version.compiled" in refused.value.message
    for bad in ([], "module.created", [1], None):
        with pytest.raises(ValidationFailed):
            normalise_events(bad, EVENT_TYPES)


def test_subscriptions() -> None:
    hook = Webhook(id="w", org_id="o", url="https://x", events=("module.created",), secret="s" * 16,
                   created_at="t", updated_at="t")
    assert hook.subscribes("module.created") and not hook.subscribes("version.published")
    assert hook.model_copy(update={"events": ("*",)}).subscribes("version.compiled")
    assert "s" * 16 not in repr(hook)


def test_secrets_are_long_enough() -> None:
    assert validate_secret("x" * 16) == "x" * 16
    for bad in ("short", "x" * 257, None, 12):
        with pytest.raises(ValidationFailed):
            validate_secret(bad)


def test_the_signature_covers_the_timestamp_and_the_raw_body() -> None:
    body = b'{"id":"evt-1"}'
    expected = hmac.new(b"k" * 16, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("k" * 16, 1700000000, body) == f"sha256={expected}"
    headers = delivery_headers("module.created", "dlv-1", "k" * 16, 1700000000, body)
    assert headers == {"Content-Type": "application/json", "User-Agent": "Spoke-Webhooks/1.0",
                       "X-Spoke-Event": "module.created", "X-Spoke-Delivery": "dlv-1",
                       "X-Spoke-Timestamp": "1700000000", "X-Spoke-Signature": f"sha256={expected}"}


def test_backoff_follows_the_configured_delays_then_gives_up() -> None:
    policy = DeliveryPolicy(max_attempts=6, retry_delays=(1, 2, 4))
    assert [policy.retry_delay(n) for n in range(1, 7)] == [1, 2, 4, 4, 4, None]
    assert DeliveryPolicy(max_attempts=1).retry_delay(1) is None
    assert DeliveryPolicy(max_attempts=3, retry_delays=(5000,)).retry_delay(1) == 900


def test_delivery_ids_sort_by_time_and_fan_out_ids_are_stable() -> None:
    assert delivery_id(1_700_000_000_000, "f" * 40) < delivery_id(1_700_000_000_001, "0" * 40)
    assert fan_out_salt("evt-1", "whk-1") == fan_out_salt("evt-1", "whk-1") != fan_out_salt("evt-1", "whk-2")
