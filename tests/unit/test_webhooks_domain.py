"""Pure webhook rules: which addresses may be contacted, URLs, events, signatures, backoff, ids."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidWebhookUrl, UnknownEvent, ValidationFailed
from chalicelib.domain.webhooks import (
    METADATA_ADDRESSES,
    DeliveryPolicy,
    Webhook,
    address_refusal,
    delivery_body,
    delivery_headers,
    delivery_id,
    fan_out_salt,
    normalise_events,
    parse_url,
    signature,
    validate_secret,
)
from chalicelib.services.events import EVENT_TYPES

SHARED = "a shared (carrier-grade NAT) address (100.64.0.0/10)"
IETF_V4 = "an IETF protocol assignment address (192.0.0.0/24)"
IETF_V6 = "an IETF protocol assignment address (2001::/23)"
AS112 = "an AS112 DNS address"
METADATA = "a cloud metadata address"


@pytest.mark.parametrize("address, reason", [
    # loopback, private, shared
    ("127.0.0.1", "a loopback address"), ("127.8.9.10", "a loopback address"), ("::1", "a loopback address"),
    ("10.0.0.1", "a private address"), ("172.16.5.4", "a private address"), ("192.168.1.1", "a private address"),
    ("fd12::1", "a private address"), ("0.1.2.3", "a private address"),
    ("100.64.0.1", SHARED), ("100.127.255.254", SHARED),
    # deprecated IPv6 site-local, fec0::/10 from end to end
    ("fec0::", "a site-local address"), ("fec0::1", "a site-local address"),
    ("fec0:1234::5678", "a site-local address"),
    ("fed0::1", "a site-local address"), ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "a site-local address"),
    # link-local, multicast, unspecified, reserved
    ("169.254.1.1", "a link-local address"), ("fe80::1%eth0", "a link-local address"),
    ("224.0.0.1", "a multicast address"), ("239.255.255.250", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("0.0.0.0", "an unspecified address"), ("::", "an unspecified address"),
    ("240.0.0.1", "a reserved address"), ("255.255.255.255", "a reserved address"), ("100::1", "a reserved address"),
    ("5f00::1", "a reserved address"), ("::1.2.3.4", "a reserved address"),
    # cloud metadata endpoints
    ("169.254.169.254", METADATA), ("169.254.170.2", METADATA), ("fd00:ec2::254", METADATA),
    ("100.100.100.200", METADATA), ("192.0.0.192", METADATA),
    # special-purpose blocks Python 3.11's is_global calls global, and the documentation and benchmarking ranges
    ("192.0.0.8", IETF_V4), ("192.0.0.9", IETF_V4), ("192.0.0.171", IETF_V4),
    ("2001:3::1", IETF_V6), ("2001:20::1", IETF_V6), ("2001:1::1", IETF_V6),
    ("192.0.2.1", "a documentation address (192.0.2.0/24)"),
    ("198.51.100.7", "a documentation address (198.51.100.0/24)"),
    ("203.0.113.9", "a documentation address (203.0.113.0/24)"),
    ("2001:db8::1", "a documentation address (2001:db8::/32)"),
    ("3fff::1", "a documentation address (3fff::/20)"), ("3fff:fff::1", "a documentation address (3fff::/20)"),
    ("198.18.0.1", "a benchmarking address (198.18.0.0/15)"),
    ("198.19.255.1", "a benchmarking address (198.18.0.0/15)"),
    ("2001:2::1", "a benchmarking address (2001:2::/48)"),
    ("192.31.196.1", f"{AS112} (192.31.196.0/24)"), ("192.175.48.1", f"{AS112} (192.175.48.0/24)"),
    ("2620:4f:8000::1", f"{AS112} (2620:4f:8000::/48)"), ("192.52.193.1", "an AMT relay address (192.52.193.0/24)"),
    ("192.88.99.1", "a deprecated 6to4 relay address (192.88.99.0/24)"),
    ("64:ff9b:1::808:808", "a local-use NAT64 address (64:ff9b:1::/48)"),
    # IPv4 inside IPv6, judged by the IPv4 address it reaches
    ("::ffff:10.0.0.1", "an IPv4-mapped address of 10.0.0.1, a private address"),
    ("::ffff:127.0.0.1", "an IPv4-mapped address of 127.0.0.1, a loopback address"),
    ("2002:a00:1::1", "a 6to4 address of 10.0.0.1, a private address"),
    ("2002:a9fe:a9fe::", f"a 6to4 address of 169.254.169.254, {METADATA}"),
    ("2002:c000:201::1", "a 6to4 address of 192.0.2.1, a documentation address (192.0.2.0/24)"),
    ("64:ff9b::a9fe:a9fe", f"a NAT64 address of 169.254.169.254, {METADATA}"),
    ("64:ff9b::c0a8:101", "a NAT64 address of 192.168.1.1, a private address"),
    ("64:ff9b::6440:1", f"a NAT64 address of 100.64.0.1, {SHARED}"),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "a Teredo address of client 10.0.0.1, a private address"),
    ("2001:0:a00:1:8000:63bf:f7f7:f7f7", "a Teredo address via server 10.0.0.1, a private address"),
])
def test_addresses_that_must_not_be_contacted(address: str, reason: str) -> None:
    # Given an address a webhook's host resolves to
    # Then it is refused, saying why
    assert address_refusal(address, allow_loopback=False) == reason


@pytest.mark.parametrize("address", [
    "8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:81c::200e",
    # just outside the special-purpose blocks
    "100.63.255.255", "100.128.0.0", "192.0.1.255", "192.0.3.0", "198.17.255.255", "198.20.0.0", "2001:200::1",
    "3fff:1000::1",
    # public IPv4 inside IPv6
    "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808", "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
])
def test_public_addresses_may_be_contacted(address: str) -> None:
    assert address_refusal(address, allow_loopback=False) is None


def test_allowing_loopback_allows_nothing_else() -> None:
    # Given the local stage's configuration
    # Then loopback is reachable, and link-local, metadata, private, site-local and shared addresses are still refused
    for address in ("127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1"):
        assert address_refusal(address, True) is None, address
    for address in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "64:ff9b::a9fe:a9fe", "fe80::1",
                    "10.0.0.1", "0.0.0.0", "fec0::1", "100.64.0.1", "::ffff:169.254.169.254"):
        assert address_refusal(address, True) is not None, address


# The oracle: IANA's IPv4 and IPv6 special-purpose registries (RFC 6890 and later), IPv4 multicast and
# class E, and IPv6 global unicast (2000::/3) as the only space that is routed at all. Written from the
# registries, not from the code under test or from Python's flags.
IANA_V4 = [ipaddress.IPv4Network(block) for block in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")]
V4_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
V6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
IANA_V6_IN_GLOBAL_UNICAST = [ipaddress.IPv6Network(block) for block in (
    "2001::/23", "2001:db8::/32", "2620:4f:8000::/48", "3fff::/20")]  # 2002::/16 (6to4) carries IPv4
IANA_V6_OUTSIDE = [ipaddress.IPv6Network(block) for block in (
    "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "5f00::/16", "fc00::/7",
    "fe80::/10", "fec0::/10", "ff00::/8")]
MASK32 = 0xFFFFFFFF


def carried_ipv4(n: int) -> list[ipaddress.IPv4Address] | None:
    """IPv4 inside an IPv6 address (RFC 4291 mapped, RFC 3056 6to4, RFC 6052 NAT64, RFC 4380 Teredo)."""
    if n >> 32 == 0xFFFF:
        return [ipaddress.IPv4Address(n & MASK32)]
    if n >> 112 == 0x2002:
        return [ipaddress.IPv4Address((n >> 80) & MASK32)]
    if n >> 32 == 0x0064FF9B << 64:
        return [ipaddress.IPv4Address(n & MASK32)]
    if n >> 96 == 0x20010000:
        return [ipaddress.IPv4Address((n >> 64) & MASK32), ipaddress.IPv4Address(~n & MASK32)]
    return None


def routable(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> bool:
    if isinstance(ip, ipaddress.IPv4Address):
        return (allow_loopback and ip in V4_LOOPBACK) or not any(ip in block for block in IANA_V4)
    if allow_loopback and int(ip) == 1:
        return True
    carried = carried_ipv4(int(ip))
    if carried is not None:
        return all(routable(v4, allow_loopback) for v4 in carried)
    return ip in V6_GLOBAL_UNICAST and not any(ip in block for block in IANA_V6_IN_GLOBAL_UNICAST)


def inside(blocks: list[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from(blocks).flatmap(lambda net: st.integers(
        int(net.network_address), int(net.broadcast_address)).map(ipaddress.ip_address))


PUBLIC_V4 = [ipaddress.IPv4Network(b) for b in ("8.8.8.0/24", "100.0.0.0/9", "192.0.0.0/16", "198.0.0.0/11")]
v4_addresses = st.one_of(st.integers(0, MASK32).map(ipaddress.IPv4Address), inside(IANA_V4 + PUBLIC_V4))
v6_addresses = st.one_of(
    st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address),
    inside(IANA_V6_IN_GLOBAL_UNICAST + IANA_V6_OUTSIDE + [V6_GLOBAL_UNICAST, ipaddress.IPv6Network("2001::/16")]),
    st.builds(lambda v4: ipaddress.IPv6Address(0xFFFF << 32 | int(v4)), v4_addresses),
    st.builds(lambda v4, low: ipaddress.IPv6Address(0x2002 << 112 | int(v4) << 80 | low),
              v4_addresses, st.integers(0, 2**80 - 1)),
    st.builds(lambda v4: ipaddress.IPv6Address(0x0064FF9B << 96 | int(v4)), v4_addresses),
    st.builds(lambda server, port, client: ipaddress.IPv6Address(
        0x20010000 << 96 | int(server) << 64 | port << 32 | (~int(client) & MASK32)),
        v4_addresses, st.integers(0, MASK32), v4_addresses))


@settings(max_examples=3000, deadline=None)
@given(ip=st.one_of(v4_addresses, v6_addresses), allow_loopback=st.booleans())
def test_an_address_may_be_contacted_iff_it_is_globally_routable(
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> None:
    # Given any address, public, special-purpose, or IPv4 wrapped in IPv6
    # When it is checked
    reason = address_refusal(str(ip), allow_loopback)
    # Then it passes exactly when the registries say it is globally routable (loopback only if allowed)
    assert (reason is None) == routable(ip, allow_loopback), reason
    # And what passes is global by every one of Python's flags, judged on the IPv4 it carries if any
    judged = [ipaddress.IPv4Address(v4) for v4 in carried_ipv4(int(ip)) or []] if ip.version == 6 else []
    for address in judged or [ip]:
        if reason is None and not address.is_loopback:
            assert address.is_global and address not in METADATA_ADDRESSES
            assert not (address.is_private or address.is_reserved or address.is_multicast or address.is_link_local
                        or address.is_unspecified or getattr(address, "is_site_local", False))


def test_metadata_endpoints_are_refused_in_every_wrapping_and_configuration() -> None:
    for metadata in METADATA_ADDRESSES:
        forms = [metadata]
        if metadata.version == 4:
            v4 = int(metadata)
            forms += [ipaddress.IPv6Address(0xFFFF << 32 | v4), ipaddress.IPv6Address(0x2002 << 112 | v4 << 80),
                      ipaddress.IPv6Address(0x0064FF9B << 96 | v4)]
        for form in forms:
            for allow_loopback in (False, True):
                assert "metadata" in (address_refusal(str(form), allow_loopback) or ""), form


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
    body = b'{"id":"evt-1","delivery_id":"dlv-1"}'
    expected = hmac.new(b"k" * 16, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("k" * 16, 1700000000, body) == f"sha256={expected}"
    headers = delivery_headers("module.created", "dlv-1", "k" * 16, 1700000000, body)
    assert headers == {"Content-Type": "application/json", "User-Agent": "Spoke-Webhooks/1.0",
                       "X-Spoke-Event": "module.created", "X-Spoke-Delivery": "dlv-1",
                       "X-Spoke-Timestamp": "1700000000", "X-Spoke-Signature": f"sha256={expected}"}


EVENT = {"id": "evt-1", "event": "module.created", "created_at": "2025-01-01T00:00:00Z", "organization": "org-1",
         "data": {"module": "user", "note": "caf\u00e9 \"quoted\""}}
PAYLOAD = json.dumps(EVENT, separators=(",", ":"))


def test_the_body_carries_the_delivery_id_and_is_the_same_on_every_retry() -> None:
    # Given an event's stored payload and a delivery of it
    # When its body is built for one attempt, and again for a retry
    first, retry = delivery_body(PAYLOAD, "dlv-1"), delivery_body(PAYLOAD, "dlv-1")
    # Then it is the event plus the delivery id, byte for byte the same on both attempts
    assert json.loads(first) == {**EVENT, "delivery_id": "dlv-1"}
    assert first == retry and first.startswith(PAYLOAD[:-1].encode())
    # And another delivery (a redelivery, another webhook) of the same event differs only in its id
    other = json.loads(delivery_body(PAYLOAD, "dlv-2"))
    assert other == {**EVENT, "delivery_id": "dlv-2"}


def check(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """A receiver's check: the signature on the raw bytes, then the header against the signed delivery_id."""
    expected = signature(secret, int(headers["X-Spoke-Timestamp"]), body)
    return (hmac.compare_digest(expected, headers["X-Spoke-Signature"])
            and json.loads(body).get("delivery_id") == headers["X-Spoke-Delivery"])


