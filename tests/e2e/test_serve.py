"""`switchyard serve` as a developer meets it: a subprocess on free ports, real HTTP between nodes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_helpers import bearer, running_serve, total_liquidity

from switch.scheme.names import mask_name


def test_a_customer_payment_crosses_three_nodes_over_http_and_settles(sandbox: dict[str, Any]) -> None:
    vcb, bidv = sandbox["participants"]["970436"], sandbox["participants"]["970418"]
    before = total_liquidity(sandbox)
    order = {
        "order_id": "E2E-ORDER-1", "debtor_account": vcb["sample_accounts"][0], "amount_vnd": 150_000,
        "creditor_agent": "970418", "creditor_account": bidv["sample_accounts"][1],
    }  # fmt: skip
    customer = bearer(vcb["customer_key"])
    assert httpx.post(vcb["base_url"] + "/v1/payments", json=order).status_code == 401  # the channel is keyed
    assert httpx.post(vcb["base_url"] + "/v1/payments", json=order, headers=bearer(vcb["api_key"])).status_code == 401
    assert httpx.post(vcb["base_url"] + "/v1/payments", json=order, headers=customer).status_code == 202
    deadline = time.monotonic() + 10
    payment: dict[str, Any] = {}
    while time.monotonic() < deadline:
        payment = httpx.get(vcb["base_url"] + "/v1/payments/E2E-ORDER-1", headers=customer).json()
        if payment.get("status") == "settled":
            break
        time.sleep(0.1)
    assert payment["status"] == "settled"
    at_switch = httpx.get(sandbox["switch"] + "/v1/transfers/E2E-ORDER-1", headers=bearer(vcb["api_key"])).json()
    assert (at_switch["transaction_status"], at_switch["amount_vnd"]) == ("ACSC", 150_000)
    assert total_liquidity(sandbox) == before  # money moved between positions, none made or lost


def test_a_transfer_sent_to_the_switch_is_answered_with_its_final_status(sandbox: dict[str, Any]) -> None:
    vcb, bidv = sandbox["dev_payer"], sandbox["participants"]["970418"]
    transfer = {
        "message_id": "E2E-M2", "end_to_end_id": "E2E-E2", "transaction_id": "E2E-T2", "amount_vnd": 1_000,
        "debtor": {"name": "Nguyễn Văn Đức"}, "debtor_account": vcb["account"], "debtor_agent": vcb["bin"],
        "creditor_account": bidv["sample_accounts"][2], "creditor_agent": "970418",
    }  # fmt: skip
    answer = httpx.post(sandbox["switch"] + "/v1/transfers", json=transfer, headers=bearer(vcb["api_key"]), timeout=15)
    assert answer.status_code == 200
    assert answer.json()["transaction_status"] == "ACSC"
    again = httpx.post(sandbox["switch"] + "/v1/transfers", json=transfer, headers=bearer(vcb["api_key"]), timeout=15)
    assert again.json()["transaction_status"] == "ACSC"  # the same id and content: the same answer, paid once
    other = httpx.post(
        sandbox["switch"] + "/v1/transfers",
        json={**transfer, "amount_vnd": 2_000},
        headers=bearer(vcb["api_key"]),
        timeout=15,
    )
    assert (other.json()["transaction_status"], other.json()["status_reason"]) == ("RJCT", "DUPL")


@pytest.mark.parametrize(
    ("change", "status", "field", "reason"),
    [
        ({"amount_vnd": 1000.5}, 422, "amount_vnd", "CH20"),
        ({"amount_vnd": -1}, 422, "amount_vnd", "FF01"),
        ({"transaction_id": "T" * 36}, 422, "transaction_id", "FF01"),
        ({"debtor_agent": "970418"}, 403, "debtor_agent", None),
    ],
)
def test_bad_transfers_are_refused_naming_the_field(
    sandbox: dict[str, Any], change: dict[str, Any], status: int, field: str, reason: str | None
) -> None:
    vcb = sandbox["participants"]["970436"]
    transfer = {
        "message_id": "E2E-M3", "end_to_end_id": "E2E-E3", "transaction_id": "E2E-T3", "amount_vnd": 1_000,
        "debtor": {"name": "Nguyễn Văn Đức"}, "debtor_account": vcb["sample_accounts"][1], "debtor_agent": "970436",
        "creditor_account": "9704180000002", "creditor_agent": "970418",
    }  # fmt: skip
    answer = httpx.post(
        sandbox["switch"] + "/v1/transfers", json={**transfer, **change}, headers=bearer(vcb["api_key"]), timeout=15
    )
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == field
    if reason:
        assert answer.json()["errors"][0]["reason"] == reason


@pytest.mark.parametrize("key", ["", "wrong-key"])
def test_the_participant_api_refuses_a_missing_or_wrong_key(sandbox: dict[str, Any], key: str) -> None:
    answer = httpx.get(sandbox["switch"] + "/v1/transfers/E2E-T2", headers=bearer(key) if key else {})
    assert answer.status_code == 401


def test_an_inbound_call_without_the_switchs_signature_is_refused(sandbox: dict[str, Any]) -> None:
    bidv = sandbox["participants"]["970418"]
    answer = httpx.post(
        bidv["base_url"] + "/v1/inbound/status-reports", content=b"{}", headers={"X-Switchyard-Signature": "sha256=00"}
    )
    assert answer.status_code == 401


def test_metrics_count_final_transfers_by_status_and_reason_in_prometheus_format(sandbox: dict[str, Any]) -> None:
    vcb = sandbox["participants"]["970436"]
    refused = {
        "message_id": "E2E-M4", "end_to_end_id": "E2E-E4", "transaction_id": "E2E-T4", "amount_vnd": 1_000,
        "debtor": {"name": "Nguyễn Văn Đức"}, "debtor_account": vcb["sample_accounts"][1], "debtor_agent": "970436",
        "creditor_alias": {"type": "citizen_id", "value": "079090054321"},
    }  # fmt: skip
    answer = httpx.post(sandbox["switch"] + "/v1/transfers", json=refused, headers=bearer(vcb["api_key"]), timeout=15)
    assert (answer.json()["transaction_status"], answer.json()["status_reason"]) == ("RJCT", "BE23")
    metrics = httpx.get(sandbox["switch"] + "/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert 'switchyard_transfers_total{reason="BE23",status="RJCT"}' in metrics.text
    assert "switchyard_transfers_in_flight 0.0" in metrics.text
    assert 'switchyard_http_request_seconds_count{method="POST",route="/v1/transfers"' in metrics.text


def test_metrics_time_the_switchs_calls_to_each_participant_and_show_positions_against_caps(
    sandbox: dict[str, Any],
) -> None:
    vcb, bidv = sandbox["participants"]["970436"], sandbox["participants"]["970418"]
    order = {
        "order_id": "E2E-ORDER-CALLS", "debtor_account": vcb["sample_accounts"][0], "amount_vnd": 120_000,
        "creditor_agent": "970418", "creditor_account": bidv["sample_accounts"][0],
    }  # fmt: skip
    customer = bearer(vcb["customer_key"])
    assert httpx.post(vcb["base_url"] + "/v1/payments", json=order, headers=customer).status_code == 202
    deadline, status = time.monotonic() + 10, None
    while status != "settled" and time.monotonic() < deadline:
        status = httpx.get(vcb["base_url"] + "/v1/payments/E2E-ORDER-CALLS", headers=customer).json().get("status")
        time.sleep(0.1)
    assert status == "settled"

    text = httpx.get(sandbox["switch"] + "/metrics").text

    calls = [line for line in text.splitlines() if line.startswith("switchyard_participant_call_seconds_count")]
    assert any('participant="970418"' in line and 'outcome="2xx"' in line for line in calls), calls
    assert 'switchyard_participant_net_debit_cap_vnd{participant="970436"}' in text
    assert 'switchyard_disbursement_items{status="paid"}' in text
    assert "request_id" not in text and vcb["sample_accounts"][0] not in text  # counts, never ids


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(sandbox: dict[str, Any]) -> None:
    vcb = sandbox["participants"]["970436"]
    answer = httpx.post(
        sandbox["switch"] + "/v1/transfers", content=b"{" + b" " * 70_000 + b"}", headers=bearer(vcb["api_key"])
    )
    assert answer.status_code == 413
    assert answer.json()["type"].endswith("/too-large")


HOLDER = "(the holder's name)"


@pytest.mark.parametrize(
    ("account", "name", "agent", "outcome", "reason"),
    [
        ("9704180000001", HOLDER, "970418", "MTCH", None),
        ("9704180000001", "Trần Thị Mai", "970418", "NMTC", "BE01"),
        ("9704189999999", HOLDER, "970418", "NMTC", "AC01"),
        ("9704180000001", HOLDER, "970407", "NMTC", "RC04"),
    ],
)
def test_a_participant_verifies_an_account_at_another_before_paying(
    sandbox: dict[str, Any], account: str, name: str, agent: str, outcome: str, reason: str | None
) -> None:
    vcb = sandbox["participants"]["970436"]
    if name == HOLDER:  # the name of BIDV's sample account 1, a person of serve's population
        name = sandbox["participants"]["970418"]["sample_customers"][1]["holder_name"].title()
    request = {
        "verification_id": f"VOP-{account}-{agent}-{len(name)}",
        "agent": agent,
        "account": account,
        "name": name,
    }
    answer = httpx.post(
        sandbox["switch"] + "/v1/verifications", json=request, headers=bearer(vcb["api_key"]), timeout=15
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["outcome"], answer.json()["reason"]) == (outcome, reason)
    assert answer.json()["original_verification_id"] == request["verification_id"]


def test_a_citizen_registers_reads_and_removes_the_account_that_receives_welfare(sandbox: dict[str, Any]) -> None:
    citizen = {"Authorization": f"Bearer {sandbox['citizen_app_key']}"}
    switch, bidv = sandbox["switch"], sandbox["participants"]["970418"]
    holder = bidv["sample_customers"][0]  # a person of population.csv with an account at BIDV
    citizen_id = holder["citizen_id"]
    request = {
        "request_id": "VNEID-E2E-1", "alias": {"type": "citizen_id", "value": citizen_id},
        "name": holder["holder_name"].title(), "citizen_id": citizen_id, "agent": "970418",
        "account": holder["account"],
    }  # fmt: skip
    registered = httpx.post(switch + "/v1/aliases", json=request, headers=citizen, timeout=15)
    assert registered.status_code == 200, registered.text
    assert (registered.json()["outcome"], registered.json()["verification"]) == ("registered", "MTCH")
    mine = httpx.get(
        switch + f"/v1/aliases/citizen_id/{citizen_id}/registration?citizen_id={citizen_id}", headers=citizen
    )
    assert mine.json()["account"] == request["account"] and mine.json()["history"][0]["action"] == "registered"
    other = httpx.get(
        switch + f"/v1/aliases/citizen_id/{citizen_id}/registration?citizen_id=079185012345", headers=citizen
    )
    assert other.status_code == 404
    vcb = sandbox["participants"]["970436"]
    seen = httpx.get(switch + f"/v1/aliases/citizen_id/{citizen_id}", headers=bearer(vcb["api_key"]))
    assert seen.json() == {"agent": "970418", "holder_name_masked": mask_name(holder["holder_name"])}
    removal = {"request_id": "VNEID-E2E-2", "alias": request["alias"], "citizen_id": citizen_id}
    removed = httpx.post(switch + "/v1/aliases/removals", json=removal, headers=citizen, timeout=15)
    assert removed.json()["outcome"] == "removed"
    gone = httpx.get(switch + f"/v1/aliases/citizen_id/{citizen_id}", headers=bearer(vcb["api_key"]))
    assert gone.status_code == 404


def test_a_creditor_nobody_answers_for_ends_ab08_not_ab05(sandbox: dict[str, Any]) -> None:
    admin, payer = bearer(sandbox["admin_key"]), sandbox["dev_payer"]
    offline = {"bin": "970496", "name": "Offline Bank", "kind": "bank", "base_url": "http://127.0.0.1:9"}
    assert httpx.post(sandbox["switch"] + "/v1/admin/participants", json=offline, headers=admin).status_code == 201
    before = httpx.get(sandbox["switch"] + "/v1/admin/positions", headers=admin).json()
    transfer = {
        "message_id": "E2E-M8", "end_to_end_id": "E2E-E8", "transaction_id": "E2E-T8", "amount_vnd": 5_000,
        "debtor": {"name": "Nguyễn Văn Đức"}, "debtor_account": payer["account"], "debtor_agent": payer["bin"],
        "creditor_account": "7700000000001", "creditor_agent": "970496",
    }  # fmt: skip
    answer = httpx.post(
        sandbox["switch"] + "/v1/transfers", json=transfer, headers=bearer(payer["api_key"]), timeout=15
    )
    # AB08, not AB05: a refused connection is reported as such, not waited out like a slow bank
    assert (answer.json()["transaction_status"], answer.json()["status_reason"]) == ("RJCT", "AB08")
    after = httpx.get(sandbox["switch"] + "/v1/admin/positions", headers=admin).json()
    assert [p for p in after if p["bin"] != "970496"] == [p for p in before if p["bin"] != "970496"]


def test_the_simulated_participants_end_when_serve_is_killed(tmp_path: Path) -> None:
    """They run in a process of their own; killed with SIGKILL, serve cannot stop them itself."""
    with running_serve(tmp_path) as credentials:
        participants = _pids(f"gateway.participants_process {tmp_path}")
        assert len(participants) == 1
        assert httpx.get(credentials["participants"]["970418"]["base_url"] + "/health").status_code == 200
        for pid in _pids(f"switchyard.cli serve --port .* --out {tmp_path}"):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while _pids(f"gateway.participants_process {tmp_path}") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _pids(f"gateway.participants_process {tmp_path}") == []


def _pids(pattern: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False)
    return [int(pid) for pid in found.stdout.split()]
