"""`switchyard serve --workers 4` on PostgreSQL: four switch processes, one database, no double pay."""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_helpers import bearer, register_for_welfare, running_serve

from network.storage import Storage

WORKERS = 4


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[dict[str, Any]]:
    prefix = f"e2e_{uuid.uuid4().hex[:10]}"
    options = ("--database", postgres_url, "--workers", str(WORKERS), "--schema-prefix", prefix)
    out = tmp_path_factory.mktemp("serve-pg")
    with running_serve(out, *options) as credentials:
        credentials["out"] = out
        yield credentials
    Storage(url=postgres_url, schema_prefix=prefix).drop()


def positions(sandbox: dict[str, Any]) -> dict[str, int]:
    answer = httpx.get(sandbox["switch"] + "/v1/admin/positions", headers=bearer(sandbox["admin_key"]))
    return {p["bin"]: p["liquidity_vnd"] for p in answer.json()}


def test_the_same_transfer_submitted_concurrently_to_four_workers_is_paid_once(workers: dict[str, Any]) -> None:
    vcb, bidv = workers["participants"]["970436"], workers["participants"]["970418"]
    transfer = {
        "message_id": "PG-M1", "end_to_end_id": "PG-E1", "transaction_id": "PG-DUP-1", "amount_vnd": 123_000,
        "debtor": {"name": "Nguyễn Văn Đức"}, "debtor_account": vcb["sample_accounts"][0], "debtor_agent": "970436",
        "creditor_account": bidv["sample_accounts"][1], "creditor_agent": "970418",
    }  # fmt: skip
    before = positions(workers)

    def submit(_: int) -> tuple[int, str]:
        answer = httpx.post(
            workers["switch"] + "/v1/transfers", json=transfer, headers=bearer(vcb["api_key"]), timeout=30
        )
        return answer.status_code, answer.json()["transaction_status"]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(submit, range(40)))
    assert set(answers) <= {(200, "ACSC"), (202, "PDNG")}
    after = positions(workers)
    assert (before["970436"] - after["970436"], after["970418"] - before["970418"]) == (123_000, 123_000)
    assert sum(after.values()) == sum(before.values())


def test_two_transfers_racing_for_the_last_of_a_debtors_funds_cannot_both_pass(workers: dict[str, Any]) -> None:
    admin = bearer(workers["admin_key"])
    bidv = workers["participants"]["970418"]
    registered = httpx.post(
        workers["switch"] + "/v1/admin/participants",
        json={"bin": "970498", "name": "Race Bank", "kind": "bank"},
        headers=admin,
    )
    key = registered.json()["api_key"]
    httpx.post(
        workers["switch"] + "/v1/admin/participants/970498/funds-in", json={"amount_vnd": 1_000_000}, headers=admin
    )

    def race(number: int) -> tuple[str, str | None]:
        transfer = {
            "message_id": f"RACE-{number}", "end_to_end_id": f"RACE-{number}", "transaction_id": f"RACE-{number}",
            "amount_vnd": 600_000, "debtor": {"name": "Trần Thị Mai"}, "debtor_account": "8800000000001",
            "debtor_agent": "970498", "creditor_account": bidv["sample_accounts"][2], "creditor_agent": "970418",
        }  # fmt: skip
        answer = httpx.post(workers["switch"] + "/v1/transfers", json=transfer, headers=bearer(key), timeout=30).json()
        return answer["transaction_status"], answer["status_reason"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(race, range(8)), key=str)
    assert outcomes.count(("ACSC", None)) == 1
    assert outcomes.count(("RJCT", "AM04")) == 7
    assert positions(workers)["970498"] == 400_000


