"""Webhooks: organization admins manage them; the events queue's consumer fans events out to them.

Delivery model: an event message (from EventPublisher) becomes one delivery record per subscribed
webhook plus one "delivery" message per record, back on the events queue. Each delivery message is
one HTTP attempt; a failed attempt re-sends the message with DelaySeconds (exponential backoff, no
sleeping) until the policy's last attempt, after which the delivery is marked failed and the message
is dropped. The DLQ only receives messages that failed for our own reasons (DynamoDB, SQS, a bug).
Delivery is at least once: a duplicated message is absorbed by deterministic fan-out ids and a claim
per attempt, but a worker dying between POST and record means a repeat under the same delivery id.
Fan-out ids derive from the event alone (its id and creation time, and the webhook), and each
delivery item is a conditional put, so an event message that arrives twice (the outbox relay
forwards at least once) still gives each subscriber one delivery. A ping or a redelivery writes its
delivery item and its first message together (an outbox message), so an SQS outage cannot leave it
queued forever.
"""
from __future__ import annotations

import builtins
import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from chalicelib.domain.errors import DeliveryNotFound, Forbidden, ValidationFailed, WebhookInactive, WebhookNotFound
from chalicelib.domain.models import DEFAULT_ORG_ID, OutboxMessage, RequestContext
from chalicelib.domain.quotas import plan_named
from chalicelib.domain.roles import Action
from chalicelib.domain.webhooks import (
    TERMINAL,
    Delivery,
    DeliveryPolicy,
    Webhook,
    delivery_body,
    delivery_headers,
    delivery_id,
    fan_out_salt,
    normalise_events,
    validate_secret,
)
from chalicelib.services.common import (
    PageRequest,
    iso_utc,
    next_cursor,
    require,
    require_principal,
    resume_after,
    utc_now,
)
from chalicelib.services.events import EVENT_TYPES
from chalicelib.services.ports import CursorsPort, MetricsPort, NoMetrics, QueuesPort
from chalicelib.services.quotas import Plans

DELIVERY_MESSAGE = "delivery"
# An attempt's claim outlives the HTTP timeout (at most 10 s) and ends before the events queue's visibility
# timeout (120 s), so if a worker dies mid-attempt, SQS hands the message out again and it may be retaken.
CLAIM_LEASE_SECONDS = 60


class WebhooksStorePort(Protocol):
    def add_webhook(self, webhook: Webhook, max_per_org: int, plan_limit: int | None = None) -> None: ...
    def get_webhook(self, org_id: str, webhook_id: str) -> Webhook | None: ...
    def list_webhooks(self, org_id: str) -> list[Webhook]: ...
    def update_webhook(self, org_id: str, webhook_id: str, changes: dict[str, Any]) -> Webhook | None: ...
    def delete_webhook(self, org_id: str, webhook_id: str) -> bool: ...
    def add_delivery(self, delivery: Delivery, expires_at_epoch: int, outbox: Sequence[OutboxMessage] = ()
                     ) -> bool: ...
    def get_delivery(self, org_id: str, webhook_id: str, delivery_id: str) -> Delivery | None: ...
    def claim_attempt(self, delivery: Delivery, attempt: int, now_epoch: int, lease_seconds: int) -> bool: ...
    def record_attempt(self, delivery: Delivery, changes: dict[str, Any], entry: dict[str, Any] | None) -> bool: ...
    def list_deliveries(self, org_id: str, webhook_id: str, after: str | None, limit: int
                        ) -> tuple[list[Delivery], bool]: ...


class HttpPort(Protocol):
    def vet(self, url: str) -> Any: ...
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Any: ...


def _iso_in(seconds: int) -> str:
    return iso_utc(datetime.now(UTC) + timedelta(seconds=seconds))


