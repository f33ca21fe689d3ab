"""The switch's admin and participant read API over HTTP (in process: FastAPI's TestClient)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gateway.ratelimit import MISS_COST, AliasLookupLimiter
from gateway.switch_app import SwitchApi, create_switch_app
from switch.node import SwitchNode
from switch.scheme.codes import AliasType, TransactionStatus, VerificationOutcome
from switch.scheme.messages import Alias, AliasRegistration, CreditTransfer, Party, StatusReport, VerificationReport
from switch.scheme.transport import Envelope

NOW = 1_796_083_200_000
ADMIN = {"Authorization": "Bearer admin-key-for-tests"}
VCB, BIDV = "970436", "970418"


@pytest.fixture
def node(engine: Engine) -> SwitchNode:
    switch = SwitchNode(engine)
    switch.setup()
    return switch


@pytest.fixture
def client(node: SwitchNode) -> Iterator[TestClient]:
    api = SwitchApi(node, admin_key="admin-key-for-tests", clock_ms=lambda: NOW, limiter=AliasLookupLimiter(rate=0))
    with TestClient(create_switch_app(api)) as http:
        yield http


def register(client: TestClient, bin_code: str, name: str, cap: int = 1_000_000_000) -> str:
    body = {"bin": bin_code, "name": name, "kind": "bank", "net_debit_cap_vnd": cap}
    answer = client.post("/v1/admin/participants", json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["api_key"])


def as_participant(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def settle_one(node: SwitchNode, transaction_id: str = "TX1") -> None:
    transfer = CreditTransfer(
        message_id="M1", end_to_end_id="E1", transaction_id=transaction_id, amount_vnd=250_000,
        debtor=Party(name="Nguyễn Văn Đức"), debtor_account="0011001234567", debtor_agent=VCB,
        creditor_account="12010000123456", creditor_agent=BIDV,
    )  # fmt: skip
    node.handle([Envelope(VCB, "switch", transfer)], NOW)
    answer = StatusReport(
        original_message_id="M1", original_end_to_end_id="E1", original_transaction_id=transaction_id,
        debtor_agent=VCB, transaction_status=TransactionStatus.ACSP, creditor_agent=BIDV,
    )  # fmt: skip
    node.handle([Envelope(BIDV, "switch", answer)], NOW + 10)


def test_registering_a_participant_returns_its_key_and_signing_secret_once(client: TestClient) -> None:
    answer = client.post(
        "/v1/admin/participants",
        json={"bin": VCB, "name": "Vietcombank", "kind": "bank", "base_url": "http://127.0.0.1:9001"},
        headers=ADMIN,
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["bin"] == VCB and body["status"] == "active" and body["base_url"] == "http://127.0.0.1:9001"
    assert len(body["api_key"]) > 30 and len(body["signing_secret"]) == 64
    listed = client.get("/v1/admin/participants", headers=ADMIN).json()
    assert [p["bin"] for p in listed] == [VCB] and "api_key" not in listed[0]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "admin-key-for-tests"}])
def test_the_admin_api_refuses_a_missing_or_wrong_key_as_problem_json(
    client: TestClient, headers: dict[str, str]
) -> None:
    answer = client.get("/v1/admin/positions", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/unauthenticated")


def test_a_participant_key_is_not_an_admin_key(client: TestClient) -> None:
    key = register(client, VCB, "Vietcombank")
    assert client.get("/v1/admin/positions", headers=as_participant(key)).status_code == 401


def test_a_duplicate_bin_is_a_conflict_naming_the_bin(client: TestClient) -> None:
    register(client, VCB, "Vietcombank")
    answer = client.post("/v1/admin/participants", json={"bin": VCB, "name": "Again", "kind": "bank"}, headers=ADMIN)
    assert answer.status_code == 409
    assert answer.json()["errors"] == [{"field": "bin", "rule": "BIN 970436 is already registered", "reason": "DUPL"}]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"amount_vnd": 1000.5}, "amount_vnd", "CH20"),
        ({"amount_vnd": 0}, "amount_vnd", "FF01"),
        ({"amount_vnd": -5}, "amount_vnd", "FF01"),
        ({"amount_vnd": "1000"}, "amount_vnd", "FF01"),
        ({"amount_vnd": 1000, "note": "x"}, "note", "FF01"),
        ({}, "amount_vnd", "FF01"),
    ],
)
def test_bad_funds_in_bodies_are_refused_naming_the_field_and_change_nothing(
    client: TestClient, body: dict[str, object], field: str, reason: str
) -> None:
    register(client, VCB, "Vietcombank")
    before = client.get("/v1/admin/positions", headers=ADMIN).json()
    answer = client.post(f"/v1/admin/participants/{VCB}/funds-in", json=body, headers=ADMIN)
    assert answer.status_code == 422
    assert [(e["field"], e["reason"]) for e in answer.json()["errors"]] == [(field, reason)]
    assert client.get("/v1/admin/positions", headers=ADMIN).json() == before


def test_funds_limits_suspension_and_positions_round_trip(client: TestClient) -> None:
    register(client, VCB, "Vietcombank", cap=0)
    position = client.post(f"/v1/admin/participants/{VCB}/funds-in", json={"amount_vnd": 5_000_000}, headers=ADMIN)
    assert position.json() == {
        "bin": VCB, "liquidity_vnd": 5_000_000, "reserved_vnd": 0, "net_debit_cap_vnd": 0, "available_vnd": 5_000_000
    }  # fmt: skip
    capped = client.put(f"/v1/admin/participants/{VCB}/limits", json={"net_debit_cap_vnd": 2_000_000}, headers=ADMIN)
    assert capped.json()["net_debit_cap_vnd"] == 2_000_000
    too_much = client.post(f"/v1/admin/participants/{VCB}/funds-out", json={"amount_vnd": 6_000_000}, headers=ADMIN)
    assert too_much.status_code == 409
    assert client.post(f"/v1/admin/participants/{VCB}/suspend", headers=ADMIN).json()["status"] == "suspended"
    assert client.post(f"/v1/admin/participants/{VCB}/resume", headers=ADMIN).json()["status"] == "active"


def test_an_unknown_participant_is_not_found_with_rc04(client: TestClient) -> None:
    answer = client.post("/v1/admin/participants/970999/suspend", headers=ADMIN)
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["reason"] == "RC04"


def test_a_participant_reads_its_own_transfer_and_nobody_elses(client: TestClient, node: SwitchNode) -> None:
    vcb, bidv = register(client, VCB, "Vietcombank"), register(client, BIDV, "BIDV")
    settle_one(node)
    mine = client.get("/v1/transfers/TX1", headers=as_participant(vcb))
    assert mine.status_code == 200
    assert mine.json()["transaction_status"] == "ACSC" and mine.json()["amount_vnd"] == 250_000
    theirs = client.get("/v1/transfers/TX1", headers=as_participant(bidv))
    assert theirs.status_code == 404 and theirs.json()["errors"][0]["reason"] == "NOOR"
    assert client.get("/v1/transfers/TX1", headers={"Authorization": "Bearer nobody"}).status_code == 401
    assert client.get("/v1/transfers/TX1").status_code == 401


def test_an_alias_look_up_gives_the_bin_and_the_masked_name_only(client: TestClient, node: SwitchNode) -> None:
    vcb = register(client, VCB, "Vietcombank")
    register(client, BIDV, "BIDV")
    alias = Alias(type=AliasType.CITIZEN_ID, value="048070012345")
    request = AliasRegistration(
        request_id="R1", alias=alias, name="Lê Văn An", citizen_id="048070012345", agent=BIDV, account="12010000123456"
    )
    node.handle([Envelope("vneid", "switch", request)], NOW)
    report = VerificationReport(original_verification_id="R1", agent=BIDV, outcome=VerificationOutcome.MTCH)
    node.handle([Envelope(BIDV, "switch", report)], NOW + 5)
    found = client.get("/v1/aliases/citizen_id/048070012345", headers=as_participant(vcb))
    assert found.status_code == 200
    assert found.json() == {"agent": BIDV, "holder_name_masked": "L* V** AN"}
    missing = client.get("/v1/aliases/citizen_id/079090054321", headers=as_participant(vcb))
    assert missing.status_code == 404 and missing.json()["errors"][0]["reason"] == "BE23"
    malformed = client.get("/v1/aliases/msisdn/0123", headers=as_participant(vcb))
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["reason"] == "FF01"


def test_probing_for_aliases_that_do_not_exist_runs_out_of_budget_with_429(client: TestClient) -> None:
    vcb = register(client, VCB, "Vietcombank")
    answers = [
        client.get(f"/v1/aliases/citizen_id/0790900{n:05d}", headers=as_participant(vcb)).status_code
        for n in range(int(100 / MISS_COST) + 2)
    ]
    assert set(answers[:9]) == {404}
    assert answers[-1] == 429


def test_a_429_says_when_to_come_back() -> None:
    limiter = AliasLookupLimiter()
    for _ in range(10):
        limiter.charge(VCB, NOW, hit=False)  # ten misses spend the whole bucket
    assert not limiter.allowed(VCB, NOW)
    assert limiter.retry_after_s(VCB, NOW) == 1  # a miss's 10 tokens come back in half a second at 20/s
    assert limiter.allowed(VCB, NOW + 1_000)


def test_the_429_answer_carries_retry_after(client: TestClient) -> None:
    vcb = register(client, VCB, "Vietcombank")
    for n in range(int(100 / MISS_COST) + 2):
        answer = client.get(f"/v1/aliases/citizen_id/0790900{n:05d}", headers=as_participant(vcb))
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) >= 1


def test_health_answers_without_a_key(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
