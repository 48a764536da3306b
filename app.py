"""Spoke: wires the blueprints and middleware of the API. Nothing else lives here."""
from chalice import Chalice

from chalicelib.api import accounts, archive_uploads, audit, modules, organizations, sso, system, versions, webhooks
from chalicelib.api import openapi as openapi_docs
from chalicelib.api.caching import cache_control_middleware
from chalicelib.api.cors import cors_middleware, register_preflights
from chalicelib.api.middleware import rate_limit_middleware, request_id_middleware
from chalicelib.api.observability import access_log_middleware
from chalicelib.events import compile as compile_events
from chalicelib.events import outbox as outbox_events
from chalicelib.events import webhooks as webhook_events
from chalicelib.ui import views as web_ui

app = Chalice(app_name="spoke", configure_logs=False)  # the "spoke" logger is JSON: adapters/telemetry.py
app.api.binary_types.append("multipart/form-data")
app.register_middleware(access_log_middleware, "http")  # outermost: one access line for every answer
# Then CORS and caching headers, on every answer: Chalice's own errors and 429s included.
app.register_middleware(cors_middleware, "http")
app.register_middleware(cache_control_middleware, "http")
app.register_middleware(request_id_middleware, "http")
app.register_middleware(rate_limit_middleware, "http")  # inside the request id: a 429 carries X-Request-ID
for blueprint in (accounts.bp, organizations.bp, modules.bp, versions.bp, archive_uploads.bp, webhooks.bp, system.bp,
                  sso.bp, audit.bp, compile_events.bp, webhook_events.bp, outbox_events.bp, openapi_docs.bp,
                  web_ui.bp):
    app.register_blueprint(blueprint)
register_preflights(app)  # after every route: an OPTIONS route per path