class WebhooksService:
    def __init__(self, store: WebhooksStorePort, http: HttpPort, queues: QueuesPort, cursors: CursorsPort,
                 policy: DeliveryPolicy, plans: Plans | None = None, metrics: MetricsPort | None = None) -> None:
        self._metrics = metrics or NoMetrics()  # WebhookDelivered / WebhookFailed per attempt
        self._store, self._http, self._queues, self._cursors, self._policy = store, http, queues, cursors, policy
        self._plans = plans  # the plan table (webhooks quota); None: only the deployment's bound

    # Management (admins and owners of a named organization)
    def create(self, ctx: RequestContext, body: dict[str, Any]) -> Webhook:
        self._require_admin(ctx)
        url = self._url(body.get("url"))
        events = normalise_events(body.get("events"), EVENT_TYPES)
        secret = validate_secret(body.get("secret"))
        now = utc_now()
        webhook = Webhook(id=f"whk-{uuid.uuid4().hex[:16]}", org_id=ctx.org.id, url=url, events=events, secret=secret,
                          active=self._active(body.get("active", True)), created_at=now, updated_at=now)
        # The limits are a condition of the write, never a count read beforehand: the deployment's
        # (WEBHOOK_LIMIT_REACHED) and the plan's (QUOTA_EXCEEDED), whichever is lower.
        plan_limit = plan_named(self._plans, ctx.org.plan).webhooks if self._plans is not None else None
        self._store.add_webhook(webhook, self._policy.max_per_org, plan_limit)
        return webhook

    def list(self, ctx: RequestContext) -> list[Webhook]:
        self._require_admin(ctx)
        return sorted(self._store.list_webhooks(ctx.org.id), key=lambda w: w.created_at)

    def get(self, ctx: RequestContext, webhook_id: str) -> Webhook:
        self._require_admin(ctx)
        return self._webhook(ctx, webhook_id)

    def update(self, ctx: RequestContext, webhook_id: str, body: dict[str, Any]) -> Webhook:
        self._require_admin(ctx)
        changes: dict[str, Any] = {}
        if "url" in body:
            changes["url"] = self._url(body["url"])
        if "events" in body:
            changes["events"] = normalise_events(body["events"], EVENT_TYPES)
        if "active" in body:
            changes["active"] = self._active(body["active"])
        if "secret" in body:
            changes["secret"] = validate_secret(body["secret"])
        if not changes:
            raise ValidationFailed("Nothing to update: send any of url, events, active, secret")
        updated = self._store.update_webhook(ctx.org.id, webhook_id, {**changes, "updated_at": utc_now()})
        if updated is None:
            raise self._not_found(webhook_id)
        return updated

    def delete(self, ctx: RequestContext, webhook_id: str) -> None:
        """Queued retries of a deleted webhook find it gone and are cancelled: it receives nothing more."""
        self._require_admin(ctx)
        if not self._store.delete_webhook(ctx.org.id, webhook_id):
            raise self._not_found(webhook_id)

    def ping(self, ctx: RequestContext, webhook_id: str) -> Delivery:
        """A webhook.ping for this webhook alone, whatever it subscribes to."""
        webhook = self._deliverable(ctx, webhook_id)
        event: dict[str, Any] = {"id": f"evt-{uuid.uuid4().hex}", "event": "webhook.ping", "created_at": utc_now(),
                 "organization": ctx.org.id,
                 "data": {"webhook": {"id": webhook.id, "url": webhook.url, "events": list(webhook.events)}}}
        return self._start(webhook, event["event"], event["id"], json.dumps(event, separators=(",", ":")),
                           delivery_id(_now_ms(), uuid.uuid4().hex), via_outbox=True)

    def deliveries(self, ctx: RequestContext, webhook_id: str, page_size: Any, cursor: Any
                   ) -> tuple[builtins.list[Delivery], str | None]:  # `list` is also a method here
        self._require_admin(ctx)
        page = PageRequest.parse(None, page_size, cursor)
        webhook = self._webhook(ctx, webhook_id)
        scope = {"webhook": webhook.id}
        found, more = self._store.list_deliveries(ctx.org.id, webhook.id,
                                                  resume_after(self._cursors, page.cursor, scope), page.page_size)
        return found, next_cursor(self._cursors, scope, found[-1].id if found else None, more)

    def redeliver(self, ctx: RequestContext, webhook_id: str, delivery_id_: str) -> Delivery:
        """A new delivery (new id, in its header and body; fresh attempts) of the same event; the original stays."""
        webhook = self._deliverable(ctx, webhook_id)
        original = self._store.get_delivery(ctx.org.id, webhook.id, delivery_id_)
        if original is None:
            raise DeliveryNotFound(f"Delivery '{delivery_id_}' not found for this webhook",
                                   details={"delivery_id": delivery_id_})
        return self._start(webhook, original.event, original.event_id, original.payload,
                           delivery_id(_now_ms(), uuid.uuid4().hex), redelivery_of=original.id, via_outbox=True)

    # The events queue's consumer
    def handle(self, message: dict[str, Any]) -> None:
        if message.get("type") == DELIVERY_MESSAGE:
            self.attempt(message)
        elif isinstance(message.get("event"), str) and isinstance(message.get("organization"), str):
            self.fan_out(message)
        else:
            raise ValueError("neither a registry event nor a webhook delivery message")

    def fan_out(self, event: dict[str, Any]) -> int:
        """One delivery per subscribed webhook. Ids derive from the event (its creation time and id) and
        the webhook, never from the message carrying it, so a re-run or a second copy adds none."""
        org_id = event["organization"]
        if org_id == DEFAULT_ORG_ID:
            return 0  # the shared default organization has no webhooks
        payload = json.dumps(event, separators=(",", ":"))
        created_ms = _epoch_ms(event.get("created_at"))
        targets = [w for w in self._store.list_webhooks(org_id) if w.active and self._wants(w, event)]
        for webhook in targets:
            self._start(webhook, event["event"], event["id"], payload,
                        delivery_id(created_ms, fan_out_salt(event["id"], webhook.id)))
        return len(targets)

    def attempt(self, message: dict[str, Any]) -> None:
        """One HTTP attempt of one delivery; a failure schedules the next attempt or gives up."""
        number = int(message["attempt"])
        delivery = self._store.get_delivery(message["org"], message["webhook"], message["delivery"])
        if delivery is None or delivery.status in TERMINAL or delivery.attempts >= number:
            return  # expired, finished, or a duplicate of an attempt already made
        webhook = self._store.get_webhook(delivery.org_id, delivery.webhook_id)
        if webhook is None or not webhook.active:
            reason = "the webhook was deleted" if webhook is None else "the webhook was deactivated"
            self._store.record_attempt(delivery, {"status": "cancelled", "last_error": reason,
                                                  "next_retry_at": None, "updated_at": utc_now()}, None)
            return
        body, timestamp = delivery_body(delivery.payload, delivery.id), int(time.time())
        if not self._store.claim_attempt(delivery, number, timestamp, CLAIM_LEASE_SECONDS):
            return  # a copy of this message is making (or made) this attempt
        result = self._http.post(webhook.url, body, delivery_headers(delivery.event, delivery.id, webhook.secret,
                                                                     timestamp, body))
        self._metrics.count("WebhookDelivered" if result.ok else "WebhookFailed")
        delay = None if result.ok else self._policy.retry_delay(number)
        if delay is not None:
            self._send(delivery, number + 1, delay)
        now = utc_now()
        self._store.record_attempt(delivery, {
            "status": "succeeded" if result.ok else ("retrying" if delay is not None else "failed"),
            "attempts": number, "last_status_code": result.status_code, "duration_ms": result.duration_ms,
            "last_error": result.error, "next_retry_at": _iso_in(delay) if delay is not None else None,
            "updated_at": now,
        }, {"attempt": number, "at": now, "status_code": result.status_code, "duration_ms": result.duration_ms,
            "error": result.error})

    # Helpers
    def _start(self, webhook: Webhook, event: str, event_id: str, payload: str, new_id: str,
               redelivery_of: str | None = None, via_outbox: bool = False) -> Delivery:
        """Record a delivery and queue its first attempt. From a request (`via_outbox`) both are one
        write; in the fan-out, a failed send makes SQS hand the event out again, which queues it then."""
        now = utc_now()
        delivery = Delivery(id=new_id, org_id=webhook.org_id, webhook_id=webhook.id, event=event, event_id=event_id,
                            created_at=now, updated_at=now, redelivery_of=redelivery_of, payload=payload)
        expires = int(time.time()) + self._policy.history_days * 86400
        if via_outbox:
            self._store.add_delivery(delivery, expires, outbox=[self._message(delivery, 1)])
            return delivery
        if not self._store.add_delivery(delivery, expires):
            existing = self._store.get_delivery(webhook.org_id, webhook.id, new_id)
            if existing is None or existing.status != "queued" or existing.attempts:
                return existing or delivery  # already under way: leave it alone
            delivery = existing  # created, but maybe never queued: queue again (at least once)
        self._send(delivery, 1, 0)
        return delivery

    @staticmethod
    def _message(delivery: Delivery, attempt: int) -> OutboxMessage:
        body = {"type": DELIVERY_MESSAGE, "org": delivery.org_id, "webhook": delivery.webhook_id,
                "delivery": delivery.id, "attempt": attempt}
        return OutboxMessage(queue="events", body=json.dumps(body, separators=(",", ":")))

    def _send(self, delivery: Delivery, attempt: int, delay: int) -> None:
        self._queues.send("events", self._message(delivery, attempt).body, **(
            {"DelaySeconds": delay} if delay else {}))

    @staticmethod
    def _wants(webhook: Webhook, event: dict[str, Any]) -> bool:
        if event["event"] == "webhook.ping":  # a ping is for the webhook it names, never a broadcast
            named = (event.get("data") or {}).get("webhook")
            return isinstance(named, dict) and named.get("id") == webhook.id
        return webhook.subscribes(event["event"])

    def _url(self, value: Any) -> str:
        self._http.vet(value)  # refuses anything but an allowed http(s) URL string
        return str(value)

    @staticmethod
    def _active(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationFailed("active must be true or false", validation_errors=[
                {"field": "active", "code": "INVALID_TYPE", "message": "a boolean"}])
        return value

    @staticmethod
    def _require_admin(ctx: RequestContext) -> None:
        require_principal(ctx.principal)
        if ctx.org.is_default:
            raise Forbidden("Webhooks belong to a named organization: the default organization is shared by every "
                            "user, so it has none. Create one (POST /organizations) and send X-Organization-ID")
        require(ctx, Action.MANAGE_SETTINGS)

    def _webhook(self, ctx: RequestContext, webhook_id: str) -> Webhook:
        webhook = self._store.get_webhook(ctx.org.id, webhook_id)
        if webhook is None:
            raise self._not_found(webhook_id)
        return webhook

    def _deliverable(self, ctx: RequestContext, webhook_id: str) -> Webhook:
        self._require_admin(ctx)
        webhook = self._webhook(ctx, webhook_id)
        if not webhook.active:
            raise WebhookInactive(f"Webhook '{webhook_id}' is inactive: PATCH it with active=true first",
                                  details={"webhook_id": webhook_id})
        return webhook

    @staticmethod
    def _not_found(webhook_id: str) -> WebhookNotFound:
        return WebhookNotFound(f"Webhook '{webhook_id}' not found in this organization",
                               details={"webhook_id": webhook_id})


def _now_ms() -> int:
    return int(time.time() * 1000)


def _epoch_ms(created_at: Any) -> int:
    """An event's `created_at` (`2025-01-24T10:00:00Z`) in milliseconds; 0 if it has none (ids still unique)."""
    try:
        return int(datetime.fromisoformat(str(created_at).replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0
