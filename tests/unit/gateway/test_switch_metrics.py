"""Observability that serves an operator (issue 14 item 10): the switch's `/metrics` reads positions
against caps, disbursement items by status and transfers in flight from its database when scraped,
counts alias look-ups by outcome (429s included) and the latency of its calls to participants; every
request carries a request id, and each refused one is one log line naming it, the field and the rule."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator

import aiohttp
import pytest
from fastapi.testclient import TestClient
from live import free_socket, url_of
from sqlalchemy import Engine

from gateway.dispatch import HttpDispatcher, Peer
from gateway.observe import REQUEST_ID_HEADER, JsonFormatter, SwitchMetrics
from gateway.ratelimit import MISS_COST, AliasLookupLimiter
from gateway.switch_app import SwitchApi, create_switch_app
from switch.node import SwitchNode
from switch.scheme.codes import ItemStatus
from switch.scheme.messages import CreditTransfer, Party
from switch.scheme.transport import SWITCH_ADDRESS, Envelope

NOW = 1_796_083_200_000
ADMIN_KEY = "admin-key-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
VIETCOMBANK, BIDV = "970436", "970418"


@pytest.fixture
def node(engine: Engine) -> SwitchNode:
    switch = SwitchNode(engine)
    switch.setup()
    return switch


@pytest.fixture
def client(node: SwitchNode) -> Iterator[TestClient]:
    limiter = AliasLookupLimiter(capacity=2 * MISS_COST, rate=0)  # two misses, then 429
    api = SwitchApi(node, ADMIN_KEY, clock_ms=lambda: NOW, limiter=limiter, metrics=SwitchMetrics(node))
    with TestClient(create_switch_app(api)) as http:
        yield http


def register(client: TestClient, bin_code: str, name: str, cap_vnd: int) -> str:
    body = {"bin": bin_code, "name": name, "kind": "bank", "net_debit_cap_vnd": cap_vnd}
    answer = client.post("/v1/admin/participants", json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["api_key"])


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of a Prometheus text scrape, labels in any order."""
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match is None:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if found == labels:
            return float(match.group(2))
    raise AssertionError(f"no sample {name}{labels} in the scrape")


def test_a_scrape_shows_each_participants_position_against_its_net_debit_cap(
    client: TestClient, node: SwitchNode
) -> None:
    register(client, VIETCOMBANK, "Vietcombank", cap_vnd=2_000_000)
    register(client, BIDV, "BIDV", cap_vnd=5_000_000)
    transfer = CreditTransfer(
        message_id="M1", end_to_end_id="E1", transaction_id="VCB-PENDING-1", amount_vnd=1_500_000,
        debtor=Party(name="Nguyễn Văn Đức"), debtor_account="0011001234567", debtor_agent=VIETCOMBANK,
        creditor_account="12010000123456", creditor_agent=BIDV,
    )  # fmt: skip
    node.handle([Envelope(VIETCOMBANK, SWITCH_ADDRESS, transfer)], NOW)  # forwarded, waiting for BIDV

    text = client.get("/metrics").text

    assert sample(text, "switchyard_participant_net_debit_cap_vnd", participant=VIETCOMBANK) == 2_000_000
    assert sample(text, "switchyard_participant_reserved_vnd", participant=VIETCOMBANK) == 1_500_000
    assert sample(text, "switchyard_participant_available_vnd", participant=VIETCOMBANK) == 500_000
    assert sample(text, "switchyard_participant_net_debit_cap_used_ratio", participant=VIETCOMBANK) == 0.75
    assert sample(text, "switchyard_participant_net_debit_cap_used_ratio", participant=BIDV) == 0.0
    assert sample(text, "switchyard_transfers_in_flight") == 1


def test_a_scrape_shows_disbursement_items_by_every_status_even_before_the_first_payroll(client: TestClient) -> None:
    text = client.get("/metrics").text
    for status in ItemStatus:
        assert sample(text, "switchyard_disbursement_items", status=status.value) == 0
        assert sample(text, "switchyard_disbursement_items_vnd", status=status.value) == 0


