"""A developer's own system as a participant: registered through the admin API with its base URL,
it receives signed calls from the switch and answers them, on time, with a reject, or too late."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from serve_helpers import bearer, free_port_range

from gateway.signing import SIGNATURE_HEADER, verify

DEV_BANK = "970499"
LATE_ACCOUNT = "8800000000003"
CLOSED_ACCOUNT = "8800000000002"
LATE_S = 7.0  # the switch waits 5 s for a creditor


class DevBank:
    """The external system under test: it checks every signature and records what it was told."""

    def __init__(self) -> None:
        self.secret = ""
        self.unsigned = 0
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.app = FastAPI()
        self.app.post("/v1/inbound/transfers")(self.transfer)
        self.app.post("/v1/inbound/status-reports")(self.status_report)

    async def _checked(self, request: Request) -> dict[str, Any] | None:
        body = await request.body()
        if not verify(self.secret, body, request.headers.get(SIGNATURE_HEADER)):
            self.unsigned += 1
            return None
        return json.loads(body)

    async def transfer(self, request: Request) -> Response:
        message = await self._checked(request)
        if message is None:
            return Response(status_code=401)
        self.calls.append(("transfer", message))
        status, reason = "ACSP", None
        if message["creditor_account"] == CLOSED_ACCOUNT:
            status, reason = "RJCT", "AC04"
        if message["creditor_account"] == LATE_ACCOUNT:
            await asyncio.sleep(LATE_S)
        answer = {
            "original_message_id": message["message_id"], "original_end_to_end_id": message["end_to_end_id"],
            "original_transaction_id": message["transaction_id"], "debtor_agent": message["debtor_agent"],
            "transaction_status": status, "status_reason": reason, "creditor_agent": DEV_BANK,
        }  # fmt: skip
        return JSONResponse(answer)

    async def status_report(self, request: Request) -> Response:
        message = await self._checked(request)
        if message is None:
            return Response(status_code=401)
        self.calls.append(("status", message))
        return Response(status_code=204)


@pytest.fixture(scope="module")
def dev_bank(sandbox: dict[str, Any]) -> Iterator[tuple[DevBank, str]]:
    bank = DevBank()
    port = free_port_range(1)
    server = uvicorn.Server(uvicorn.Config(bank.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    registered = httpx.post(
        sandbox["switch"] + "/v1/admin/participants",
        json={"bin": DEV_BANK, "name": "Dev Bank", "kind": "bank", "base_url": f"http://127.0.0.1:{port}"},
        headers=bearer(sandbox["admin_key"]),
    )
    assert registered.status_code == 201, registered.text
    bank.secret = registered.json()["signing_secret"]
    yield bank, registered.json()["api_key"]
    server.should_exit = True
    thread.join(timeout=5)


def pay_dev_bank(sandbox: dict[str, Any], transaction_id: str, account: str) -> httpx.Response:
    payer = sandbox["dev_payer"]
    transfer = {
        "message_id": transaction_id, "end_to_end_id": transaction_id, "transaction_id": transaction_id,
        "amount_vnd": 75_000, "debtor": {"name": "Trần Thị Mai"}, "debtor_account": payer["account"],
        "debtor_agent": payer["bin"], "creditor_account": account, "creditor_agent": DEV_BANK,
    }  # fmt: skip
    return httpx.post(sandbox["switch"] + "/v1/transfers", json=transfer, headers=bearer(payer["api_key"]), timeout=20)


def wait_for(predicate: Any, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_an_external_participant_that_accepts_is_paid_and_told_the_final_status(
    sandbox: dict[str, Any],
    dev_bank: tuple[DevBank, str],
) -> None:
    bank, _key = dev_bank
    answer = pay_dev_bank(sandbox, "DEV-OK-1", "8800000000001")
    assert answer.json()["transaction_status"] == "ACSC"
    assert wait_for(lambda: ("status", "DEV-OK-1", "ACSC") in _seen(bank))
    assert bank.unsigned == 0


def test_a_reject_from_an_external_participant_reaches_the_debtor_with_its_reason(
    sandbox: dict[str, Any],
    dev_bank: tuple[DevBank, str],
) -> None:
    answer = pay_dev_bank(sandbox, "DEV-NO-1", CLOSED_ACCOUNT)
    assert (answer.json()["transaction_status"], answer.json()["status_reason"]) == ("RJCT", "AC04")


def test_a_late_acceptance_ends_ab05_and_the_participant_is_told_to_reverse(
    sandbox: dict[str, Any],
    dev_bank: tuple[DevBank, str],
) -> None:
    bank, _key = dev_bank
    before = _liquidity(sandbox)
    answer = pay_dev_bank(sandbox, "DEV-LATE-1", LATE_ACCOUNT)
    assert (answer.json()["transaction_status"], answer.json()["status_reason"]) == ("RJCT", "AB05")
    assert wait_for(lambda: ("status", "DEV-LATE-1", "RJCT") in _seen(bank), timeout_s=20)
    assert _liquidity(sandbox) == before  # nothing moved


def test_the_external_participant_sees_its_own_transfers_only(
    sandbox: dict[str, Any],
    dev_bank: tuple[DevBank, str],
) -> None:
    _bank, key = dev_bank
    assert httpx.get(sandbox["switch"] + "/v1/transfers/DEV-OK-1", headers=bearer(key)).status_code == 404


def _seen(bank: DevBank) -> set[tuple[str, str, str]]:
    seen = set()
    for kind, message in bank.calls:
        if kind == "status":
            seen.add((kind, message["original_transaction_id"], message["transaction_status"]))
    return seen


def _liquidity(sandbox: dict[str, Any]) -> dict[str, int]:
    positions = httpx.get(sandbox["switch"] + "/v1/admin/positions", headers=bearer(sandbox["admin_key"])).json()
    return {p["bin"]: p["liquidity_vnd"] + p["reserved_vnd"] for p in positions}
