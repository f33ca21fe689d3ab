"""`switchyard bench payroll-crash`: `switchyard payroll` killed with SIGKILL at many seeded moments,
each run again to completion and checked against an uninterrupted run.

One uninterrupted run comes first, timed: its wall time, when its preparation began writing (the
`db/` folder appears; before that the interpreter is loading) and when it was done (`prepared.json`
appears). The kill points are planned from those figures (`plan_kill_points`): a share of them
(70 % by default) inside the paying phase, counted from the moment `prepared.json` appears; a few
(5 %) while the process starts, counted from its start; the rest while preparing, counted from the
moment `db/` appears. Each group is spread evenly over its phase, one point at a seeded random
moment in each equal slice of it. Counting from the moment a phase began, not from the start,
keeps the points where they were planned however long the interpreter takes to start. Each point runs in a folder
of its own: the payroll is started, killed at its moment, started again with the same arguments and
left to finish. Then `outcome_problems` compares the finished folder with the uninterrupted one:
the same items, each final and ending the same way (up to the retries a crash may cost or spare an
item), nobody on the payroll twice, each paid item credited once at the banks and wallets (from
their own databases), and the money reconciled in every file. tests/e2e/test_payroll_crash.py
uses the same functions.

A machine busier or idler than during the uninterrupted run shifts the moments. A run that ends by
itself before its kill is thrown away and the point tried again, its delay rescaled to the length
that run had (`rescaled`), so the point keeps its place in the phase; a point whose every try ended
first counts "after finish" (running a finished payroll again must change nothing, and is checked
the same way).
"""

from __future__ import annotations

import contextlib
import enum
import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from network.processes import start_child
from payer.submission import files_needed

SWITCHYARD = [sys.executable, "-m", "switchyard.cli"]
PREPARED_FILE = "prepared.json"  # network.payroll writes it, atomically, once preparation is done
TREASURY_BIN = "999999"  # the payroll's payer: its credits' keys begin with it
UNFINISHED = ("queued", "sent", "retry")
RETRYABLE = ("AB05", "AB08")  # timed out or agent offline: retried, then the cash list
PAYING_SHARE_DEFAULT = 0.7
STARTING_SHARE_DEFAULT = 0.05  # nothing is written yet: a few points show that, more would tell nothing new
POINTS_MAX = 10_000
PARALLEL_MAX = 4  # each point is one payroll process at a time; more than the cores only skews the moments
POLL_S = 0.005  # how finely a kill lands on its moment
RUN_TIMEOUT_S_MIN = 120
RUN_TIMEOUT_WALL_TIMES = 20  # a run this many times slower than the uninterrupted one is stuck
BASELINE_TIMEOUT_S = 3_600
KILL_TRIES = 3


class Phase(enum.StrEnum):
    """How far a killed payroll had got, read from its folder just after the kill."""

    BEFORE = "before preparing"  # no database written yet: the interpreter was still starting
    PREPARING = "preparing"  # population, rolls, accounts, registrations; redone from nothing on resume
    SUBMITTING = "submitting"  # prepared.json written, not every item at the switch yet
    PAYING = "paying"  # every item at the switch, some still queued, sent or in retry
    CLOSING = "closing"  # no item open: statuses, reconciliation, the JSON line
    FINISHED = "after finish"  # the run ended by itself before its kill

    @property
    def group(self) -> str:
        """The summary's four groups: paying covers submitting and closing too."""
        return "paying" if self in (Phase.SUBMITTING, Phase.PAYING, Phase.CLOSING) else self.value


GROUPS = ("before preparing", "preparing", "paying", "after finish")


class Anchor(enum.StrEnum):
    """The moment a kill's delay is counted from."""

    START = "start"  # the process was started
    DATABASE = "db/"  # the databases' folder appeared: preparation began
    PREPARED = PREPARED_FILE  # preparation was done


class RunFailed(Exception):
    """A payroll run that did not end with exit 0 and one JSON line."""


@dataclass(frozen=True, slots=True)
class PayrollSizes:
    beneficiaries: int
    items_per_file: int
    seed: int

    @property
    def files(self) -> int:
        return files_needed(self.beneficiaries, self.items_per_file)


