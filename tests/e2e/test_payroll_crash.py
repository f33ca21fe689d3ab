"""`switchyard payroll` killed with SIGKILL at seeded random moments, then run again with the same
arguments: it resumes, finishes, and pays exactly whom an uninterrupted run pays, each once.

The kill moments come from `random.Random(KILL_SEED)` as fractions of the phases of an
uninterrupted run measured here (its wall time, and when its preparation was done, which is when
`prepared.json` appears): two anywhere in the run, one while paying, and one case crashed twice
in a row (once while preparing, then the restart while paying). Starting, killing and the checks of
the outcome are `loadtests.crash_run`'s, the same as `switchyard bench payroll-crash` uses for its
hundred points.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from loadtests.crash_run import (
    SWITCHYARD,
    Anchor,
    Baseline,
    Kill,
    PayrollSizes,
    Phase,
    crash,
    finish,
    outcome_problems,
    run_baseline,
    start,
)

SIZES = PayrollSizes(beneficiaries=8_000, items_per_file=2_000, seed=7)
KILL_SEED = 2026
FIRST_KILL_S = 0.5  # not before the interpreter has started
LATEST_SHARE = 0.9  # a run faster than the measured one may still finish first: see crash_as_planned
KILL_ATTEMPTS = 3


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """An uninterrupted run with the same seed in its own folder, timed."""
    return run_baseline(SIZES, tmp_path_factory.mktemp("uninterrupted"))


def kill_plans(baseline: Baseline) -> dict[str, list[Kill]]:
    rng = random.Random(KILL_SEED)
    paying_s = baseline.wall_s - baseline.prepared_s

    def anywhere() -> Kill:
        return Kill(Anchor.START, rng.uniform(FIRST_KILL_S, max(FIRST_KILL_S, LATEST_SHARE * baseline.wall_s)))

    def preparing() -> Kill:
        return Kill(Anchor.START, rng.uniform(FIRST_KILL_S, max(FIRST_KILL_S, 0.9 * baseline.prepared_s)))

    def paying() -> Kill:
        return Kill(Anchor.PREPARED, rng.uniform(0.0, LATEST_SHARE * paying_s))

    return {
        "anywhere-1": [anywhere()],
        "anywhere-2": [anywhere()],
        "paying": [paying()],
        "twice": [preparing(), paying()],
    }


def crash_as_planned(out: Path, plan: list[Kill]) -> list[str]:
    """The kills of the plan one after another on the same folder; should a run finish before its
    kill, the plan starts again from nothing with every delay halved."""
    for attempt in range(KILL_ATTEMPTS):
        shutil.rmtree(out, ignore_errors=True)
        phases = []
        for kill in plan:
            scaled = Kill(kill.anchor, kill.delay_s * 0.5**attempt)
            if kill.anchor is Anchor.START:
                scaled = Kill(Anchor.START, max(FIRST_KILL_S, scaled.delay_s))
            reached = crash(SIZES, out, scaled)
            if reached.phase is Phase.FINISHED:
                break
            phases.append(f"{reached.phase} {reached.detail}".strip())
        else:
            return phases
    raise AssertionError(f"the payroll finished before its kill {KILL_ATTEMPTS} times: {plan}")


@pytest.mark.parametrize("case", ["anywhere-1", "anywhere-2", "paying", "twice"])
def test_a_payroll_killed_and_run_again_pays_whom_an_uninterrupted_run_pays_once(
    baseline: Baseline, case: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    plan = kill_plans(baseline)[case]
    phases = crash_as_planned(out, plan)

    result = finish(start(SIZES, out))

    assert outcome_problems(out, result, baseline, SIZES.files) == [], f"killed at {plan} while {phases}"


def test_running_a_finished_payroll_again_changes_nothing(baseline: Baseline) -> None:
    """The same command on a folder whose payroll completed: the same files are the same batches."""
    again = finish(start(SIZES, baseline.out))
    assert again == baseline.result


def test_the_checks_catch_an_item_credited_twice_and_one_left_in_flight(baseline: Baseline, tmp_path: Path) -> None:
    """The checks the crash runs rely on can fail: the uninterrupted run's folder, copied, with one
    payroll credit settled a second time under a later attempt and one item put back to `sent`."""
    out = tmp_path / "tampered"
    shutil.copytree(baseline.out, out)
    bank = out / "db" / "bank_970436.db"
    with contextlib.closing(sqlite3.connect(bank)) as conn, conn:
        key, account, amount_vnd, updated_ms = conn.execute(
            "SELECT key, account, amount_vnd, updated_ms FROM node_inbound"
            " WHERE status = 'settled' AND key LIKE '999999:PR%' LIMIT 1"
        ).fetchone()
        again = key.rsplit("-", 1)[0] + "-9"
        conn.execute(
            "INSERT INTO node_inbound VALUES (?, ?, ?, 'settled', NULL, ?)", (again, account, amount_vnd, updated_ms)
        )
    with contextlib.closing(sqlite3.connect(out / "db" / "switch.db")) as conn, conn:
        conn.execute(
            "UPDATE switch_disbursement_item SET status = 'sent'"
            " WHERE end_to_end_id = (SELECT min(end_to_end_id) FROM switch_disbursement_item)"
        )

    problems = outcome_problems(out, baseline.result, baseline, SIZES.files)

    assert any(problem.startswith("credited more than once") for problem in problems), problems
    assert any(problem.startswith("items left in flight at the switch") for problem in problems), problems


def test_the_bench_kills_a_small_payroll_at_each_point_and_prints_a_summary_that_held(tmp_path: Path) -> None:
    args = ("bench", "payroll-crash", "--points", "2", "--beneficiaries", "300", "--items-per-file", "100")
    completed = subprocess.run(
        [*SWITCHYARD, *args, "--out", str(tmp_path / "crash"), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert (summary["points"], summary["held"], summary["failed"]) == (2, 2, [])
    assert sum(summary["by_group"].values()) == 2
    progress = [line.split(":")[0] for line in completed.stderr.splitlines()[1:3]]
    assert progress == ["point 1/2", "point 2/2"]
    # The folders of points that held are removed; the uninterrupted run's is kept.
    assert sorted(path.name for path in (tmp_path / "crash").iterdir()) == ["baseline"]
