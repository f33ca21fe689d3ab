"""`switchyard certify` as an integrator runs it: a real subprocess against a participant over HTTP.

The simulated bank of `switchyard serve` passes every check, on JSON and on the ISO 20022 XML wire;
a deliberately broken participant (Dev Bank, 970499, below) fails exactly the checks it breaks, and
the JUnit XML names them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from lxml import etree
from serve_helpers import free_port_range, running_serve

from conformance.checks import CHECKS
from switch.scheme.codes import VerificationOutcome
from switch.scheme.names import compare_names, mask_name

CERTIFY_TIMEOUT_S = 120
DEV_BANK = "970499"
HOLDER = "Nguyễn Thị Thu Hà"
OPEN, CLOSED, BLOCKED = "8800000000001", "8800000000002", "8800000000003"
LATE_S = 6.0  # past the switch's 5 s


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`switchyard serve` on free ports: its simulated banks and wallets are the participants certified."""
    with running_serve(tmp_path_factory.mktemp("serve")) as document:
        yield document


def certify(out: Path, base_url: str, bin_code: str, secret: str, *options: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "switchyard.cli", "certify", "--base-url", base_url, "--bin", bin_code,
        "--secret", secret, "--out", str(out), *options,
    ]  # fmt: skip
    environment = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(command, capture_output=True, text=True, timeout=CERTIFY_TIMEOUT_S, env=environment)


def outcomes(out: Path) -> dict[str, str]:
    """Each check's outcome as the JUnit XML tells it: passed, failed or skipped."""
    suite = etree.parse(str(out / "junit.xml")).getroot().find("testsuite")
    assert suite is not None
    found = {}
    for case in suite.findall("testcase"):
        failed, skipped = case.find("failure") is not None, case.find("skipped") is not None
        found[case.get("name")] = "failed" if failed else "skipped" if skipped else "passed"
    assert int(suite.get("failures") or -1) == sum(1 for o in found.values() if o == "failed")
    return found


def every_check(outcome: str) -> dict[str, str]:
    return {check.name: outcome for check in CHECKS}


def test_a_simulated_bank_passes_every_check_on_the_json_wire(served: dict[str, Any], tmp_path: Path) -> None:
    bidv = served["participants"]["970418"]
    run = certify(tmp_path, bidv["base_url"], "970418", bidv["signing_secret"], "--wire", "json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert outcomes(tmp_path) == every_check("passed")
    assert "13 passed, 0 failed, 0 skipped of 13 checks: certified." in run.stdout
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("PASSED") == len(CHECKS)


def test_a_simulated_wallet_passes_every_check_on_the_iso20022_xml_wire(served: dict[str, Any], tmp_path: Path) -> None:
    viettel = served["participants"]["971005"]
    run = certify(tmp_path, viettel["base_url"], "971005", viettel["signing_secret"], "--wire", "iso20022-xml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert outcomes(tmp_path) == every_check("passed")


def test_the_same_participant_can_be_certified_again_with_fresh_ids(served: dict[str, Any], tmp_path: Path) -> None:
    vcb = served["participants"]["970436"]
    for attempt in ("first", "second"):
        run = certify(tmp_path / attempt, vcb["base_url"], "970436", vcb["signing_secret"])
        assert run.returncode == 0, run.stdout + run.stderr


def test_a_wrong_signing_secret_fails_every_check_that_calls_the_participant(
    served: dict[str, Any], tmp_path: Path
) -> None:
    agribank = served["participants"]["970405"]
    run = certify(tmp_path, agribank["base_url"], "970405", "not-agribank-s-secret")
    assert run.returncode == 1
    found = outcomes(tmp_path)
    assert found.pop("answers-in-time") == "passed"  # 401s come back at once
    assert found == {name: "failed" for name in found}


class BrokenBank:
    """Dev Bank's participant, broken on purpose: it ignores signatures, credits an account it does not
    hold, answers a transfer it has seen with RJCT DUPL instead of its first answer, and answers a
    credit to its closed account 6 s late. It serves no batch call. Everything else it does right."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, Any]] = {}
        self.app = FastAPI()
        self.app.post("/v1/inbound/transfers")(self.transfer)
        self.app.post("/v1/inbound/status-reports")(self.status_report)
        self.app.post("/v1/inbound/verifications")(self.verification)

    async def transfer(self, request: Request) -> Response:
        transfer = json.loads(await request.body())
        status, reason = "ACSP", None
        if transfer["creditor_account"] in (CLOSED, BLOCKED):
            status, reason = "RJCT", "AC04" if transfer["creditor_account"] == CLOSED else "AC06"
        if transfer["transaction_id"] in self.seen:
            status, reason = "RJCT", "DUPL"
        if transfer["creditor_account"] == CLOSED:
            await asyncio.sleep(LATE_S)
        answer = {
            "original_message_id": transfer["message_id"], "original_end_to_end_id": transfer["end_to_end_id"],
            "original_transaction_id": transfer["transaction_id"], "debtor_agent": transfer["debtor_agent"],
            "transaction_status": status, "status_reason": reason, "creditor_agent": DEV_BANK,
        }  # fmt: skip
        self.seen[transfer["transaction_id"]] = answer
        return JSONResponse(answer)

    async def status_report(self, request: Request) -> Response:
        json.loads(await request.body())
        return Response(status_code=204)

    async def verification(self, request: Request) -> Response:
        asked = json.loads(await request.body())
        outcome = compare_names(asked["name"], HOLDER)
        masked = mask_name(HOLDER) if outcome == VerificationOutcome.CMTC else None
        return JSONResponse(
            {"original_verification_id": asked["verification_id"], "agent": DEV_BANK, "outcome": outcome,
             "holder_name_masked": masked, "reason": "BE01" if outcome == VerificationOutcome.NMTC else None}
        )  # fmt: skip


@pytest.fixture
def broken_bank() -> Iterator[str]:
    bank = BrokenBank()
    port = free_port_range(1)
    server = uvicorn.Server(uvicorn.Config(bank.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_broken_participant_fails_exactly_the_checks_it_breaks(broken_bank: str, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[open]\naccount = "{OPEN}"\nholder_name = "{HOLDER}"\n[closed]\naccount = "{CLOSED}"\n'
        f'[blocked]\naccount = "{BLOCKED}"\n',
        encoding="utf-8",
    )
    run = certify(tmp_path / "out", broken_bank, DEV_BANK, "dev-bank-secret", "--accounts", str(accounts))
    assert run.returncode == 1, run.stdout + run.stderr
    broken = {"credit-unknown-account", "duplicate-answered-as-first", "bad-signature-refused", "answers-in-time"}
    expected = every_check("passed") | dict.fromkeys(broken, "failed") | {"batch": "skipped"}
    assert outcomes(tmp_path / "out") == expected
    suite = etree.parse(str(tmp_path / "out" / "junit.xml")).getroot().find("testsuite")
    assert suite is not None
    messages = {
        case.get("name"): case.find("failure").get("message") for case in suite if case.find("failure") is not None
    }
    assert messages["credit-unknown-account"].startswith("answered ACSP, expected RJCT AC01")
    assert messages["duplicate-answered-as-first"] == (
        "the first delivery was answered ACSP, the same one again RJCT DUPL"
    )
    assert messages["bad-signature-refused"].startswith("a credit signed with another secret got HTTP 200")
    assert "credit to the closed account in 6." in messages["answers-in-time"]
    assert "NOT certified" in run.stdout