@dataclass(frozen=True, slots=True)
class Kill:
    anchor: Anchor
    delay_s: float  # after the anchor


@dataclass(frozen=True, slots=True)
class Baseline:
    out: Path
    result: dict[str, Any]
    database_s: float  # when db/ appeared: the interpreter loaded, preparation begun
    prepared_s: float  # when prepared.json appeared: preparation done, files about to be submitted
    wall_s: float

    def after_anchor_s(self, anchor: Anchor) -> float:
        """How long the run went on after the anchor's moment."""
        return (
            self.wall_s
            - {Anchor.START: 0.0, Anchor.DATABASE: self.database_s, Anchor.PREPARED: self.prepared_s}[anchor]
        )

    @property
    def items_total(self) -> int:
        return sum(int(disbursement["items_total"]) for disbursement in self.result["disbursements"])


@dataclass(frozen=True, slots=True)
class Reached:
    phase: Phase
    detail: str
    ended_s: float = 0.0  # Phase.FINISHED: when the run ended by itself, after the kill's anchor


@dataclass(frozen=True, slots=True)
class PointOutcome:
    index: int
    kill: Kill  # as it landed: rescaled if an earlier try finished first
    tries: int  # 1, or more when a run finished before its kill and the point was tried again
    reached: Reached | None  # None: the run failed before anything could be read
    problems: list[str]
    wall_s: float
    out: Path

    @property
    def held(self) -> bool:
        return not self.problems


@dataclass(slots=True)
class CrashRunSummary:
    points: int
    baseline_database_s: float
    baseline_prepared_s: float
    baseline_wall_s: float
    outcomes: list[PointOutcome] = field(default_factory=list)
    wall_s: float = 0.0

    def by_group(self) -> dict[str, int]:
        counted = Counter(o.reached.phase.group if o.reached else "failed to start" for o in self.outcomes)
        return {group: counted[group] for group in (*GROUPS, "failed to start") if counted[group] or group in GROUPS}

    def by_phase(self) -> dict[str, int]:
        counted = Counter(o.reached.phase.value for o in self.outcomes if o.reached)
        return {phase.value: counted[phase.value] for phase in Phase}

    def as_json(self) -> dict[str, Any]:
        failed = [o for o in self.outcomes if not o.held]
        return {
            "points": self.points,
            "held": self.points - len(failed),
            "failed": [{"point": o.index, "folder": str(o.out), "problems": o.problems} for o in failed],
            "by_group": self.by_group(),
            "by_phase": self.by_phase(),
            "tried_again": sum(outcome.tries > 1 for outcome in self.outcomes),
            "baseline_database_s": round(self.baseline_database_s, 3),
            "baseline_prepared_s": round(self.baseline_prepared_s, 3),
            "baseline_wall_s": round(self.baseline_wall_s, 3),
            "wall_s": round(self.wall_s, 1),
        }


# --- planning (pure) ---------------------------------------------------------------------------


def plan_kill_points(
    points: int,
    kill_seed: int,
    database_s: float,
    prepared_s: float,
    wall_s: float,
    paying_share: float = PAYING_SHARE_DEFAULT,
    starting_share: float = STARTING_SHARE_DEFAULT,
) -> list[Kill]:
    """`points` kills over a run whose preparation begins at `database_s` and ends at `prepared_s`,
    and which ends at `wall_s`: round(points * paying_share) while paying (from prepared.json),
    round(points * starting_share) of the others while the process starts (from its start), the
    rest while preparing (from db/). Each group is spread evenly: its phase cut into as many equal
    slices as it has points, one point at a seeded random moment in each slice. In the run's order."""
    assert 0 < points <= POINTS_MAX and 0.0 <= paying_share <= 1.0 and 0.0 <= starting_share <= 1.0
    assert 0.0 < database_s <= prepared_s <= wall_s
    rng = random.Random(kill_seed)
    paying = round(points * paying_share)
    starting = min(points - paying, round(points * starting_share))
    phases = (
        (Anchor.START, starting, database_s),
        (Anchor.DATABASE, points - paying - starting, prepared_s - database_s),
        (Anchor.PREPARED, paying, wall_s - prepared_s),
    )
    return [Kill(anchor, moment) for anchor, count, length_s in phases for moment in _spread(rng, count, length_s)]