def test_alias_look_ups_that_miss_and_those_refused_429_are_counted_apart(client: TestClient) -> None:
    key = register(client, VIETCOMBANK, "Vietcombank", cap_vnd=1_000_000_000)
    participant = {"Authorization": f"Bearer {key}"}

    misses = [client.get("/v1/aliases/citizen_id/079090054321", headers=participant).status_code for _ in range(3)]

    assert misses == [404, 404, 429]
    text = client.get("/metrics").text
    assert sample(text, "switchyard_alias_lookups_total", outcome="not_found") == 2
    assert sample(text, "switchyard_alias_lookups_total", outcome="throttled") == 1


def test_every_answer_carries_a_request_id_and_a_plain_one_from_the_caller_is_kept(client: TestClient) -> None:
    generated = client.get("/health")
    kept = client.get("/health", headers={REQUEST_ID_HEADER: "vcb-2026-12-02-000187"})
    refused = client.get("/health", headers={REQUEST_ID_HEADER: "<script>"})  # not plain: replaced

    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers[REQUEST_ID_HEADER])
    assert kept.headers[REQUEST_ID_HEADER] == "vcb-2026-12-02-000187"
    assert refused.headers[REQUEST_ID_HEADER] != "<script>"


def test_a_refused_request_is_one_log_line_with_its_request_id_field_and_rule(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"bin": "97043", "name": "Vietcombank", "kind": "bank", "net_debit_cap_vnd": 1_000}
    with caplog.at_level(logging.INFO, logger="switchyard.requests"):
        answer = client.post("/v1/admin/participants", json=body, headers={**ADMIN, REQUEST_ID_HEADER: "ops-42"})
        client.get("/health")  # answered: no line

    assert answer.status_code == 422
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "switchyard.requests"]
    assert len(lines) == 1, lines
    line = lines[0]
    assert line["message"] == "request refused" and line["request_id"] == "ops-42"
    assert line["status"] == 422 and line["method"] == "POST" and line["route"] == "/v1/admin/participants"
    assert {"field": "bin", "rule": line["errors"][0]["rule"]} in line["errors"]


def test_a_request_without_a_key_is_logged_as_refused_before_its_body_is_read(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="switchyard.requests"):
        answer = client.post("/v1/transfers", content=b"{not json", headers={REQUEST_ID_HEADER: "stranger-1"})

    assert answer.status_code == 401
    [line] = [r for r in caplog.records if r.name == "switchyard.requests"]
    assert line.request_id == "stranger-1" and line.status == 401  # type: ignore[attr-defined]


def test_the_switchs_calls_to_a_participant_that_cannot_be_reached_are_timed_as_unreachable() -> None:
    calls: list[tuple[str, str, str]] = []

    async def call_nobody() -> None:
        with free_socket() as sock:
            base_url = url_of(sock)  # a port nobody listens on once the socket closes
        async with aiohttp.ClientSession() as session:

            async def deliver(_envelope: Envelope) -> None:
                return None

            peer = Peer(base_url, signing_secret="a1" * 32)
            dispatcher = HttpDispatcher(
                SWITCH_ADDRESS, {BIDV: peer}.get, deliver, session,
                on_call=lambda receiver, path, outcome, _s: calls.append((receiver, path, outcome)),
            )  # fmt: skip
            transfer = CreditTransfer(
                message_id="M2", end_to_end_id="E2", transaction_id="VCB-2", amount_vnd=300_000,
                debtor=Party(name="Phạm Thị Mai"), debtor_account="0011001234567", debtor_agent=VIETCOMBANK,
                creditor_account="12010000123456", creditor_agent=BIDV,
            )  # fmt: skip
            await dispatcher.send(Envelope(SWITCH_ADDRESS, BIDV, transfer))

    asyncio.run(call_nobody())

    assert calls == [(BIDV, "/v1/inbound/transfers", "unreachable")] * 3  # three attempts, each observed
