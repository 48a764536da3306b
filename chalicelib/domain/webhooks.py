"""Webhooks, pure: subscriptions, deliveries, target URLs, address vetting, signatures, backoff.

Nothing here does I/O: the adapters resolve names and send requests, and ask this module whether
an address may be contacted, so registration and delivery apply one and the same rule.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.errors import InvalidWebhookUrl, UnknownEvent, ValidationFailed

ALL_EVENTS = "*"
USER_AGENT = "Spoke-Webhooks/1.0"
MAX_URL_LENGTH = 2048
MAX_DELAY_SECONDS = 900  # the SQS DelaySeconds ceiling
SECRET_RULE = "16-256 characters (e.g. `openssl rand -hex 32`)"
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})

# Instance metadata endpoints: refused always, whatever else the configuration allows.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.170.23", "fd00:ec2::254", "fd00:ec2::23",
    "100.100.100.200", "192.0.0.192"))

# IANA special-purpose blocks (the RFC 6890 registries) that must be refused though Python 3.11's
# `is_global` calls some of them global (most of 192.0.0.0/24, AS112, AMT, 192.88.99.0/24, 3fff::/20;
# later patch releases parts of 2001::/23 too). The others are listed to name the refusal.
_SPECIAL_PURPOSE = tuple((ipaddress.ip_network(block), kind) for block, kind in (
    ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
    ("192.0.0.0/24", "an IETF protocol assignment address"),
    ("192.0.2.0/24", "a documentation address"), ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"), ("198.18.0.0/15", "a benchmarking address"),
    ("192.31.196.0/24", "an AS112 DNS address"), ("192.175.48.0/24", "an AS112 DNS address"),
    ("192.52.193.0/24", "an AMT relay address"), ("192.88.99.0/24", "a deprecated 6to4 relay address"),
    ("2001:2::/48", "a benchmarking address"), ("2001::/23", "an IETF protocol assignment address"),
    ("2001:db8::/32", "a documentation address"), ("3fff::/20", "a documentation address"),
    ("2620:4f:8000::/48", "an AS112 DNS address"),
    # Local-use NAT64 (RFC 8215), refused rather than unwrapped: where its IPv4 address sits depends on
    # the local translator's prefix length (RFC 6052), so no reading of it can be trusted.
    ("64:ff9b:1::/48", "a local-use NAT64 address"),
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class _Entity(BaseModel):
    model_config = ConfigDict(frozen=True)


class Webhook(_Entity):
    id: str
    org_id: str
    url: str
    events: tuple[str, ...]
    secret: str = Field(repr=False)
    active: bool = True
    created_at: str
    updated_at: str

    def subscribes(self, event: str) -> bool:
        return ALL_EVENTS in self.events or event in self.events


class Delivery(_Entity):
    """One event for one webhook; its id is the X-Spoke-Delivery header of every attempt."""

    id: str
    org_id: str
    webhook_id: str
    event: str
    event_id: str
    status: str = "queued"  # queued, retrying, succeeded, failed, cancelled
    attempts: int = 0
    created_at: str
    updated_at: str
    last_status_code: int | None = None
    duration_ms: int | None = None
    last_error: str | None = None
    next_retry_at: str | None = None
    redelivery_of: str | None = None
    history: tuple[dict[str, Any], ...] = ()
    payload: str = Field(default="", repr=False)  # the event's JSON; every attempt sends delivery_body(payload, id)


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout_seconds: float = 5.0
    max_attempts: int = 5
    retry_delays: tuple[int, ...] = (30, 120, 480, 900)
    allow_loopback: bool = False
    history_days: int = 30
    max_per_org: int = 20

    def retry_delay(self, failed_attempt: int) -> int | None:
        """Seconds before the next attempt, or None when `failed_attempt` was the last one allowed."""
        if failed_attempt >= self.max_attempts or not self.retry_delays:
            return None
        return min(self.retry_delays[min(failed_attempt, len(self.retry_delays)) - 1], MAX_DELAY_SECONDS)


@dataclass(frozen=True)
class Target:
    """Where a URL points, split the way a pinned connection needs it."""

    scheme: str
    host: str
    port: int
    request_path: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == (443 if self.scheme == "https" else 80) else f"{host}:{self.port}"


def _bad_url(url: Any, reason: str) -> InvalidWebhookUrl:
    return InvalidWebhookUrl(f"Webhook URL refused: {reason}", details={"url": url, "reason": reason})


def parse_url(url: Any) -> Target:
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed("url is required", validation_errors=[
            {"field": "url", "code": "REQUIRED", "message": "an http(s) URL"}])
    if len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        raise _bad_url(url, f"at most {MAX_URL_LENGTH} characters, without spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _bad_url(url, "not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise _bad_url(url, "only http and https URLs are allowed")
    if not parts.hostname:
        raise _bad_url(url, "the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise _bad_url(url, "credentials in the URL are not allowed: authenticate with the signature")
    try:
        host = parts.hostname.encode("idna").decode("ascii") if not _is_ip(parts.hostname) else parts.hostname
    except UnicodeError:
        raise _bad_url(url, "the host name is not valid") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def address_refusal(address: str, allow_loopback: bool) -> str | None:
    """Why `address` must not be contacted, or None if it may be: one rule, globally routable unicast only.

    An address passes if `is_global` holds, no special flag of `ipaddress` is set and it lies in no IANA
    special-purpose block. IPv6 that carries IPv4 (mapped, 6to4, NAT64, Teredo) is judged by that IPv4,
    since that is where the packets go. Loopback passes only when allowed; link-local and metadata never.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    carried = _embedded_ipv4(ip)
    if not carried:
        return _refusal(ip, allow_loopback)
    for form, embedded in carried:
        reason = _refusal(embedded, allow_loopback)
        if reason:
            return f"{form} {embedded}, {reason}"
    return None


