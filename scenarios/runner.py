"""`switchyard run SCENARIO`: a scenario file on the in-process network and its simulated clock.

The shell of the scenario: it prepares the population and the network (`network.payroll`),
applies the timeline's events at their simulated second, samples the switch's transfers each
simulated second for the timeline, then checks the network's invariants and the scenario's
expectations and writes report.json (byte-identical for the same file and seed: no wall-clock
time in it) and report.html (`scenarios.report_html`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import random
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from banks.schemas import PaymentOrder
from network.checks import InvariantReport
from network.inprocess import LinkFaults
from network.participants import TREASURY_BIN, ParticipantSpec, payroll_participants
from network.payroll import (
    RUN_SECONDS_MAX,
    PayrollConfig,
    PayrollRun,
    Progress,
    open_and_register,
    prepare,
    reconcile,
    run_until_complete,
    send,
    submit_cycle,
)
from network.storage import Storage
from payer.reconciliation import PayrollSummary, combine
from payer.rolls import PROGRAM_SHARES
from payer.submission import PayrollFile, resent_as_new
from scenarios.report_html import write_html
from scenarios.reports import write_reports
from scenarios.scenario import Event, Expectation, NetworkSpec, Scenario
from switch.disbursements.schemas import DisbursementRecord
from switch.scheme.calendar import local_time
from switch.scheme.codes import ParticipantStatus
from switch.scheme.summary import ZERO, Cell, DisbursementSummary
from wallets.node import wallet_limits

BEHAVIOUR_KNOBS = ("latency_ms", "timeout_rate", "late_answer_ms", "reject_rate")
POSITION_KNOBS = ("net_debit_cap_vnd", "prefund_vnd", "wire", "transactions_per_message_max")  # its registration
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"


@dataclass(slots=True)
class ScenarioResult:
    report: dict[str, Any]
    out: Path
    failures: list[str]
    summaries: list[DisbursementSummary]  # the switch's summary of each payroll file
    invariants: InvariantReport
    files: list[Path]  # report.json, report.html, then the items, pain.002 and the cash list

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def payroll(self) -> PayrollSummary:
        """One summary over every file of the scenario's payrolls."""
        return combine(self.summaries)


@dataclass(slots=True)
class _Action:
    at_ms: int
    label: str
    apply: Callable[[], None]


@dataclass(slots=True)
class _State:
    """What the shell keeps while a scenario runs."""

    run: PayrollRun
    start_ms: int
    files: dict[str, list[PayrollFile]] = field(default_factory=dict)  # each cycle's files as first sent
    cycle_of: dict[str, str] = field(default_factory=dict)  # message id -> cycle
    attempted: set[str] = field(default_factory=set)  # citizen ids that registered (or tried to)
    resent: int = 0
    payments: int = 0
    offline: set[str] = field(default_factory=set)
    applied: list[dict[str, Any]] = field(default_factory=list)


