"""`switchyard payroll` killed with SIGKILL at seeded random moments, then run again with the same
arguments: it resumes, finishes, and pays exactly whom an uninterrupted run pays, each once.

The kill moments come from `random.Random(KILL_SEED)` as fractions of the phases of an
uninterrupted run measured here (its wall time, and when its preparation was done, which is when
`prepared.json` appears): two anywhere in the run, one while paying, and one case crashed twice
in a row (once while preparing, then the restart while paying).
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SWITCHYARD = [sys.executable, "-m", "switchyard.cli"]
BENEFICIARIES = 8_000
ITEMS_PER_FILE = 2_000
PAYROLL_SEED = 7
KILL_SEED = 2026
TREASURY_BIN = "999999"
FIRST_KILL_S = 0.5  # not before the interpreter has started
LATEST_SHARE = 0.9  # a run faster than the measured one may still finish first: see crash_as_planned
RUN_TIMEOUT_S = 120
KILL_ATTEMPTS = 3
UNFINISHED = ("queued", "sent", "retry")
RETRYABLE = ("AB05", "AB08")  # timed out or agent offline: retried, then the cash list


def payroll_command(out: Path) -> list[str]:
    return [
        *SWITCHYARD, "payroll", "--beneficiaries", str(BENEFICIARIES), "--items-per-file", str(ITEMS_PER_FILE),
        "--seed", str(PAYROLL_SEED), "--out", str(out),
    ]  # fmt: skip


def start(out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(payroll_command(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    assert process.returncode == 0, f"exit {process.returncode}: {stderr[-3000:]}\n{stdout[-2000:]}"
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, f"one JSON line expected, got {stdout!r}"
    result: dict[str, Any] = json.loads(lines[0])
    return result


@dataclass(frozen=True, slots=True)
class Baseline:
    out: Path
    result: dict[str, Any]
    wall_s: float
    prepared_s: float  # when prepared.json appeared: preparation done, files about to be submitted


@dataclass(frozen=True, slots=True)
class Kill:
    after_prepared: bool  # counted from the moment prepared.json appears, not from the start
    delay_s: float


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """An uninterrupted run with the same seed in its own folder, timed."""
    out = tmp_path_factory.mktemp("uninterrupted")
    began = time.monotonic()
    process = start(out)
    prepared_s = 0.0
    while process.poll() is None:
        if not prepared_s and (out / "prepared.json").exists():
            prepared_s = time.monotonic() - began
        time.sleep(0.01)
    wall_s = time.monotonic() - began
    result = finish(process)
    assert result["ok"] is True, result["failures"]
    assert prepared_s, "prepared.json never appeared during the run"
    return Baseline(out, result, wall_s, prepared_s)


def kill_plans(baseline: Baseline) -> dict[str, list[Kill]]:
    rng = random.Random(KILL_SEED)
    paying_s = baseline.wall_s - baseline.prepared_s

    def anywhere() -> Kill:
        return Kill(False, rng.uniform(FIRST_KILL_S, max(FIRST_KILL_S, LATEST_SHARE * baseline.wall_s)))

    def preparing() -> Kill:
        return Kill(False, rng.uniform(FIRST_KILL_S, max(FIRST_KILL_S, 0.9 * baseline.prepared_s)))

    def paying() -> Kill:
        return Kill(True, rng.uniform(0.0, LATEST_SHARE * paying_s))

    return {
        "anywhere-1": [anywhere()],
        "anywhere-2": [anywhere()],
        "paying": [paying()],
        "twice": [preparing(), paying()],
    }


def crash(out: Path, kill: Kill, scale: float) -> str | None:
    """Start the payroll in `out` and SIGKILL it at the planned moment (its delay times `scale`);
    says how far it had got, or None if it finished first (this machine was faster than measured)."""
    process = start(out)
    began = time.monotonic()
    delay_s = kill.delay_s * scale
    if kill.after_prepared:
        while not (out / "prepared.json").exists() and process.poll() is None:
            time.sleep(0.005)
        began = time.monotonic()
    else:
        delay_s = max(FIRST_KILL_S, delay_s)
    while process.poll() is None and time.monotonic() - began < delay_s:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    _stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    if process.returncode == 0:
        return None
    assert process.returncode == -signal.SIGKILL, f"exit {process.returncode} before the kill: {stderr[-3000:]}"
    return phase(out)


def crash_as_planned(out: Path, plan: list[Kill]) -> list[str]:
    """The kills of the plan one after another on the same folder; should a run finish before its
    kill, the plan starts again from nothing with every delay halved."""
    for attempt in range(KILL_ATTEMPTS):
        shutil.rmtree(out, ignore_errors=True)
        phases = []
        for kill in plan:
            reached = crash(out, kill, 0.5**attempt)
            if reached is None:
                break
            phases.append(reached)
        else:
            return phases
    raise AssertionError(f"the payroll finished before its kill {KILL_ATTEMPTS} times: {plan}")


def phase(out: Path) -> str:
    if not (out / "prepared.json").exists():
        return "preparing"
    try:
        with sqlite3.connect(out / "db" / "switch.db") as conn:
            open_items = conn.execute(
                "SELECT count(*) FROM switch_disbursement_item WHERE status IN ('queued', 'sent', 'retry')"
            ).fetchone()[0]
    except sqlite3.OperationalError:
        return "submitting"
    return f"paying ({open_items} items open)"


def switch_items(out: Path) -> dict[str, tuple[str, str | None, int]]:
    """Every payroll item at the switch: end-to-end id -> (status, reason, amount)."""
    with sqlite3.connect(out / "db" / "switch.db") as conn:
        rows = conn.execute("SELECT end_to_end_id, status, reason, amount_vnd FROM switch_disbursement_item").fetchall()
    items = {row[0]: (row[1], row[2], row[3]) for row in rows}
    assert len(items) == len(rows), "an end-to-end id is in the payroll twice"
    return items


def payroll_credits(out: Path) -> list[tuple[str, int]]:
    """The payroll credits the banks and wallets settled, from their own databases: (item, amount),
    the item being the transfer key without its attempt number."""
    credits: list[tuple[str, int]] = []
    for database in sorted((out / "db").glob("*.db")):
        if database.name == "switch.db":
            continue
        with sqlite3.connect(database) as conn:
            rows = conn.execute(
                "SELECT key, amount_vnd FROM node_inbound WHERE status = 'settled' AND key LIKE ?",
                (f"{TREASURY_BIN}:PR%",),
            ).fetchall()
        credits += [(key.rsplit("-", 1)[0], amount) for key, amount in rows]
    return credits


@pytest.mark.parametrize("case", ["anywhere-1", "anywhere-2", "paying", "twice"])
def test_a_payroll_killed_and_run_again_pays_whom_an_uninterrupted_run_pays_once(
    baseline: Baseline, case: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    plan = kill_plans(baseline)[case]
    phases = crash_as_planned(out, plan)
    context = f"killed at {plan} while {phases}"

    result = finish(start(out))

    assert result["ok"] is True, f"{context}: {result['failures']}"
    assert result["failures"] == []
    assert len(result["disbursements"]) == len(baseline.result["disbursements"]) == BENEFICIARIES // ITEMS_PER_FILE
    for disbursement in result["disbursements"]:
        reconciliation = disbursement["reconciliation"]
        assert disbursement["status"] == "completed", context
        assert reconciliation["balanced"] is True, context
        assert reconciliation["in_process"]["count"] == 0, context
        for measure in ("count", "amount_vnd"):
            final = sum(reconciliation[s][measure] for s in ("paid", "cash", "held"))
            assert final == reconciliation["submitted"][measure], f"{context}: {reconciliation}"
        assert reconciliation["submitted"]["count"] == disbursement["items_total"]

    # Nothing left in flight at the switch, and nobody on the payroll twice.
    with sqlite3.connect(out / "db" / "switch.db") as conn:
        unfinished = conn.execute(
            "SELECT status, count(*) FROM switch_disbursement_item WHERE status IN (?, ?, ?) GROUP BY status",
            UNFINISHED,
        ).fetchall()
        twice = conn.execute(
            "SELECT program, cycle, citizen_id, count(*) FROM switch_disbursement_item"
            " GROUP BY program, cycle, citizen_id HAVING count(*) > 1"
        ).fetchall()
    assert unfinished == [], context
    assert twice == [], context

    # The same items as the uninterrupted run, each ending the same way, except that a crash may
    # cost (or spare) an item an attempt: an item whose retries ran out is on the cash list with
    # AB05/AB08 in one run and paid in the other. Then the totals differ by exactly those items.
    crashed, uninterrupted = switch_items(out), switch_items(baseline.out)
    assert crashed.keys() == uninterrupted.keys()
    lost = gained = 0
    lost_vnd = gained_vnd = 0
    for end_to_end_id, (status, reason, amount) in crashed.items():
        before = uninterrupted[end_to_end_id]
        if (status, reason) == before[:2]:
            continue
        if before[0] == "paid" and status == "cash" and reason in RETRYABLE:
            lost, lost_vnd = lost + 1, lost_vnd + amount
        elif status == "paid" and before[0] == "cash" and before[1] in RETRYABLE:
            gained, gained_vnd = gained + 1, gained_vnd + amount
        else:
            pytest.fail(f"{context}: item {end_to_end_id} ended {status}/{reason}, uninterrupted {before[:2]}")
    assert result["paid_count"] == baseline.result["paid_count"] - lost + gained, context
    assert result["paid_vnd"] == baseline.result["paid_vnd"] - lost_vnd + gained_vnd, context
    if not lost and not gained:
        assert result["disbursements"] == baseline.result["disbursements"], context

    # Each paid item was credited once, read from the banks' and wallets' own databases.
    credits = payroll_credits(out)
    repeated = {item: n for item, n in Counter(item for item, _ in credits).items() if n > 1}
    assert repeated == {}, f"{context}: credited more than once: {repeated}"
    assert (len(credits), sum(amount for _, amount in credits)) == (result["paid_count"], result["paid_vnd"])


def test_running_a_finished_payroll_again_changes_nothing(baseline: Baseline) -> None:
    """The same command on a folder whose payroll completed: the same files are the same batches."""
    again = finish(start(baseline.out))
    assert again == baseline.result
