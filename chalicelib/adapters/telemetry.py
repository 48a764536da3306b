"""Logs, metrics and traces with aws-lambda-powertools, set up once per process.

Logs: every `spoke.*` logger's records come out of one handler on the `spoke` logger as powertools
JSON lines on stdout (CloudWatch Logs on Lambda), at Settings.log_level. The handler adds the fields of
the current invocation (Lambda's request id, cold start, the record's function or queue) and those the
registered providers give (Spoke's request id, route, organization, principal: api/observability.py).
Chalice's own app logger is the same `spoke` logger: set up here, it no longer drops INFO lines.

Metrics: counted during an invocation, written once at its end (`EmfMetrics.flush`) as CloudWatch
embedded-metric-format lines: namespace `Spoke` (POWERTOOLS_METRICS_NAMESPACE), dimensions
`service=spoke`, `stage` and each metric's own (one EMF line per distinct set of dimensions).

Traces: powertools' Tracer (AWS X-Ray) only with Settings.tracing; otherwise aws_xray_sdk is never
imported. Powertools' modules are imported on first use, not by a cold `import app`.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

SERVICE = "spoke"
DEFAULT_NAMESPACE = "Spoke"

_invocation: ContextVar[dict[str, Any] | None] = ContextVar("invocation_fields", default=None)
_providers: list[Callable[[], dict[str, Any]]] = []
_lock = threading.Lock()
_state: dict[str, Any] = {"handler": None, "cold": True, "tracer": None, "tracing_checked": False}


class _CurrentStdout(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Writes to whatever sys.stdout is at the time (Lambda's, chalice local's console, pytest's capture).
    Chalice, finding a stdout handler on its app logger, leaves the logger alone."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class _ContextFields(logging.Filter):
    """Adds the invocation's and the providers' fields to each record (never over a record's own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields: dict[str, Any] = dict(_invocation.get() or {})
        for provider in _providers:
            try:
                fields.update(provider())
            except Exception:  # noqa: BLE001, S110 - a log line is never lost to its context (nor logs about it)
                pass
        fields.setdefault("logger", record.name)
        for name, value in fields.items():
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        return True


def add_fields_provider(provider: Callable[[], dict[str, Any]]) -> None:
    """Fields every log line of the current request carries (called per record; keep it cheap)."""
    if provider not in _providers:
        _providers.append(provider)


def configure_logging(level: str = "INFO") -> logging.Logger:
    """The `spoke` logger: powertools JSON on stdout at `level`. Idempotent and cheap when nothing
    changed; repairs what another party changed (a later `Chalice("spoke")` sets ERROR and stops
    propagation). Records still propagate: powertools filters them out of the root's handlers that
    existed when it started (Lambda's), and log capture (pytest's caplog) sees them."""
    logger = logging.getLogger(SERVICE)
    handler = _state["handler"]
    if (handler is not None and logger.level == logging.getLevelName(level) and logger.handlers == [handler]
            and logger.propagate):
        return logger
    with _lock:
        if _state["handler"] is None:
            from aws_lambda_powertools import Logger

            handler = _CurrentStdout()
            handler.addFilter(_ContextFields())
            for foreign in list(logger.handlers):  # Chalice's plain-text handler, if it came first
                logger.removeHandler(foreign)
            Logger(service=SERVICE, level=level, logger_handler=handler, utc=True)
            _state["handler"] = handler
        handler = _state["handler"]
        for foreign in [h for h in logger.handlers if h is not handler]:
            logger.removeHandler(foreign)
        if handler not in logger.handlers:
            logger.addHandler(handler)
        logger.setLevel(level)
        logger.disabled = False
        logger.propagate = True
    return logger


def begin_invocation(context: Any = None, **fields: Any) -> dict[str, Any]:
    """Start the fields of one invocation (an HTTP request, an SQS or stream batch): Lambda's request id
    (`context.aws_request_id`; none without a Lambda context) and whether this is the container's first."""
    with _lock:
        cold, _state["cold"] = _state["cold"], False
    values = {"lambda_request_id": getattr(context, "aws_request_id", None), "cold_start": cold, **fields}
    _invocation.set(values)
    return values


def bind(**fields: Any) -> None:
    """Add fields to the current invocation's log lines (None removes nothing, it is just not shown)."""
    _invocation.set({**(_invocation.get() or {}), **fields})


def invocation_fields() -> dict[str, Any]:
    return dict(_invocation.get() or {})


def configure_tracing(enabled: bool) -> Any:
    """Powertools' Tracer (X-Ray; patches boto) when asked for, else None without importing aws_xray_sdk.
    Asked for without aws-xray-sdk installed: a RuntimeError saying so."""
    if not enabled:
        return None
    with _lock:
        if _state["tracer"] is None:
            try:
                import aws_xray_sdk  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
            except ImportError:
                raise RuntimeError("SPOKE_TRACING is true but aws-xray-sdk is not installed: install "
                                   "aws-lambda-powertools[tracer] (or aws-xray-sdk), or set SPOKE_TRACING=false"
                                   ) from None
            from aws_lambda_powertools import Tracer

            _state["tracer"] = Tracer(service=SERVICE)
    return _state["tracer"]


class EmfMetrics:
    """A MetricsPort writing CloudWatch EMF through powertools' EMF provider, once per invocation.

    Metrics are kept in memory (grouped by their dimensions) until `flush`, which the HTTP middleware
    and the event handlers call when their invocation ends. Thread safe: the events function handles
    its records on threads."""

    def __init__(self, stage: str, namespace: str | None = None,
                 write: Callable[[str], None] | None = None) -> None:
        self._namespace = namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
        self._defaults = {"service": SERVICE, "stage": stage}
        self._pending: dict[tuple[tuple[str, str], ...], list[tuple[str, str, float]]] = {}
        self._lock = threading.Lock()
        self._write = write or _print_line

    def count(self, name: str, value: float = 1, dimensions: dict[str, str] | None = None) -> None:
        self._add(name, "Count", value, dimensions)

    def milliseconds(self, name: str, value: float, dimensions: dict[str, str] | None = None) -> None:
        self._add(name, "Milliseconds", value, dimensions)

    def _add(self, name: str, unit: str, value: float, dimensions: dict[str, str] | None) -> None:
        key = tuple(sorted((dimensions or {}).items()))
        with self._lock:
            self._pending.setdefault(key, []).append((name, unit, float(value)))

    def flush(self) -> list[dict[str, Any]]:
        """Write what was counted since the last flush (one EMF line per set of dimensions); return them."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending or os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower() in ("1", "true"):
            return []  # powertools' own switch: `make run` without VERBOSE sets it
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
            AmazonCloudWatchEMFProvider,
        )

        blobs = []
        for dimensions, metrics in pending.items():
            provider = AmazonCloudWatchEMFProvider(namespace=self._namespace,
                                                   default_dimensions={**self._defaults, **dict(dimensions)})
            for name, unit, value in metrics:
                provider.add_metric(name=name, unit=unit, value=value)
            blob: dict[str, Any] = dict(provider.serialize_metric_set())
            self._write(json.dumps(blob, separators=(",", ":")))
            blobs.append(blob)
        return blobs


def _print_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
