"""conformance.checks against a participant that lives in the test (httpx's MockTransport): each check
judges what the participant answered, the close-match name is a close match for any holder, and the
command exits 2 for accounts it cannot use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.accounts import Account, Accounts, OpenAccount
from conformance.checks import CHECKS, Status, close_variant, run_checks
from conformance.client import ParticipantClient
from gateway.signing import SIGNATURE_HEADER, verify
from network.participants import sample_population
from switch.scheme.codes import VerificationOutcome, WireFormat
from switch.scheme.names import compare_names, mask_name
from switchyard.cli import main

SECRET = "dev-bank-signing-secret"
ACCOUNTS = Accounts(
    open=OpenAccount(account="8800000000001", holder_name="Nguyễn Thị Thu Hà"),
    closed=Account(account="8800000000002"),
    blocked=Account(account="8800000000003"),
)
REFUSED = {"8800000000002": "AC04", "8800000000003": "AC06"}
NAMES = [person.name for person in sample_population().people()[:500]]


class DevBank:
    """A small participant: right on every count unless told `keeps_refused_calls`."""

    def __init__(self, keeps_refused_calls: bool = False) -> None:
        self.keeps_refused_calls = keeps_refused_calls
        self.seen: dict[str, dict[str, Any]] = {}
        self.reports: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        message = json.loads(body)
        signed = verify(SECRET, body, request.headers.get(SIGNATURE_HEADER))
        if request.url.path.endswith("/transfers"):
            answer = self._credit(message) if signed or self.keeps_refused_calls else {}
            return httpx.Response(200 if signed else 401, json=answer if signed else {"title": "bad signature"})
        if not signed:
            return httpx.Response(401, json={"title": "bad signature"})
        if request.url.path.endswith("/status-reports"):
            self.reports.append(message)
            return httpx.Response(204)
        if request.url.path.endswith("/verifications"):
            return httpx.Response(200, json=self._verification(message))
        return httpx.Response(404, json={"title": "Not Found"})

    def _credit(self, transfer: dict[str, Any]) -> dict[str, Any]:
        key = transfer["transaction_id"]
        if key not in self.seen:
            account = transfer["creditor_account"]
            reason = REFUSED.get(account) or (None if account == ACCOUNTS.open.account else "AC01")
            self.seen[key] = {
                "original_message_id": transfer["message_id"], "original_end_to_end_id": transfer["end_to_end_id"],
                "original_transaction_id": key, "debtor_agent": transfer["debtor_agent"],
                "transaction_status": "RJCT" if reason else "ACSP", "status_reason": reason,
            }  # fmt: skip
        return self.seen[key]

    def _verification(self, request: dict[str, Any]) -> dict[str, Any]:
        outcome = compare_names(request["name"], ACCOUNTS.open.holder_name)
        masked = mask_name(ACCOUNTS.open.holder_name) if outcome == VerificationOutcome.CMTC else None
        return {"original_verification_id": request["verification_id"], "agent": "970499", "outcome": outcome,
                "holder_name_masked": masked}  # fmt: skip


def _certify(bank: DevBank) -> dict[str, tuple[Status, str]]:
    transport = httpx.MockTransport(bank)
    client = ParticipantClient(
        "http://dev-bank.test", "970499", SECRET, WireFormat.JSON, httpx.Client(transport=transport)
    )
    return {r.check.name: (r.outcome.status, r.outcome.why) for r in run_checks(client, ACCOUNTS)}


def test_a_participant_right_on_every_count_passes_and_its_batch_call_is_skipped_as_not_offered() -> None:
    outcomes = _certify(DevBank())
    assert {name: status for name, (status, _why) in outcomes.items()} == {
        check.name: Status.SKIPPED if check.name == "batch" else Status.PASSED for check in CHECKS
    }
    assert outcomes["batch"][1] == "not offered: POST /v1/inbound/batches answered 404"


def test_the_credits_the_checks_left_accepted_are_voided_at_the_end() -> None:
    bank = DevBank()
    _certify(bank)
    accepted = {key for key, answer in bank.seen.items() if answer["transaction_status"] == "ACSP"}
    finished: dict[str, list[str]] = {}
    for report in bank.reports:
        finished.setdefault(report["original_transaction_id"], []).append(report["transaction_status"])
    assert set(finished) == accepted  # every accepted credit was finished, none left open
    assert sorted(finished.values()) == [["ACSC", "ACSC"], *[["RJCT"]] * (len(accepted) - 1)]


def test_a_participant_that_refuses_a_bad_signature_but_keeps_the_call_fails_that_check_alone() -> None:
    outcomes = _certify(DevBank(keeps_refused_calls=True))
    assert outcomes["bad-signature-refused"][0] == Status.FAILED
    assert "kept the call" in outcomes["bad-signature-refused"][1]
    assert [name for name, (status, _why) in outcomes.items() if status == Status.FAILED] == ["bad-signature-refused"]


def test_an_unreachable_participant_fails_every_check_it_calls_naming_the_transport_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = ParticipantClient(
        "http://127.0.0.1:9", "970499", SECRET, WireFormat.JSON, httpx.Client(transport=httpx.MockTransport(refuse))
    )
    results = run_checks(client, ACCOUNTS)
    assert {r.outcome.status for r in results} == {Status.FAILED}
    assert "ConnectError: connection refused" in results[0].outcome.why


@given(st.sampled_from(NAMES))
def test_the_close_variant_of_any_holder_s_name_is_a_close_match_not_a_match(name: str) -> None:
    assert compare_names(close_variant(name), name) == VerificationOutcome.CMTC


def test_the_close_variant_is_the_last_letter_typed_twice() -> None:
    assert close_variant("Nguyễn Văn Đức") == "Nguyễn Văn Đứcc"


def test_the_command_exits_2_naming_the_key_of_a_bad_accounts_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[open]\naccount = "8800000000001"\n[closed]\naccount = "8800000000002"\n', encoding="utf-8")
    code = main(["certify", "--base-url", "http://127.0.0.1:9", "--bin", "970499", "--secret", SECRET,
                 "--accounts", str(accounts), "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 2
    error = capsys.readouterr().err
    assert f"{accounts}: open.holder_name: Field required" in error
    assert f"{accounts}: blocked: Field required" in error
    assert not (tmp_path / "out").exists()  # nothing was called, nothing written


def test_the_command_exits_2_for_a_bin_that_is_not_six_digits(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["certify", "--base-url", "http://127.0.0.1:9", "--bin", "97041", "--secret", SECRET])
    assert stopped.value.code == 2