def _spread(rng: random.Random, count: int, length_s: float) -> list[float]:
    slice_s = length_s / count if count else 0.0
    return [(i + rng.random()) * slice_s for i in range(count)]


def outcome_problems(out: Path, result: dict[str, Any], baseline: Baseline, files: int) -> list[str]:
    """What is wrong with a finished payroll in `out` (its JSON line `result`) next to the
    uninterrupted run: nothing, for a payroll that crashed safely."""
    problems = _result_problems(result, baseline, files)
    with contextlib.closing(sqlite3.connect(out / "db" / "switch.db")) as conn:
        unfinished = conn.execute(
            "SELECT status, count(*) FROM switch_disbursement_item WHERE status IN (?, ?, ?) GROUP BY status",
            UNFINISHED,
        ).fetchall()
        twice = conn.execute(
            "SELECT program, cycle, citizen_id, count(*) FROM switch_disbursement_item"
            " GROUP BY program, cycle, citizen_id HAVING count(*) > 1"
        ).fetchall()
        repeated_ids = conn.execute(
            "SELECT end_to_end_id, count(*) FROM switch_disbursement_item GROUP BY end_to_end_id HAVING count(*) > 1"
        ).fetchall()
    if repeated_ids:
        problems.append(f"end-to-end ids in the payroll twice: {repeated_ids[:10]}")
    if unfinished:
        problems.append(f"items left in flight at the switch: {unfinished}")
    if twice:
        problems.append(f"on the payroll twice: {twice[:10]}")
    problems += _items_problems(out, result, baseline)
    # Each paid item was credited once, read from the banks' and wallets' own databases.
    credits = payroll_credits(out)
    repeated = {item: n for item, n in Counter(item for item, _ in credits).items() if n > 1}
    if repeated:
        problems.append(f"credited more than once: {dict(list(repeated.items())[:10])}")
    credited = (len(credits), sum(amount for _, amount in credits))
    if credited != (result.get("paid_count"), result.get("paid_vnd")):
        paid = (result.get("paid_count"), result.get("paid_vnd"))
        problems.append(f"credited at the banks and wallets (count, VND) {credited}, paid {paid}")
    return problems


def _result_problems(result: dict[str, Any], baseline: Baseline, files: int) -> list[str]:
    problems: list[str] = []
    if result.get("ok") is not True or result.get("failures"):
        problems.append(f"invariants failed: {result.get('failures')}")
    disbursements = result.get("disbursements", [])
    if not len(disbursements) == len(baseline.result["disbursements"]) == files:
        problems.append(f"{len(disbursements)} disbursements, uninterrupted {len(baseline.result['disbursements'])}")
    for disbursement in disbursements:
        reconciliation = disbursement["reconciliation"]
        name = f"disbursement {disbursement['disbursement_id']}"
        if disbursement["status"] != "completed":
            problems.append(f"{name} ended {disbursement['status']}")
        if reconciliation["balanced"] is not True or reconciliation["in_process"]["count"] != 0:
            problems.append(f"{name} not reconciled: {reconciliation}")
        for measure in ("count", "amount_vnd"):
            final = sum(reconciliation[status][measure] for status in ("paid", "cash", "held"))
            if final != reconciliation["submitted"][measure]:
                problems.append(f"{name}: paid + cash + held {measure} {final} != submitted: {reconciliation}")
        if reconciliation["submitted"]["count"] != disbursement["items_total"]:
            problems.append(f"{name}: {disbursement['items_total']} items, {reconciliation['submitted']} submitted")
    return problems


