"""`switchyard serve --workers 4` on PostgreSQL: four switch processes, one database, no double pay."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from serve_helpers import PARTICIPANTS, START_TIMEOUT_S, bearer, free_port_range, healthy
from sqlalchemy import create_engine, text

POSTGRES_URL = os.environ.get("SWITCHYARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WORKERS = 4


def _postgres_or_skip() -> None:
    try:
        engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        message = f"PostgreSQL at {POSTGRES_URL} is not reachable: {error}"
        if os.environ.get("SWITCHYARD_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"SWITCHYARD_REQUIRE_POSTGRES=1 but {message}")
        pytest.skip(message)


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    _postgres_or_skip()
    out = tmp_path_factory.mktemp("serve-pg")
    prefix = f"e2e_{uuid.uuid4().hex[:10]}"
    port = free_port_range(PARTICIPANTS + 1)
    command = [
        sys.executable, "-m", "scenarios.cli", "serve", "--port", str(port), "--out", str(out),
        "--database", POSTGRES_URL, "--workers", str(WORKERS), "--schema-prefix", prefix,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    credentials = out / "credentials.json"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (credentials.exists() and healthy(f"http://127.0.0.1:{port}")):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"serve did not start: {process.stdout.read() if process.stdout else ''}")
        time.sleep(0.2)
    yield json.loads(credentials.read_text())
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        names = conn.execute(
            text("select schema_name from information_schema.schemata where schema_name like :p"), {"p": prefix + "%"}
        ).scalars()
        for name in list(names):
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


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
