"""The switch outlives its participants (issue 14 item 3): the participants' process is killed
(SIGKILL) while `switchyard serve` runs; the switch goes on answering, a transfer to a participant
that is down ends with a final status (RJCT AB08, never HTTP 500), serve starts the participants
again and says so, and once they are back transfers settle and the books agree."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from serve_helpers import assert_books_agree, bearer, healthy, register_dev_payer, running_serve

BACK_S = 60.0


def participants_process(serve_pid: int) -> psutil.Process:
    [found] = [
        p for p in psutil.Process(serve_pid).children(recursive=True) if "gateway.participants_process" in p.cmdline()
    ]
    return found


def transfer(payer: dict[str, str], creditor_account: str, transaction_id: str) -> dict[str, Any]:
    return {
        "message_id": f"M-{transaction_id}", "end_to_end_id": f"E-{transaction_id}", "transaction_id": transaction_id,
        "amount_vnd": 50_000, "debtor": {"name": "Nguyễn Văn Đức"}, "debtor_account": payer["account"],
        "debtor_agent": payer["bin"], "creditor_account": creditor_account, "creditor_agent": "970418",
    }  # fmt: skip


def test_the_switch_outlives_a_participant_crash_and_starts_the_participants_again(tmp_path: Path) -> None:
    with running_serve(tmp_path) as sandbox:
        payer = register_dev_payer(sandbox)
        bidv = sandbox["participants"]["970418"]
        send = sandbox["switch"] + "/v1/transfers"
        first = participants_process(sandbox["serve_pid"])

        first.kill()
        first.wait(timeout=10)
        answer = httpx.post(send, json=transfer(payer, bidv["sample_accounts"][1], "CRASH-1"),
                            headers=bearer(payer["api_key"]), timeout=30)  # fmt: skip

        assert answer.status_code == 200, answer.text
        assert (answer.json()["transaction_status"], answer.json()["status_reason"]) == ("RJCT", "AB08")
        assert healthy(sandbox["switch"])
        deadline = time.monotonic() + BACK_S
        while not healthy(bidv["base_url"]):
            assert time.monotonic() < deadline, "the participants were not started again"
            time.sleep(0.2)
        assert participants_process(sandbox["serve_pid"]).pid != first.pid
        again = httpx.post(send, json=transfer(payer, bidv["sample_accounts"][1], "CRASH-2"),
                           headers=bearer(payer["api_key"]), timeout=30)  # fmt: skip
        assert again.json()["transaction_status"] == "ACSC"
        assert_books_agree(sandbox)
        assert "Starting it again" in (tmp_path / "serve.log").read_text()