def _items_problems(out: Path, result: dict[str, Any], baseline: Baseline) -> list[str]:
    """The same items as the uninterrupted run, each ending the same way, except that a crash may
    cost (or spare) an item an attempt: an item whose retries ran out is on the cash list with
    AB05/AB08 in one run and paid in the other. Then the totals differ by exactly those items."""
    crashed, uninterrupted = switch_items(out), switch_items(baseline.out)
    problems = ["end-to-end ids differ from the uninterrupted run"] if crashed.keys() != uninterrupted.keys() else []
    lost = gained = lost_vnd = gained_vnd = 0
    for end_to_end_id, (status, reason, amount) in crashed.items():
        before = uninterrupted.get(end_to_end_id)
        if before is None or (status, reason) == before[:2]:
            continue
        if before[0] == "paid" and status == "cash" and reason in RETRYABLE:
            lost, lost_vnd = lost + 1, lost_vnd + amount
        elif status == "paid" and before[0] == "cash" and before[1] in RETRYABLE:
            gained, gained_vnd = gained + 1, gained_vnd + amount
        else:
            problems.append(f"item {end_to_end_id} ended {status}/{reason}, uninterrupted {before[:2]}")
    paid = (baseline.result["paid_count"] - lost + gained, baseline.result["paid_vnd"] - lost_vnd + gained_vnd)
    if (result.get("paid_count"), result.get("paid_vnd")) != paid:
        problems.append(f"paid {result.get('paid_count')} / {result.get('paid_vnd')} VND, expected {paid}")
    if not lost and not gained and result.get("disbursements") != baseline.result["disbursements"]:
        problems.append("the disbursements' summaries differ from the uninterrupted run's")
    return problems


def switch_items(out: Path) -> dict[str, tuple[str, str | None, int]]:
    """Every payroll item at the switch: end-to-end id -> (status, reason, amount)."""
    with contextlib.closing(sqlite3.connect(out / "db" / "switch.db")) as conn:
        rows = conn.execute("SELECT end_to_end_id, status, reason, amount_vnd FROM switch_disbursement_item").fetchall()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def payroll_credits(out: Path) -> list[tuple[str, int]]:
    """The payroll credits the banks and wallets settled, from their own databases: (item, amount),
    the item being the transfer key without its attempt number."""
    credits: list[tuple[str, int]] = []
    for database in sorted((out / "db").glob("*.db")):
        if database.name == "switch.db":
            continue
        with contextlib.closing(sqlite3.connect(database)) as conn:
            rows = conn.execute(
                "SELECT key, amount_vnd FROM node_inbound WHERE status = 'settled' AND key LIKE ?",
                (f"{TREASURY_BIN}:PR%",),
            ).fetchall()
        credits += [(key.rsplit("-", 1)[0], amount) for key, amount in rows]
    return credits


# --- running the payroll (the shell) -----------------------------------------------------------


def payroll_command(sizes: PayrollSizes, out: Path) -> list[str]:
    return [
        *SWITCHYARD, "payroll", "--beneficiaries", str(sizes.beneficiaries),
        "--items-per-file", str(sizes.items_per_file), "--seed", str(sizes.seed), "--out", str(out),
    ]  # fmt: skip


def start(sizes: PayrollSizes, out: Path) -> subprocess.Popen[str]:
    """The payroll as a child that ends with this process, however this one ends."""
    return start_child(payroll_command(sizes, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str], timeout_s: float = RUN_TIMEOUT_S_MIN) -> dict[str, Any]:
    """The run's JSON line, once it has ended with exit 0; RunFailed otherwise."""
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise RunFailed(f"still running after {timeout_s:.0f} s: killed") from None
    if process.returncode != 0:
        raise RunFailed(f"exit {process.returncode}: {stderr[-3000:]}\n{stdout[-2000:]}")
    lines = stdout.strip().splitlines()
    if len(lines) != 1:
        raise RunFailed(f"one JSON line expected, got {stdout[-2000:]!r}")
    result: dict[str, Any] = json.loads(lines[0])
    return result