def test_a_replay_under_a_new_delivery_header_no_longer_verifies() -> None:
    # Given a delivery as Spoke sends it
    now, secret = int(time.time()), "k" * 16
    body = delivery_body(PAYLOAD, "dlv-1")
    headers = delivery_headers("module.created", "dlv-1", secret, now, body)
    assert check(secret, headers, body)
    # When an attacker replays it under a fresh X-Spoke-Delivery, or rewrites the id in the body to match
    new_header = {**headers, "X-Spoke-Delivery": "dlv-9"}
    rewritten = body.replace(b'"delivery_id":"dlv-1"', b'"delivery_id":"dlv-9"')
    # Then the first no longer matches the signed id, and the second no longer matches the signature
    assert not check(secret, new_header, body)
    assert not check(secret, new_header, rewritten)


def test_backoff_follows_the_configured_delays_then_gives_up() -> None:
    policy = DeliveryPolicy(max_attempts=6, retry_delays=(1, 2, 4))
    assert [policy.retry_delay(n) for n in range(1, 7)] == [1, 2, 4, 4, 4, None]
    assert DeliveryPolicy(max_attempts=1).retry_delay(1) is None
    assert DeliveryPolicy(max_attempts=3, retry_delays=(5000,)).retry_delay(1) == 900


def test_delivery_ids_sort_by_time_and_fan_out_ids_are_stable() -> None:
    assert delivery_id(1_700_000_000_000, "f" * 40) < delivery_id(1_700_000_000_001, "0" * 40)
    assert fan_out_salt("evt-1", "whk-1") == fan_out_salt("evt-1", "whk-1") != fan_out_salt("evt-1", "whk-2")
