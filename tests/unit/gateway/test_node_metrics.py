"""Observability that serves an operator (issue 14 item 10, in part): `/metrics` on every simulated
bank and wallet, its payments and credits by state read at scrape time, its HTTP latency by route;
and log lines whose time has milliseconds and the time zone."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from live import AN, BIDV, NOW, SECRET, VIETCOMBANK, bidv_node

from banks.node import ParticipantNode
from gateway.node_app import NodeApi, create_node_app
from gateway.observe import JsonFormatter
from gateway.runtime import NodeRuntime
from switch.scheme.messages import CreditTransfer, Party
from switch.scheme.transport import Envelope


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[tuple[ParticipantNode, TestClient]]:
    node = bidv_node(tmp_path)
    with TestClient(create_node_app(NodeApi(node, NodeRuntime(node), SECRET))) as client:
        yield node, client


def test_a_nodes_metrics_are_open_and_count_its_credits_by_state_and_vnd(
    bank: tuple[ParticipantNode, TestClient],
) -> None:
    node, client = bank
    credit = CreditTransfer(
        message_id="MVCB1", end_to_end_id="EVCB1", transaction_id="VCB1", amount_vnd=750_000,
        debtor=Party(name="Võ Thị Lan"), debtor_account="0011001234567", debtor_agent=VIETCOMBANK,
        creditor_account=AN.account, creditor_agent=BIDV,
    )  # fmt: skip
    node.handle([Envelope("switch", BIDV, credit)], NOW)

    scrape = client.get("/metrics")

    assert scrape.status_code == 200  # no key: counts and latencies only, no ids, no names
    text = scrape.text
    assert 'switchyard_node_inbound_items{state="credited"} 1.0' in text
    assert 'switchyard_node_inbound_vnd{state="credited"} 750000.0' in text
    assert AN.account not in text and "VCB1" not in text


def test_a_nodes_requests_are_timed_by_route(bank: tuple[ParticipantNode, TestClient]) -> None:
    _node, client = bank
    assert client.get("/health").status_code == 200
    text = client.get("/metrics").text
    assert re.search(r'switchyard_http_request_seconds_count\{method="GET",route="/health",status="200"\} 1\.0', text)


def test_a_log_line_has_milliseconds_and_the_time_zone() -> None:
    record = logging.makeLogRecord({"name": "switchyard.test", "levelname": "INFO", "msg": "Vietcombank offline"})
    line = json.loads(JsonFormatter().format(record))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", line["time"]), line["time"]


def test_a_call_a_node_refuses_is_one_log_line_with_its_request_id(
    bank: tuple[ParticipantNode, TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    _node, client = bank
    with caplog.at_level(logging.INFO, logger="switchyard.requests"):
        answer = client.post("/v1/inbound/transfers", content=b"{}", headers={"X-Request-Id": "napas-7731"})

    assert answer.status_code == 401 and answer.headers["x-request-id"] == "napas-7731"
    [line] = [r for r in caplog.records if r.name == "switchyard.requests"]
    assert (line.request_id, line.status, line.route) == ("napas-7731", 401, "/v1/inbound/transfers")  # type: ignore[attr-defined]