def run_baseline(sizes: PayrollSizes, out: Path, timeout_s: float = BASELINE_TIMEOUT_S) -> Baseline:
    """An uninterrupted run in `out` (emptied first), timed, with when prepared.json appeared."""
    shutil.rmtree(out, ignore_errors=True)
    began = time.monotonic()
    process = start(sizes, out)
    database_s = prepared_s = 0.0
    while process.poll() is None and time.monotonic() - began < timeout_s:
        if not database_s and (out / "db").exists():
            database_s = time.monotonic() - began
        if not prepared_s and (out / PREPARED_FILE).exists():
            prepared_s = time.monotonic() - began
        time.sleep(POLL_S)
    wall_s = time.monotonic() - began
    result = finish(process, timeout_s=1)
    if result["ok"] is not True:
        raise RunFailed(f"the uninterrupted run failed its invariants: {result['failures']}")
    if not database_s or not prepared_s:
        raise RunFailed(f"db/ or {PREPARED_FILE} never appeared during the uninterrupted run")
    return Baseline(out, result, database_s, prepared_s, wall_s)


def crash(
    sizes: PayrollSizes, out: Path, kill: Kill, timeout_s: float = RUN_TIMEOUT_S_MIN, items_expected: int | None = None
) -> Reached:
    """Start the payroll in `out` and SIGKILL it at the planned moment; says how far it had got
    (Phase.FINISHED if it ended by itself first). RunFailed if it ended any other way."""
    process = start(sizes, out)
    began = time.monotonic()
    if kill.anchor is not Anchor.START:
        anchor = out / ("db" if kill.anchor is Anchor.DATABASE else PREPARED_FILE)
        while not anchor.exists() and process.poll() is None and time.monotonic() - began < timeout_s:
            time.sleep(POLL_S)
        began = time.monotonic()
    while process.poll() is None and time.monotonic() - began < kill.delay_s:
        time.sleep(POLL_S)
    ended_s = time.monotonic() - began
    process.send_signal(signal.SIGKILL)  # a no-op on a process that has ended and not been waited for
    _stdout, stderr = process.communicate(timeout=timeout_s)
    if process.returncode == 0:
        return Reached(Phase.FINISHED, "", ended_s)
    if process.returncode != -signal.SIGKILL:
        raise RunFailed(f"exit {process.returncode} before the kill: {stderr[-3000:]}")
    return phase_reached(out, items_expected)


def phase_reached(out: Path, items_expected: int | None = None) -> Reached:
    """How far a killed payroll in `out` had got. Opening the switch's database is what the next
    run does first anyway (SQLite recovers its journal on open)."""
    if not (out / "db").exists():
        return Reached(Phase.BEFORE, "")
    if not (out / PREPARED_FILE).exists():
        return Reached(Phase.PREPARING, "")
    try:
        with contextlib.closing(sqlite3.connect(out / "db" / "switch.db")) as conn:
            total, open_items = conn.execute(
                "SELECT count(*), coalesce(sum(status IN ('queued', 'sent', 'retry')), 0) FROM switch_disbursement_item"
            ).fetchone()
    except sqlite3.OperationalError:
        return Reached(Phase.SUBMITTING, "no item table yet")
    if items_expected is not None and total < items_expected:
        return Reached(Phase.SUBMITTING, f"{total} of {items_expected} items in")
    if open_items:
        return Reached(Phase.PAYING, f"{open_items} of {total} items open")
    return Reached(Phase.CLOSING, f"{total} items final")


def run_point(
    sizes: PayrollSizes, baseline: Baseline, index: int, kill: Kill, out: Path, timeout_s: float
) -> PointOutcome:
    """One point in its own folder: killed at its moment, run again to the end, checked. A run that
    ends before its kill (the machine is faster now than during the uninterrupted run) is thrown
    away and the point tried again, its delay rescaled to that run's length (`rescaled`), up to
    KILL_TRIES times; after that it counts as killed after finish."""
    began = time.monotonic()
    reached: Reached | None = None
    length_s = baseline.after_anchor_s(kill.anchor)
    tries = 0
    try:
        while tries < KILL_TRIES and (reached is None or reached.phase is Phase.FINISHED):
            if reached is not None:
                kill, length_s = rescaled(kill, length_s, reached.ended_s), reached.ended_s
            shutil.rmtree(out, ignore_errors=True)
            reached, tries = crash(sizes, out, kill, timeout_s, baseline.items_total), tries + 1
        result = finish(start(sizes, out), timeout_s)
        problems = outcome_problems(out, result, baseline, sizes.files)
    except (RunFailed, sqlite3.Error, ValueError, KeyError, TypeError) as error:  # the point fails; the others go on
        problems = [f"{type(error).__name__}: {error}"]
    return PointOutcome(index, kill, max(tries, 1), reached, problems, time.monotonic() - began, out)


