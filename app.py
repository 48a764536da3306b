"""Spoke: wires the blueprints and middleware of the API. Nothing else lives here."""
from chalice import Chalice

from chalicelib.api import accounts, archive_uploads, modules, organizations, system, versions, webhooks
from chalicelib.api import sso
from chalicelib.api.middleware import rate_limit_middleware, request_id_middleware
from chalicelib.events import compile as compile_events
from chalicelib.events import outbox as outbox_events
from chalicelib.events import webhooks as webhook_events

app = Chalice(app_name="spoke")
app.api.binary_types.append("multipart/form-data")
app.register_middleware(request_id_middleware, "http")
app.register_middleware(rate_limit_middleware, "http")  # inside the request id: a 429 carries X-Request-ID
for blueprint in (accounts.bp, organizations.bp, modules.bp, versions.bp, archive_uploads.bp, webhooks.bp, system.bp,
                  sso.bp, compile_events.bp, webhook_events.bp, outbox_events.bp):
    app.register_blueprint(blueprint)