def _refusal(ip: IPAddress, allow_loopback: bool) -> str | None:
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    site_local = isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local
    for kind, flag in (("an unspecified", ip.is_unspecified), ("a link-local", ip.is_link_local),
                       ("a multicast", ip.is_multicast), ("a site-local", site_local)):
        if flag:
            return f"{kind} address"
    for block, kind in _SPECIAL_PURPOSE:
        if ip in block:
            return f"{kind} ({block})"
    for kind, flag in (("a reserved", ip.is_reserved), ("a private", ip.is_private)):
        if flag:
            return f"{kind} address"
    return None if ip.is_global else "not a globally routable address"


def _embedded_ipv4(ip: IPAddress) -> tuple[tuple[str, ipaddress.IPv4Address], ...]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, NAT64, Teredo's server and client)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return ()
    if ip.ipv4_mapped is not None:
        return (("an IPv4-mapped address of", ip.ipv4_mapped),)
    if ip.sixtofour is not None:
        return (("a 6to4 address of", ip.sixtofour),)
    if ip in _NAT64:
        return (("a NAT64 address of", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)),)
    if ip.teredo is not None:
        server, client = ip.teredo
        return (("a Teredo address via server", server), ("a Teredo address of client", client))
    return ()


def normalise_events(value: Any, known: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(e, str) for e in value):
        raise ValidationFailed("events must be a non-empty list of event names", validation_errors=[
            {"field": "events", "code": "INVALID_TYPE", "message": f"a list of: {', '.join((ALL_EVENTS, *known))}"}])
    unknown = sorted({e for e in value if e != ALL_EVENTS and e not in known})
    if unknown:
        valid = [ALL_EVENTS, *known]
        raise UnknownEvent(f"Unknown event(s): {', '.join(unknown)}. Valid events: {', '.join(valid)}",
                           details={"unknown": unknown, "valid": valid})
    return (ALL_EVENTS,) if ALL_EVENTS in value else tuple(e for e in known if e in value)


def validate_secret(value: Any) -> str:
    if not isinstance(value, str) or not 16 <= len(value) <= 256:
        raise ValidationFailed(f"secret must be {SECRET_RULE}", validation_errors=[
            {"field": "secret", "code": "INVALID_LENGTH", "message": SECRET_RULE}])
    return value


def delivery_body(payload: str, delivery_id: str) -> bytes:
    """The bytes every attempt POSTs: the event with `delivery_id` inside, so the signature covers it.

    Receivers deduplicate on X-Spoke-Delivery, which no signature covers; the same id inside the signed
    body lets them refuse a replay under a new header. Same payload and id, same bytes on every retry.
    """
    return json.dumps({**json.loads(payload), "delivery_id": delivery_id}, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of "<timestamp>.<raw body>": the timestamp is signed against replays."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def delivery_headers(event: str, delivery_id: str, secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Spoke-Event": event,
            "X-Spoke-Delivery": delivery_id, "X-Spoke-Timestamp": str(timestamp),
            "X-Spoke-Signature": signature(secret, timestamp, body)}


def delivery_id(created_ms: int, salt: str) -> str:
    """Ids sort by creation time, so one descending Query lists the most recent deliveries first."""
    return f"dlv-{created_ms:012x}{salt[:12]}"


def fan_out_salt(event_id: str, webhook_id: str) -> str:
    """The same event for the same webhook always gets the same delivery: a re-run fan-out is a no-op."""
    return hashlib.sha256(f"{event_id}:{webhook_id}".encode()).hexdigest()