def rescaled(kill: Kill, expected_s: float, observed_s: float) -> Kill:
    """The same place in its phase for a run whose phase (from the kill's anchor to the end) lasted
    `observed_s` where `expected_s` was expected: the delay times observed / expected."""
    return Kill(kill.anchor, kill.delay_s * observed_s / expected_s if expected_s > 0 else 0.0)


def run_timeout_s(baseline: Baseline) -> float:
    return max(RUN_TIMEOUT_S_MIN, RUN_TIMEOUT_WALL_TIMES * baseline.wall_s)


def crash_run(
    sizes: PayrollSizes,
    points: int,
    kill_seed: int,
    out: Path,
    parallel: int = 1,
    say: Callable[[str], None] = print,
) -> CrashRunSummary:
    """The whole run: the uninterrupted baseline in out/baseline, then every point in
    out/point-NNN, `parallel` at a time. Folders of points that held are removed; the others kept."""
    assert 0 < points <= POINTS_MAX and 0 < parallel <= PARALLEL_MAX
    began = time.monotonic()
    baseline = run_baseline(sizes, out / "baseline")
    say(
        f"uninterrupted: {baseline.wall_s:.2f} s, db/ at {baseline.database_s:.2f} s, prepared.json at "
        f"{baseline.prepared_s:.2f} s, {baseline.result['paid_count']} paid ({baseline.out})"
    )
    plan = plan_kill_points(points, kill_seed, baseline.database_s, baseline.prepared_s, baseline.wall_s)
    summary = CrashRunSummary(points, baseline.database_s, baseline.prepared_s, baseline.wall_s)
    timeout_s = run_timeout_s(baseline)
    width = len(str(points))

    def one(numbered: tuple[int, Kill]) -> PointOutcome:
        index, kill = numbered
        return run_point(sizes, baseline, index, kill, out / f"point-{index:0{width}d}", timeout_s)

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for outcome in pool.map(one, enumerate(plan, start=1)):
            summary.outcomes.append(outcome)
            say(progress_line(outcome, points))
            if outcome.held:
                shutil.rmtree(outcome.out, ignore_errors=True)
    summary.wall_s = time.monotonic() - began
    for line in summary_lines(summary):
        say(line)
    return summary


def progress_line(outcome: PointOutcome, points: int) -> str:
    kill = outcome.kill
    moment = f"{kill.anchor} +{kill.delay_s:.3f} s"
    reached = "?" if outcome.reached is None else outcome.reached.phase.value
    if outcome.reached and outcome.reached.detail:
        reached += f" ({outcome.reached.detail})"
    if outcome.tries > 1:
        reached += f", try {outcome.tries}: the run before ended first"
    verdict = "held" if outcome.held else f"FAILED, kept in {outcome.out}: " + "; ".join(outcome.problems)[:2000]
    return f"point {outcome.index}/{points}: killed at {moment}, {reached}; {verdict} [{outcome.wall_s:.1f} s]"


def summary_lines(summary: CrashRunSummary) -> Iterator[str]:
    failed = [o for o in summary.outcomes if not o.held]
    groups = ", ".join(f"{group} {count}" for group, count in summary.by_group().items())
    paying = ", ".join(
        f"{phase} {count}" for phase, count in summary.by_phase().items() if Phase(phase).group == "paying"
    )
    tried_again = sum(outcome.tries > 1 for outcome in summary.outcomes)
    yield f"{summary.points} points killed: {groups} (paying: {paying}); {tried_again} tried again"
    yield f"{summary.points - len(failed)} held, {len(failed)} failed; {summary.wall_s:.0f} s in all"
    for outcome in failed:
        yield f"FAILED point {outcome.index} ({outcome.out}): " + "; ".join(outcome.problems)[:2000]