def run_scenario(
    scenario: Scenario,
    out: Path,
    seed: int | None = None,
    name: str = "",
    progress: Progress | None = None,
    faults: LinkFaults | None = None,
    seconds_max: int = RUN_SECONDS_MAX,
    database: str | None = None,
    schema_prefix: str = "switchyard_run",
) -> ScenarioResult:
    """`faults`: link faults on the network (the fuzzer's); `seconds_max`: simulated seconds before
    a scenario that has not settled is declared stuck (AssertionError); `database`: PostgreSQL
    (each node in the schema <schema_prefix>_<node>, dropped first) instead of SQLite files."""
    seed = scenario.scenario.seed if seed is None else seed
    db_folder = out / "db"
    if db_folder.exists():
        shutil.rmtree(db_folder)  # every run starts from nothing: the same seed, the same report
    if database is not None:
        Storage(url=database, schema_prefix=schema_prefix).drop()
    config = dataclasses.replace(
        _payroll_config(scenario, seed, db_folder), faults=faults, database=database, schema_prefix=schema_prefix
    )
    run = prepare(config, progress)
    try:
        state = _State(run, run.sandbox.now_ms, attempted=set(run.registered_citizens))
        timeline = _drive(state, _actions(scenario, state, seed), progress, seconds_max)
        disbursements = run.sandbox.switch.disbursements(TREASURY_BIN)
        summaries = [run.sandbox.switch.disbursement_summary(TREASURY_BIN, b.id) for b in disbursements]
        invariants = reconcile(run)
        report = _report(scenario, state, timeline, seed, name, disbursements, summaries, invariants)
        failures = [f"invariant: {failure}" for failure in report["invariants"]["failures"]]
        failures += [f"expectation: {e['text']}" for e in report["expectations"] if not e["passed"]]
        report["ok"] = not failures
        out.mkdir(parents=True, exist_ok=True)
        (out / REPORT_JSON).write_text(json.dumps(report, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        write_html(report, out / REPORT_HTML)
        files = [out / REPORT_JSON, out / REPORT_HTML, *write_reports(out, run.sandbox, summaries)]
    finally:
        run.sandbox.close()  # a stuck or crashed run (the fuzzer's findings) lets go of its files too
    return ScenarioResult(report, out, failures, summaries, invariants, files)


def _payroll_config(scenario: Scenario, seed: int, folder: Path) -> PayrollConfig:
    population = scenario.population
    return PayrollConfig(
        beneficiaries=population.size, seed=seed, cycle=scenario.scenario.cycle,
        registration_share=population.registration_share, deceased_share=population.deceased_share,
        name_typo_share=population.name_typo_share, closed_after_registration_share=population.closed_share,
        blocked_after_registration_share=population.blocked_share, near_cap_share=population.near_cap_share,
        provinces=population.provinces, folder=folder, participants=_participants(scenario.network),
        program_shares=tuple((program, population.programs.get(program, 0.0)) for program, _ in PROGRAM_SHARES),
    )  # fmt: skip


def _participants(network: NetworkSpec) -> tuple[ParticipantSpec, ...]:
    """The payroll's network (network.payroll), with the scenario's differences applied."""
    specs = []
    for spec in payroll_participants():
        override = network.participants.get(spec.bin)
        if override is None:
            specs.append(spec)
            continue
        knobs = {k: v for k, v in override.model_dump().items() if v is not None and k in BEHAVIOUR_KNOBS}
        behaviour = dataclasses.replace(spec.behaviour, **knobs)
        limits = spec.limits
        if override.pilot_2021_cap is not None:
            limits = wallet_limits(pilot_2021=override.pilot_2021_cap)
        position = {k: v for k in POSITION_KNOBS if (v := getattr(override, k)) is not None}
        specs.append(dataclasses.replace(spec, behaviour=behaviour, limits=limits, **position))
    return tuple(specs)


# --- the timeline ----------------------------------------------------------------------------


def _actions(scenario: Scenario, state: _State, seed: int) -> list[_Action]:
    rng = random.Random(seed ^ 0x5CE7A)  # its own stream: events never shift the population's draws
    actions: list[_Action] = []
    for event in scenario.timeline:
        actions += _actions_of(event, scenario, state, rng)
    return sorted(actions, key=lambda a: a.at_ms)  # stable: events at one second keep the file's order


def _actions_of(event: Event, scenario: Scenario, state: _State, rng: random.Random) -> list[_Action]:
    at_ms, until_ms = int(event.at_s * 1000), int((event.until_s or 0) * 1000)
    cycle = event.cycle or scenario.scenario.cycle
    sandbox = state.run.sandbox
    who = event.participant or ""
    if event.event == "submit_payroll":
        return [_Action(at_ms, f"payroll {cycle} submitted", lambda: _submit(state, cycle, event.file_format))]
    if event.event == "duplicate_submission":
        return [_Action(at_ms, f"payroll {cycle} sent again ({event.resend})", lambda: _resend(state, cycle, event))]
    if event.event == "outage":
        return [
            _Action(at_ms, f"{who} offline", lambda: _set_offline(state, who, True)),
            _Action(until_ms, f"{who} back", lambda: _set_offline(state, who, False)),
        ]
    if event.event == "latency_spike":
        before = sandbox.nodes[who].behaviour.latency_ms
        latency_ms = event.latency_ms or 0
        return [
            _Action(at_ms, f"{who} answers in {latency_ms} ms", lambda: _set_latency(state, who, latency_ms)),
            _Action(until_ms, f"{who} answers in {before} ms again", lambda: _set_latency(state, who, before)),
        ]
    if event.event == "suspend":
        return [
            _Action(at_ms, f"{who} suspended", lambda: _set_status(state, who, ParticipantStatus.SUSPENDED)),
            _Action(until_ms, f"{who} resumed", lambda: _set_status(state, who, ParticipantStatus.ACTIVE)),
        ]
    if event.event == "switch_restart":
        return [_Action(at_ms, "switch restarted", sandbox.restart_switch)]
    if event.event == "participant_restart":
        return [_Action(at_ms, f"{who} restarted", lambda: sandbox.restart_participant(who))]
    if event.event == "customer_payments":
        count, amount_vnd = event.count or 0, event.amount_vnd or 0
        label = f"{who}'s customers pay {count} × {amount_vnd:,} VND"
        return [_Action(at_ms, label, lambda: _customer_payments(state, who, count, amount_vnd, rng))]
    share = event.share or 0.0
    return [_Action(at_ms, f"registration drive {share:.0%}", lambda: _drive_registrations(state, share, rng))]


def _submit(state: _State, cycle: str, file_format: str) -> None:
    run = state.run
    if state.files:  # the first cycle's budget came with the network; each later one is funded anew
        run.sandbox.switch.fund_in(TREASURY_BIN, sum(b.amount_vnd for b in run.rolls), run.sandbox.now_ms)
    sent = submit_cycle(run, cycle, file_format, keep=True)
    state.files.setdefault(cycle, []).extend(sent)
    state.cycle_of.update((file.message_id, cycle) for file in sent)


def _resend(state: _State, cycle: str, event: Event) -> None:
    """The same file again is the same disbursement; the same items under a new message id are
    refused item by item as duplicates of the first file's (program, cycle, citizen id)."""
    run = state.run
    for number, file in enumerate(state.files.get(cycle, []), start=1):
        if event.resend == "same-file":  # a CSV's message id comes beside the file, as in the API's query
            send(run, file)
            continue
        state.resent += 1
        message_id = f"MOLISA-{cycle}-R{state.resent:02d}{number:03d}"
        again = resent_as_new(file, message_id, TREASURY_BIN, local_time(run.sandbox.now_ms))
        state.cycle_of[message_id] = cycle
        send(run, again)


def _set_offline(state: _State, bin_code: str, offline: bool) -> None:
    node = state.run.sandbox.nodes[bin_code]
    node.behaviour = dataclasses.replace(node.behaviour, offline=offline)
    (state.offline.add if offline else state.offline.discard)(bin_code)


def _set_latency(state: _State, bin_code: str, latency_ms: int) -> None:
    node = state.run.sandbox.nodes[bin_code]
    node.behaviour = dataclasses.replace(node.behaviour, latency_ms=latency_ms)


def _set_status(state: _State, bin_code: str, status: ParticipantStatus) -> None:
    state.run.sandbox.switch.set_status(bin_code, status)


def _drive_registrations(state: _State, share: float, rng: random.Random) -> None:
    """`share` of the population, among those who never registered, open an account and register it."""
    run = state.run
    people = [p for p in run.registry.people() if p.citizen_id not in state.attempted]
    wanted = min(len(people), round(share * len(run.registry.people())))
    chosen = sorted(rng.sample(people, wanted), key=lambda p: p.citizen_id)
    state.attempted.update(p.citizen_id for p in chosen)
    open_and_register(run.sandbox, chosen, rng, run.config, None, run.accounts_used, first_request=len(state.attempted))


def _customer_payments(state: _State, bin_code: str, count: int, amount_vnd: int, rng: random.Random) -> None:
    """Customers of `bin_code` pay people who bank elsewhere: each order draws on its position at
    the switch, so past its prefunding and net debit cap the switch answers AM04."""
    sandbox = state.run.sandbox
    accounts = sorted(state.run.accounts_used)
    own = [account for bank, account in accounts if bank == bin_code]
    others = [(bank, account) for bank, account in accounts if bank != bin_code]
    if not own or not others:
        return
    orders = []
    for _ in range(count):
        state.payments += 1
        creditor_agent, creditor_account = rng.choice(others)
        orders.append(
            PaymentOrder(
                order_id=f"PAY{state.payments:09d}",
                debtor_account=rng.choice(own),
                amount_vnd=amount_vnd,
                creditor_agent=creditor_agent,
                creditor_account=creditor_account,
            )
        )
    sandbox.pay(bin_code, orders)


def _drive(state: _State, actions: list[_Action], progress: Progress | None, seconds_max: int) -> list[dict[str, Any]]:
    """Second by simulated second: the events due, then the network; a sample of the switch each second."""
    timeline: list[dict[str, Any]] = []
    last = [_transfer_counts(state)]
    pending = list(actions)

    def events_due(second: int) -> bool:
        while pending and pending[0].at_ms <= second * 1000:
            action = pending.pop(0)
            action.apply()
            state.applied.append({"at_s": second, "event": action.label})
        return bool(pending)

    def sample(second: int) -> None:
        counts = _transfer_counts(state)
        timeline.append(_sample(second, last[0], counts, state))
        last[0] = counts

    run_until_complete(state.run, progress, events_due, sample, seconds_max)
    return timeline


def _transfer_counts(state: _State) -> Counter[str]:
    counts: Counter[str] = Counter()
    for row in state.run.sandbox.switch.clearing_summary():
        counts[row["status"] if row["status"] != "RJCT" else f"RJCT {row['reason'] or ''}".strip()] += row["count"]
    return counts


def _sample(second: int, before: Counter[str], after: Counter[str], state: _State) -> dict[str, Any]:
    rejected = {k.removeprefix("RJCT ").strip() or "none": after[k] - before[k] for k in after if k.startswith("RJCT")}
    return {
        "t_s": second,
        "settled": after["ACSC"] - before["ACSC"],
        "rejected": sum(rejected.values()),
        "rejected_by_reason": {k: v for k, v in sorted(rejected.items()) if v},
        "offline": sorted(state.offline),
    }


# --- the report ------------------------------------------------------------------------------


def _report(
    scenario: Scenario,
    state: _State,
    timeline: list[dict[str, Any]],
    seed: int,
    name: str,
    disbursements: list[DisbursementRecord],
    summaries: list[DisbursementSummary],
    invariants: InvariantReport,
) -> dict[str, Any]:
    combined = combine(summaries)
    outcome = {
        "by_status": _cells(combined.by_status),
        "by_reason": _cells(combined.by_reason),
        "by_participant": _cells(combined.by_participant),
        "by_program": _cells(combined.by_program),
        "retried": combined.retried.model_dump(),
        "cashless_share": combined.cashless_share,
        "cashless_target_share": combined.cashless_target_share,
        "cashless_share_by_province": {k: v.model_dump() for k, v in combined.cashless_share_by_province.items()},
        "reconciliation": combined.reconciliation.model_dump(),
        "by_cycle": _by_cycle(state, disbursements, summaries),
        "files": {"submitted": len(disbursements), "rows_refused": sum(s.row_errors for s in summaries)},
        "paid_twice": _paid_twice(state, disbursements),
        "transfers": _nested(_transfer_counts(state)),
    }
    for status in ("paid", "cash", "held", "rejected"):
        outcome[status] = combined.by_status.get(status, ZERO).count
    outcome["submitted"] = sum(s.items_total for s in summaries)
    expectations = [_judge(e, outcome) for e in scenario.expect]
    return {
        "scenario": {"name": scenario.scenario.name, "description": scenario.scenario.description, "file": name},
        "seed": seed,
        "population": scenario.population.size,
        "events": state.applied,
        "timeline": timeline,
        "outcome": outcome,
        "invariants": {"ok": invariants.ok, "failures": invariants.failures},
        "expectations": expectations,
        "network": _network_stats(state.run),
        "participants": {spec.bin: spec.name for spec in state.run.config.participants},
    }


def _cells(table: dict[str, Cell]) -> dict[str, dict[str, int]]:
    return {key: cell.model_dump() for key, cell in table.items()}


def _network_stats(run: PayrollRun) -> dict[str, int]:
    stats = run.sandbox.network.stats
    return {
        "delivered": stats.delivered, "duplicated": stats.duplicated, "dropped": stats.dropped,
        "delayed": stats.delayed, "undeliverable": stats.undeliverable,
    }  # fmt: skip


def _nested(counts: Counter[str]) -> dict[str, Any]:
    """{"ACSC": n, "RJCT": {"AB08": n, ...}}: a metric path reads transfers.RJCT.AB08."""
    nested: dict[str, Any] = {}
    for key, count in sorted(counts.items()):
        status, _, reason = key.partition(" ")
        if reason:
            nested.setdefault(status, {})[reason] = count
        else:
            nested[status] = count
    return nested


def _by_cycle(
    state: _State, disbursements: list[DisbursementRecord], summaries: list[DisbursementSummary]
) -> dict[str, dict[str, Any]]:
    grouped: dict[str, list[DisbursementSummary]] = defaultdict(list)
    for disbursement, summary in zip(disbursements, summaries, strict=True):
        grouped[state.cycle_of.get(disbursement.message_id, "?")].append(summary)
    result = {}
    for cycle, group in sorted(grouped.items()):
        combined = combine(group)
        counts = {s: combined.by_status.get(s, ZERO).count for s in ("paid", "cash", "held", "rejected")}
        result[cycle] = {**counts, "cashless_share": combined.cashless_share}
    return result


def _paid_twice(state: _State, disbursements: list[DisbursementRecord]) -> int:
    """Beneficiaries paid more than once for one program and cycle, read from the items themselves."""
    paid: Counter[tuple[str, str, str]] = Counter()
    switch = state.run.sandbox.switch
    for disbursement in disbursements:
        data = switch.disbursement_export(TREASURY_BIN, disbursement.id, "items", state.run.sandbox.now_ms)
        for row in csv.DictReader(io.StringIO(data.decode("utf-8"))):
            if row["status"] == "paid":
                paid[(row["citizen_id"], row["program"], row["cycle"])] += 1
    return sum(1 for count in paid.values() if count > 1)


def _judge(expectation: Expectation, outcome: dict[str, Any]) -> dict[str, Any]:
    actual = _metric(outcome, expectation.metric)
    passed = isinstance(actual, int | float)
    if passed and expectation.min is not None:
        passed = actual >= expectation.min
    if passed and expectation.max is not None:
        passed = actual <= expectation.max
    if passed and expectation.equals is not None:
        passed = actual == expectation.equals
    bounds = [f"{word} {value:g}" for word, value in (("at least", expectation.min), ("at most", expectation.max),
              ("exactly", expectation.equals)) if value is not None]  # fmt: skip
    shown = "missing" if actual is None else f"{actual:g}" if isinstance(actual, int | float) else repr(actual)
    text = f"{expectation.metric} should be {' and '.join(bounds)}; it is {shown}"
    return {**expectation.model_dump(), "actual": actual, "passed": passed, "text": text}


def _metric(outcome: dict[str, Any], path: str) -> Any:
    value: Any = outcome
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if isinstance(value, dict) and "count" in value:
        value = value["count"]
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


__all__ = ["REPORT_HTML", "REPORT_JSON", "ScenarioResult", "run_scenario"]
