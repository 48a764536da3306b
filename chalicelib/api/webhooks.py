"""/webhooks of the X-Organization-ID organization (admins and owners) and their delivery history.

A webhook's secret is accepted on create and PATCH but never returned.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.http import api_view, envelope, json_object, query_param, request_context
from chalicelib.wiring import services

if TYPE_CHECKING:  # annotations only: the webhook models load with the webhooks service
    from chalicelib.domain.webhooks import Delivery, Webhook

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)


def webhook_json(webhook: Webhook) -> dict:
    return {"id": webhook.id, "url": webhook.url, "events": list(webhook.events), "active": webhook.active,
            "created_at": webhook.created_at, "updated_at": webhook.updated_at}


def delivery_json(delivery: Delivery) -> dict:
    return {"id": delivery.id, "webhook_id": delivery.webhook_id, "event": delivery.event,
            "event_id": delivery.event_id, "status": delivery.status, "attempts": delivery.attempts,
            "status_code": delivery.last_status_code, "duration_ms": delivery.duration_ms,
            "last_error": delivery.last_error, "next_retry_at": delivery.next_retry_at,
            "redelivery_of": delivery.redelivery_of, "created_at": delivery.created_at,
            "updated_at": delivery.updated_at, "history": list(delivery.history)}


@bp.route("/webhooks", methods=["POST"])
@view
def create_webhook() -> Response:
    request = bp.current_request
    body = json_object(request)
    return envelope(webhook_json(services().webhooks.create(request_context(request), body)), 201)


@bp.route("/webhooks", methods=["GET"])
@view
def list_webhooks() -> Response:
    found = services().webhooks.list(request_context(bp.current_request))
    return envelope({"webhooks": [webhook_json(w) for w in found]})


@bp.route("/webhooks/{webhook_id}", methods=["GET"])
@view
def get_webhook(webhook_id: str) -> Response:
    return envelope(webhook_json(services().webhooks.get(request_context(bp.current_request), webhook_id)))


@bp.route("/webhooks/{webhook_id}", methods=["PATCH"])
@view
def update_webhook(webhook_id: str) -> Response:
    request = bp.current_request
    body = json_object(request)
    return envelope(webhook_json(services().webhooks.update(request_context(request), webhook_id, body)))


@bp.route("/webhooks/{webhook_id}", methods=["DELETE"])
@view
def delete_webhook(webhook_id: str) -> Response:
    services().webhooks.delete(request_context(bp.current_request), webhook_id)
    return Response(body="", status_code=204)


@bp.route("/webhooks/{webhook_id}/ping", methods=["POST"])
@view
def ping_webhook(webhook_id: str) -> Response:
    delivery = services().webhooks.ping(request_context(bp.current_request), webhook_id)
    return envelope(delivery_json(delivery), 202)


@bp.route("/webhooks/{webhook_id}/deliveries", methods=["GET"])
@view
def list_deliveries(webhook_id: str) -> Response:
    request = bp.current_request
    page_size = query_param(request, "page_size")
    found, next_cursor = services().webhooks.deliveries(request_context(request), webhook_id, page_size,
                                                        query_param(request, "cursor"))
    return envelope({"deliveries": [delivery_json(d) for d in found],
                     "pagination": {"page_size": int(page_size or 20), "has_more": next_cursor is not None,
                                    "next_cursor": next_cursor}})


@bp.route("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", methods=["POST"])
@view
def redeliver(webhook_id: str, delivery_id: str) -> Response:
    delivery = services().webhooks.redeliver(request_context(bp.current_request), webhook_id, delivery_id)
    return envelope(delivery_json(delivery), 202)
