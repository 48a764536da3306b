"""The embedded AWS: moto in server mode on 127.0.0.1.

Real DynamoDB applies each write transaction atomically. moto's in-memory backend does not when
two threads run transactions at once (it snapshots and restores whole tables), so DynamoDB
calls are serialised here; S3 and SQS calls stay concurrent. Stream reads (DynamoDBStreams_) are
serialised with them: moto applies a transaction's writes one by one and undoes them all if one
fails, and a reader in between would see stream records of a write that never happened.

Its access log (werkzeug's: a `"POST / HTTP/1.1" 200` line for every AWS call the API and the worker
make, several a second while idle) is off unless `--verbose` (or SPOKE_VERBOSE=1, which `make run
VERBOSE=1` sets); moto's errors are always shown.

Run: python -m localdev.embedded_aws --port 4566 [--verbose]
"""
from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from localdev.console import verbose_from_env

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def serialise_dynamodb(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(("DynamoDB_", "DynamoDBStreams_")):
            with lock:
                return list(app(environ, start_response))
        return app(environ, start_response)

    return wrapped


MAX_STREAM_ITERATORS = 1000


def expire_stream_iterators() -> None:
    """moto keeps every shard iterator it ever hands out, and the local worker takes two per poll of the
    table's stream: keep only the newest (DynamoDB's own expire 15 minutes after they are issued)."""
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    original = DynamoDBStreamsBackend.get_records

    def get_records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> dict[str, Any]:
        try:
            return original(self, iterator_arn, limit)
        finally:  # under the DynamoDB lock: no other request touches the dict meanwhile
            stale = len(self.shard_iterators) - MAX_STREAM_ITERATORS
            for arn in list(self.shard_iterators)[:max(stale, 0)]:
                del self.shard_iterators[arn]

    DynamoDBStreamsBackend.get_records = get_records  # type: ignore[method-assign]


ACCESS_LOGGER = "werkzeug"  # werkzeug's request handler logs each request at INFO here, errors at ERROR


def configure_logging(verbose: bool) -> None:
    """moto's access log only when asked for: the developer's console shows the API's requests and the
    worker's jobs, not the hundreds of AWS calls behind them. An explicit level also stops werkzeug from
    switching its logger to INFO on the first request."""
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO if verbose else logging.WARNING)


def serve(host: str, port: int) -> None:
    expire_stream_iterators()
    app = serialise_dynamodb(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    print(f"embedded AWS (moto) listening on http://{host}:{server.server_port}", flush=True)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--verbose", action="store_true", default=verbose_from_env(),
                        help="print moto's access log (a line per AWS call); default: SPOKE_VERBOSE")
    args = parser.parse_args()
    configure_logging(args.verbose)
    try:
        serve(args.host, args.port)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