def test_a_payroll_sent_to_four_workers_at_once_pays_every_registered_beneficiary_once(
    workers: dict[str, Any],
) -> None:
    """Three files posted together land on different workers; every worker then pumps every running
    batch (SKIP LOCKED shares the items out), and each holder is paid exactly once."""
    payer = bearer(workers["payer"]["api_key"])
    holders = [(b, c) for b in ("970415", "970405", "971011") for c in workers["participants"][b]["sample_customers"]]
    for number, (bin_code, holder) in enumerate(holders):
        register_for_welfare(workers, bin_code, holder, f"VNEID-PG-{number}")
    files = [
        {
            "message_id": f"PG-PAYROLL-{n}",
            "items": [
                {
                    "end_to_end_id": f"PG-P{n}-{k}",
                    "citizen_id": holder["citizen_id"],
                    "name": holder["holder_name"],
                    "amount_vnd": 500_000 + 1_000 * k,
                    "program": program,
                    "cycle": "2027-01",
                }
                for k, (_bin, holder) in enumerate(holders)
            ],
        }
        for n, program in enumerate(("elderly", "disability", "social_assistance"))
    ]
    before = positions(workers)

    def submit(body: dict[str, Any]) -> int:
        answer = httpx.post(workers["switch"] + "/v1/disbursements", json=body, headers=payer, timeout=60)
        assert answer.status_code == 201, (answer.text, server_errors(workers))
        return int(answer.json()["id"])

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        ids = list(pool.map(submit, files))
    summaries = [completed_summary(workers, payer, i) for i in ids]
    assert all(s["status"] == "completed" and s["reconciliation"]["balanced"] for s in summaries)
    assert all(s["by_status"] == {"paid": {"count": 9, "amount_vnd": 9 * 500_000 + 36_000}} for s in summaries)
    after = positions(workers)
    paid = 3 * (9 * 500_000 + 36_000)
    assert before[workers["payer"]["bin"]] - after[workers["payer"]["bin"]] == paid
    assert sum(after[b] - before[b] for b in ("970415", "970405", "971011")) == paid


def completed_summary(sandbox: dict[str, Any], payer: dict[str, str], disbursement_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        answer = httpx.get(f"{sandbox['switch']}/v1/disbursements/{disbursement_id}", headers=payer, timeout=30)
        summary: dict[str, Any] = answer.json()
        if summary["status"] != "running" or time.monotonic() > deadline:
            return summary
        time.sleep(0.25)


def server_errors(sandbox: dict[str, Any]) -> list[str]:
    """The errors the served switch logged, for a failing assertion to show."""
    log = Path(sandbox["out"]) / "serve.log"
    return [line[-2000:] for line in log.read_text().splitlines() if '"ERROR"' in line or "Traceback" in line]


def test_a_scrape_of_any_worker_counts_what_every_worker_did(workers: dict[str, Any]) -> None:
    """prometheus-client's multiprocess mode: each worker counts in files serve gave them all, so
    whichever worker answers the scrape, the transfers it reports are all of them."""
    vcb = workers["participants"]["970436"]
    refused_before = _refused_be23(workers)
    count = 24

    def submit(number: int) -> str:
        transfer = {
            "message_id": f"PG-MP-M{number}", "end_to_end_id": f"PG-MP-E{number}", "transaction_id": f"PG-MP-{number}",
            "amount_vnd": 10_000, "debtor": {"name": "Lê Thị Thu"}, "debtor_account": vcb["sample_accounts"][0],
            "debtor_agent": "970436", "creditor_alias": {"type": "citizen_id", "value": "079090054321"},
        }  # fmt: skip
        key = bearer(vcb["api_key"])
        answer = httpx.post(workers["switch"] + "/v1/transfers", json=transfer, headers=key, timeout=30)
        return str(answer.json()["status_reason"])

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        reasons = list(pool.map(submit, range(count)))
    assert reasons == ["BE23"] * count  # nobody registered that citizen id: refused at the switch, each final

    scrapes = [_refused_be23(workers) - refused_before for _ in range(2 * WORKERS)]  # new connections: any worker
    assert scrapes == [count] * len(scrapes)


def _refused_be23(workers: dict[str, Any]) -> float:
    with httpx.Client() as fresh:  # a connection of its own, so the kernel picks any worker to answer
        text = fresh.get(workers["switch"] + "/metrics").text
    for line in text.splitlines():
        if line.startswith("switchyard_transfers_total{") and 'reason="BE23"' in line and 'status="RJCT"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0
