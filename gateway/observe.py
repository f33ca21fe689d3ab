"""Operations: Prometheus metrics, a request id on every call, and structured (JSON) logs.

Metrics live in a registry of their own per app, so several nodes in one process (as `serve` runs
them) never mix their figures. With `serve --workers N` the switch is N processes: each counts in
prometheus-client's multiprocess files (PROMETHEUS_MULTIPROC_DIR, which serve gives the workers),
and a scrape of any worker sums them all. What is read from the database when Prometheus scrapes
(transfers in flight, positions against caps, disbursement items by status) is the same whichever
worker answers, so it is read, never counted.
"""

from __future__ import annotations

import enum
import functools
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banks.node import ParticipantNode
from gateway.problems import path_pattern
from switch.participants.schemas import Position
from switch.scheme import grouping
from switch.scheme.codes import ItemStatus
from switch.scheme.messages import StatusReport
from switch.scheme.transport import Envelope

transfers_log = logging.getLogger("switchyard.transfers")
requests_log = logging.getLogger("switchyard.requests")
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROCESS_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client reads it when imported


class AliasLookupOutcome(enum.StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"  # BE23: a miss costs ten hits of the participant's budget
    THROTTLED = "throttled"  # 429: the budget is spent


class SwitchReadings(Protocol):
    """What the switch's database tells a scrape (gateway.switch_app gives the switch node)."""

    def in_flight(self) -> int: ...
    def positions(self) -> dict[str, Position]: ...
    def disbursement_items_by_status(self) -> dict[ItemStatus, tuple[int, int]]: ...


class SwitchMetrics:
    def __init__(self, readings: SwitchReadings) -> None:
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
        self.alias_lookups = Counter(
            "switchyard_alias_lookups_total", "Alias look-ups by outcome (found, not_found, throttled: a 429)",
            ["outcome"], registry=self.registry,
        )  # fmt: skip
        self.participant_call_seconds = Histogram(
            "switchyard_participant_call_seconds",
            "The switch's calls to participants, until the answer's headers, by participant, path and outcome",
            ["participant", "path", "outcome"], buckets=LATENCY_BUCKETS_S, registry=self.registry,
        )  # fmt: skip
        self.readings = _SwitchReadingsCollector(readings)
        if not multiprocess():
            self.registry.register(self.readings)

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

    def on_alias_lookup(self, outcome: AliasLookupOutcome) -> None:
        self.alias_lookups.labels(outcome.value).inc()

    def on_participant_call(self, participant: str, path: str, outcome: str, seconds: float) -> None:
        self.participant_call_seconds.labels(participant, path, outcome).observe(seconds)

    def endpoint(self, _request: Request) -> Response:
        return Response(generate_latest(self._scraped()), media_type=CONTENT_TYPE_LATEST)

    def _scraped(self) -> CollectorRegistry:
        """This process's registry; with several workers, every worker's counts and the readings."""
        if not multiprocess():
            return self.registry
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(self.readings)
        return registry


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIRECTORY_VARIABLE))


class _SwitchReadingsCollector(Collector):
    def __init__(self, readings: SwitchReadings) -> None:
        self.readings = readings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        in_flight = self.readings.in_flight()
        yield GaugeMetricFamily("switchyard_transfers_in_flight", "Transfers in flight (PDNG)", in_flight)
        yield from _position_families(self.readings.positions())
        yield from _item_families(self.readings.disbursement_items_by_status())


def _position_families(positions: Mapping[str, Position]) -> Iterator[GaugeMetricFamily]:
    """Each participant's standing against its net debit cap: what an operator alerts on."""
    described = (
        ("liquidity_vnd", "Prefunded money less what the participant paid out plus what it received"),
        ("reserved_vnd", "VND held for transfers in flight"),
        ("net_debit_cap_vnd", "The participant's net debit cap"),
        ("available_vnd", "What the participant can still send"),
        ("net_debit_cap_used_ratio", "Share of the net debit cap in use (0 when it has prefunding left)"),
    )
    families = {
        name: GaugeMetricFamily(f"switchyard_participant_{name}", text, labels=["participant"])
        for name, text in described
    }
    for bin_code, position in sorted(positions.items()):
        used_vnd = max(0, position.reserved_vnd - position.liquidity_vnd)
        ratio = used_vnd / position.net_debit_cap_vnd if position.net_debit_cap_vnd > 0 else 0.0
        values = {
            "liquidity_vnd": position.liquidity_vnd, "reserved_vnd": position.reserved_vnd,
            "net_debit_cap_vnd": position.net_debit_cap_vnd, "available_vnd": position.available_vnd,
            "net_debit_cap_used_ratio": ratio,
        }  # fmt: skip
        for name, value in values.items():
            families[name].add_metric([bin_code], value)
    yield from families.values()


