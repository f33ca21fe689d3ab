"""Operations: Prometheus metrics and structured (JSON) logs carrying the transfer id.

Metrics live in a registry of their own per app, so several nodes in one process (as `serve` runs
them) never mix their figures.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from banks.node import ParticipantNode
from switch.scheme import grouping
from switch.scheme.messages import StatusReport
from switch.scheme.transport import Envelope

transfers_log = logging.getLogger("switchyard.transfers")
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class SwitchMetrics:
    def __init__(self, in_flight: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.transfers = Counter(
            "switchyard_transfers_total",
            "Transfers that reached a final status, by status and reason",
            ["status", "reason"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "switchyard_batch_seconds", "Time the switch spends on one batch", buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )  # fmt: skip
        self.batch_messages = Histogram(
            "switchyard_batch_messages", "Messages in one batch", buckets=(1, 10, 100, 1_000, 8_190),
            registry=self.registry,
        )  # fmt: skip
        self.request_seconds = Histogram(
            "switchyard_http_request_seconds", "HTTP request latency by route and status",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS_S, registry=self.registry,
        )  # fmt: skip
        self.in_flight = Gauge(
            "switchyard_transfers_in_flight", "Transfers waiting for the creditor (PDNG)", registry=self.registry
        )
        self.in_flight.set_function(in_flight)

    def on_batch(self, inbox: Sequence[Envelope], out: Sequence[Envelope], seconds: float) -> None:
        """Count and log every final status the switch tells a debtor agent."""
        self.batch_seconds.observe(seconds)
        self.batch_messages.observe(len(inbox))
        for envelope in grouping.opened(out):  # a pacs.002 of many counts each of its reports
            report = envelope.message
            if isinstance(report, StatusReport) and envelope.receiver == report.debtor_agent:
                if report.transaction_status.is_final:
                    reason = report.status_reason.value if report.status_reason else ""
                    self.transfers.labels(report.transaction_status.value, reason).inc()
                    transfers_log.info(
                        "transfer final",
                        extra={
                            "transaction_id": report.original_transaction_id,
                            "debtor_agent": report.debtor_agent,
                            "creditor_agent": report.creditor_agent,
                            "status": report.transaction_status.value,
                            "reason": reason or None,
                            "amount_vnd": report.amount_vnd,
                        },
                    )

    def endpoint(self, _request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class NodeMetrics:
    """A simulated bank's or wallet's figures: its HTTP latency, and its payments and credits by
    state (count and VND), read from its database when Prometheus scrapes, so they are never stale."""

    def __init__(self, node: ParticipantNode) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "switchyard_http_request_seconds", "HTTP request latency by route and status",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS_S, registry=self.registry,
        )  # fmt: skip
        self.registry.register(_BooksCollector(node))

    def endpoint(self, _request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class _BooksCollector(Collector):
    def __init__(self, node: ParticipantNode) -> None:
        self.node = node

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for direction, counts in (("outbound", self.node.outbound_counts()), ("inbound", self.node.inbound_counts())):
            items = GaugeMetricFamily(
                f"switchyard_node_{direction}_items", f"{direction.capitalize()} items by state", labels=["state"]
            )
            amounts = GaugeMetricFamily(
                f"switchyard_node_{direction}_vnd", f"{direction.capitalize()} VND by state", labels=["state"]
            )
            for state, (count, vnd) in sorted(counts.items()):
                items.add_metric([state], count)
                amounts.add_metric([state], vnd)
            yield items
            yield amounts


class TimingMiddleware:
    """Request latency by route template (not raw path: ids would explode the label set)."""

    def __init__(self, app: ASGIApp, metrics: SwitchMetrics | NodeMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def record(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            path = _template(scope)
            self.metrics.request_seconds.labels(scope["method"], path, str(status["code"])).observe(
                time.perf_counter() - started
            )


def _template(scope: Scope) -> str:
    """/v1/transfers/TX1 -> /v1/transfers/{transaction_id}: a label per route, not per id."""
    if scope.get("route") is None:
        return "unmatched"
    path = str(scope.get("path", ""))
    for name, value in (scope.get("path_params") or {}).items():
        path = path.replace(f"/{value}", f"/{{{name}}}", 1)
    return path


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the fields passed in `extra`."""

    STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            # ISO 8601 with milliseconds and the offset: lines of several processes sort and compare
            "time": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in self.STANDARD})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("switchyard")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