def _item_families(counts: Mapping[ItemStatus, tuple[int, int]]) -> Iterator[GaugeMetricFamily]:
    items = GaugeMetricFamily(
        "switchyard_disbursement_items", "Payroll items of every disbursement by status", labels=["status"]
    )
    amounts = GaugeMetricFamily(
        "switchyard_disbursement_items_vnd", "VND of payroll items of every disbursement by status", labels=["status"]
    )
    for status, (count, amount_vnd) in counts.items():
        items.add_metric([status.value], count)
        amounts.add_metric([status.value], amount_vnd)
    yield items
    yield amounts


class NodeMetrics:
    """A node's figures: its HTTP latency, and what `readings` reads from its database when
    Prometheus scrapes, so it is never stale (a bank's or wallet's books: `BooksCollector`)."""

    def __init__(self, readings: Collector) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "switchyard_http_request_seconds", "HTTP request latency by route and status",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS_S, registry=self.registry,
        )  # fmt: skip
        self.registry.register(readings)

    def endpoint(self, _request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class BooksCollector(Collector):
    """A simulated bank's or wallet's payments and credits by state, count and VND."""

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


REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # a caller's own id is kept if it is this plain
REFUSAL_BODY_BYTES_MAX = 8 * 1024  # of a refusal's problem+json, read for its log line
REFUSAL_ERRORS_LOGGED_MAX = 5


class RequestObserver:
    """Every request: its latency by route template (not raw path: ids would explode the label
    set), a request id (the caller's `X-Request-Id` when it is plain, else a new one) sent back in
    the answer's header, and one log line for each refused (4xx) or failed (5xx) request with that
    id, what it asked and why it was refused, so an integrator's support call finds its line."""

    def __init__(self, app: ASGIApp, metrics: SwitchMetrics | NodeMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        answer = _Answer()

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER.encode(), request_id.encode())]
            elif message["type"] == "http.response.body" and answer.status >= 400:
                answer.keep(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            seconds = time.perf_counter() - started
            route = _template(scope)
            self.metrics.request_seconds.labels(scope["method"], route, str(answer.status)).observe(seconds)
            if answer.status >= 400:
                _log_refusal(scope, route, request_id, answer, seconds)


class _Answer:
    def __init__(self) -> None:
        self.status = 500  # what the caller gets if the app raises before answering
        self.body = bytearray()

    def keep(self, chunk: bytes) -> None:
        room = REFUSAL_BODY_BYTES_MAX - len(self.body)
        if room > 0:
            self.body += chunk[:room]


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            given = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


def _log_refusal(scope: Scope, route: str, request_id: str, answer: _Answer, seconds: float) -> None:
    client = scope.get("client")
    fields: dict[str, Any] = {
        "request_id": request_id, "method": scope["method"], "path": scope.get("path"), "route": route,
        "status": answer.status, "client": f"{client[0]}:{client[1]}" if client else None,
        "duration_ms": round(seconds * 1000, 1),
    }  # fmt: skip
    fields.update(_problem_fields(bytes(answer.body)))
    if answer.status >= 500:
        requests_log.error("request failed", extra=fields)
    else:
        requests_log.info("request refused", extra=fields)


def _problem_fields(body: bytes) -> dict[str, Any]:
    """The title and the first errors of a problem+json body (field and rule), if it is one."""
    try:
        problem = json.loads(body)
    except ValueError:
        return {}
    if not isinstance(problem, dict):
        return {}
    errors = problem.get("errors")
    named = []
    if isinstance(errors, list):
        for error in errors[:REFUSAL_ERRORS_LOGGED_MAX]:
            if isinstance(error, dict):
                named.append({key: error.get(key) for key in ("field", "rule")})
    return {"title": problem.get("title"), "errors": named or None}


def _template(scope: Scope) -> str:
    """/v1/transfers/TX1 -> /v1/transfers/{transaction_id}: a label per route, not per id."""
    path = str(scope.get("path", ""))
    if scope.get("route") is None:  # refused before routing (401, 413): matched against the contract
        return _published_template(scope.get("app"), path)
    for name, value in (scope.get("path_params") or {}).items():
        path = path.replace(f"/{value}", f"/{{{name}}}", 1)
    return path


@functools.lru_cache(maxsize=64)  # one entry per app; a test run builds many
def _published_patterns(app: Any) -> tuple[tuple[re.Pattern[str], str], ...]:
    """The app's OpenAPI paths as patterns, those with fewer parameters first (/v1/aliases before
    /v1/aliases/{type}/{value}). Built once per app; the contract does not change while it runs."""
    openapi = getattr(app, "openapi", None)
    paths = sorted(openapi().get("paths", {}) if callable(openapi) else {}, key=lambda p: (p.count("{"), p))
    return tuple((path_pattern(p), p) for p in paths)


def _published_template(app: Any, path: str) -> str:
    for pattern, template in _published_patterns(app):
        if pattern.fullmatch(path):
            return template
    return "unmatched"


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
