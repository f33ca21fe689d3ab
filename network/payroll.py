"""A month's welfare payroll on the in-process network, end to end: population registry, rolls,
accounts and registrations, the payer's files sent through the Treasury (`payer.submission`), the
switch's disbursements run second by simulated second, and the reconciliation against the banks'
and wallets' own ledgers (`network.checks`).

The one payroll driver: the scenario runner (and so the demo), `switchyard payroll`, `switchyard
bench payroll` and the tests all run it. Crash-safe runs reopen the same storage with `resume=True`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from banks.schemas import AccountStatus
from network.checks import InvariantReport, check_invariants
from network.inprocess import LinkFaults
from network.participants import (
    DEFAULT_START,
    TREASURY_BIN,
    ParticipantSpec,
    payroll_participants,
)
from network.population import STATUS_MIX, Holding, open_population_accounts
from network.sandbox import Sandbox
from network.storage import Storage
from payer.registry import Person, PopulationRegistry, generate_population
from payer.rolls import PROGRAM_SHARES, Beneficiary, build_rolls
from payer.submission import PayrollFile, files_needed, payroll_files
from switch.disbursements.schemas import DisbursementRecord
from switch.scheme.calendar import local_time
from switch.scheme.codes import (
    AliasType,
    DisbursementStatus,
    ParticipantKind,
    Program,
    RegistrationOutcome,
)
from switch.scheme.disbursement import ITEMS_PER_FILE_MAX, read_file
from switch.scheme.messages import Alias, AliasRegistration
from switch.scheme.transport import CITIZEN_APP_ADDRESS

PROVINCES = ("001", "079", "048", "092", "038", "040", "075", "089")  # eight provinces, north to south
RUN_STEP_MS = 1_000
RUN_SECONDS_MAX = 24 * 3600  # a payroll or scenario that has not settled in a simulated day is stuck
REGISTRATION_CHUNK = 20_000
Progress = Callable[[str, float], None]


@dataclass(slots=True, frozen=True)
class PayrollConfig:
    beneficiaries: int = 100_000
    seed: int = 2026
    cycle: str = "2026-12"
    registration_share: float = 0.30  # who registered an account for welfare through VNeID
    deceased_share: float = 0.004  # died since the roll was written: the registry knows
    name_typo_share: float = 0.003  # the roll has another given name
    closed_after_registration_share: float = 0.01
    blocked_after_registration_share: float = 0.01
    near_cap_share: float = 0.3  # of the pilot-cap wallet's customers, those already near the cap
    account_status_mix: tuple[tuple[AccountStatus, float], ...] = STATUS_MIX  # accounts as opened (dormant, ...)
    file_format: str = "json"
    items_per_file: int = ITEMS_PER_FILE_MAX
    provinces: tuple[str, ...] = PROVINCES
    database: str | None = None
    schema_prefix: str = "switchyard"  # PostgreSQL: each node in the schema <prefix>_<node>
    folder: Path | None = None  # SQLite files; None with no database means in memory
    participants: tuple[ParticipantSpec, ...] = field(default_factory=payroll_participants)
    faults: LinkFaults | None = None  # the network's link faults (network.inprocess); None: none
    program_shares: tuple[tuple[Program, float], ...] = PROGRAM_SHARES  # the rolls' mix (payer.rolls)


EVERY_ACCOUNT_ACTIVE: tuple[tuple[AccountStatus, float], ...] = ((AccountStatus.ACTIVE, 1.0),)


def every_item_paid(config: PayrollConfig) -> PayrollConfig:
    """The population where every item is a payment, so the paid path can be measured on its own:
    everyone on the rolls registered an active account, is alive, is on the roll under their own
    name, keeps the account open and unblocked, and is nowhere near a wallet's monthly cap. The
    network stays as configured: an item whose creditor agent answers late on every attempt still
    ends AB05 (with the demo's Agribank, 2% of answers late, about 1 in 200,000)."""
    return dataclasses.replace(
        config,
        registration_share=1.0,
        deceased_share=0.0,
        name_typo_share=0.0,
        closed_after_registration_share=0.0,
        blocked_after_registration_share=0.0,
        near_cap_share=0.0,
        account_status_mix=EVERY_ACCOUNT_ACTIVE,
    )


@dataclass(slots=True)
class PayrollRun:
    config: PayrollConfig
    sandbox: Sandbox
    registry: PopulationRegistry
    rolls: list[Beneficiary]
    timings_s: dict[str, float] = field(default_factory=dict)
    accounts_used: set[tuple[str, str]] = field(default_factory=set)  # (BIN, account) opened so far
    registered_citizens: set[str] = field(default_factory=set)  # who registered an account (or tried)


def prepare(config: PayrollConfig, progress: Progress | None = None, resume: bool = False) -> PayrollRun:
    """Everything before the payroll: the same config and seed give the same people and accounts."""
    clock = time.perf_counter()
    rng = random.Random(config.seed)
    today = DEFAULT_START.date()
    people = generate_population(config.beneficiaries, config.seed, today, config.provinces)
    registry = PopulationRegistry(people)
    rolls = build_rolls(people, rng, today, config.name_typo_share, config.program_shares)
    for person in people:
        if rng.random() < config.deceased_share:
            registry.record_death(person.citizen_id)
    storage = (
        Storage(folder=config.folder)
        if config.database is None
        else Storage(url=config.database, schema_prefix=config.schema_prefix)
    )
    budget = sum(b.amount_vnd for b in rolls)
    participants = tuple(
        dataclasses.replace(s, prefund_vnd=budget) if s.kind == ParticipantKind.TREASURY else s
        for s in config.participants
    )
    sandbox = Sandbox(storage, participants, seed=config.seed, identities=registry, faults=config.faults)
    run = PayrollRun(config, sandbox, registry, rolls)
    _report(progress, "population", 1.0)
    if not resume:
        run.accounts_used, run.registered_citizens = _open_and_register(sandbox, people, rng, config, progress)
    run.timings_s["prepare"] = time.perf_counter() - clock
    return run


def _open_and_register(
    sandbox: Sandbox, people: list[Person], rng: random.Random, config: PayrollConfig, progress: Progress | None
) -> tuple[set[tuple[str, str]], set[str]]:
    chosen = [p for p in people if rng.random() < config.registration_share]
    used: set[tuple[str, str]] = set()
    open_and_register(sandbox, chosen, rng, config, progress, used)
    return used, {p.citizen_id for p in chosen}


def open_and_register(
    sandbox: Sandbox,
    chosen: list[Person],
    rng: random.Random,
    config: PayrollConfig,
    progress: Progress | None,
    used: set[tuple[str, str]],
    first_request: int = 0,
) -> None:
    """The chosen people open an account and register it through the citizen app, chunk by chunk,
    so a million people's requests and reports are never all in memory. `used` holds the accounts
    opened so far (a later registration drive passes the same set)."""
    for start in range(0, len(chosen), REGISTRATION_CHUNK):
        people = chosen[start : start + REGISTRATION_CHUNK]
        holdings = open_population_accounts(sandbox, people, rng, used, config.account_status_mix)
        _near_cap(sandbox, holdings, rng, config)
        requests = [_registration(first_request + start + n, h) for n, h in enumerate(holdings)]
        sandbox.register(requests)
        sandbox.run()
        registered = {
            r.original_request_id for r in sandbox.registration_reports() if r.outcome == RegistrationOutcome.REGISTERED
        }
        sandbox.network.mailboxes.pop(CITIZEN_APP_ADDRESS, None)  # read: the reports need not stay
        _life_goes_on(
            sandbox, [h for r, h in zip(requests, holdings, strict=True) if r.request_id in registered], rng, config
        )
        _report(progress, "registrations", min(1.0, (start + REGISTRATION_CHUNK) / max(len(chosen), 1)))


def _registration(number: int, holding: Holding) -> AliasRegistration:
    return AliasRegistration(
        request_id=f"VNEID{number:09d}",
        alias=Alias(type=AliasType.CITIZEN_ID, value=holding.person.citizen_id),
        name=holding.person.name,
        citizen_id=holding.person.citizen_id,
        agent=holding.bin,
        account=holding.account,
    )


def _life_goes_on(sandbox: Sandbox, registered: list[Holding], rng: random.Random, config: PayrollConfig) -> None:
    """After registering, some accounts are closed or blocked before payday."""
    for holding in registered:
        roll = rng.random()
        if roll < config.closed_after_registration_share:
            sandbox.nodes[holding.bin].set_account_status(holding.account, AccountStatus.CLOSED)
        elif roll < config.closed_after_registration_share + config.blocked_after_registration_share:
            sandbox.nodes[holding.bin].set_account_status(holding.account, AccountStatus.BLOCKED)


def _near_cap(sandbox: Sandbox, holdings: list[Holding], rng: random.Random, config: PayrollConfig) -> None:
    """Customers of a capped wallet who already received most of this month's cap."""
    month = config.cycle
    for bin_code, node in sandbox.nodes.items():
        cap = node.limits.monthly_inflow_cap_vnd
        if cap is None or cap > 10_000_000:
            continue
        near = [h for h in holdings if h.bin == bin_code and rng.random() < config.near_cap_share]
        node.record_inflows([(h.account, month, cap - rng.randrange(0, 20) * 100_000) for h in near])


def submit(run: PayrollRun, progress: Progress | None = None) -> None:
    """The configured cycle's payroll, file by file in the configured format (`payer.submission`)."""
    clock = time.perf_counter()
    submit_cycle(run, run.config.cycle, run.config.file_format, progress)
    run.timings_s["submit"] = time.perf_counter() - clock


def submit_cycle(
    run: PayrollRun, cycle: str, file_format: str, progress: Progress | None = None, keep: bool = False
) -> list[PayrollFile]:
    """The payer's files of one cycle sent through the Treasury, each parsed as the switch's API
    would. `keep`: return the files sent (a scenario sends them again); otherwise each file's bytes
    go once it is in, so a national payroll's files are never all in memory."""
    created = local_time(run.sandbox.now_ms)
    count = files_needed(len(run.rolls), run.config.items_per_file)
    sent = []
    files = payroll_files(run.rolls, cycle, file_format, TREASURY_BIN, created, run.config.items_per_file)
    for number, file in enumerate(files, start=1):
        send(run, file)
        if keep:
            sent.append(file)
        _report(progress, "submission", number / count)
    return sent


def send(run: PayrollRun, file: PayrollFile) -> DisbursementRecord:
    """One payroll file in through the Treasury: the disbursement it made (or made before)."""
    parsed = read_file(file.file_format, file.data, file.message_id)
    return run.sandbox.submit_disbursement(TREASURY_BIN, parsed)


def run_until_complete(
    run: PayrollRun,
    progress: Progress | None = None,
    before_second: Callable[[int], bool] | None = None,
    after_second: Callable[[int], None] | None = None,
    seconds_max: int = RUN_SECONDS_MAX,
) -> None:
    """Simulated second by second until every disbursement is complete and `before_second` (a
    scenario's timeline: called at the start of each second) has nothing more to do; then the last
    confirmations and the banks' sweeps. `after_second` samples the network at each second's end."""
    clock = time.perf_counter()
    sandbox = run.sandbox
    start_ms = sandbox.now_ms
    for second in range(seconds_max):
        more = before_second(second) if before_second is not None else False
        sandbox.run(until_ms=start_ms + (second + 1) * RUN_STEP_MS)
        if after_second is not None:
            after_second(second)
        if not still_running(sandbox, progress) and not more:
            sandbox.run()
            run.timings_s["pay"] = time.perf_counter() - clock
            return
    raise AssertionError(f"the scenario did not settle in {seconds_max} simulated seconds")


def still_running(sandbox: Sandbox, progress: Progress | None) -> list[DisbursementRecord]:
    """The Treasury's disbursements still running; progress is told the share of its items already final."""
    disbursements = sandbox.switch.disbursements(TREASURY_BIN)
    running = [b for b in disbursements if b.status == DisbursementStatus.RUNNING]
    if progress is not None and disbursements:
        total = sum(b.items_total for b in disbursements)
        open_items = sum(sandbox.switch.disbursement_open_items(b.id) for b in running)
        progress("payroll", 1 - open_items / total if total else 1.0)
    return running


def reconcile(run: PayrollRun) -> InvariantReport:
    """The network's invariants, the payroll's among them (`network.checks`)."""
    return check_invariants(run.sandbox)


PREPARED_FILE = "prepared.json"


def run_resumable(
    config: PayrollConfig, out: Path, progress: Progress | None = None
) -> tuple[PayrollRun, InvariantReport]:
    """A payroll that a crash (SIGKILL at any point) does not spoil: run it again with the same
    config and folder and it goes on where the storage says it stopped. Preparation is redone from
    nothing if it had not finished; the files are submitted again (the same file is the same
    disbursement, so nobody is paid twice); running disbursements get their timers back."""
    assert config.folder is not None and config.database is None, "a resumable run keeps SQLite files in a folder"
    marker = out / PREPARED_FILE
    resume = marker.exists()
    if not resume and config.folder.exists():
        shutil.rmtree(config.folder)  # preparation did not finish: start it again from nothing
    run = prepare(config, progress, resume=resume)
    if resume:
        run.sandbox.opening_deposits_vnd = json.loads(marker.read_text())["opening_deposits_vnd"]
        run.sandbox.resume()
    else:
        out.mkdir(parents=True, exist_ok=True)
        temporary = marker.with_suffix(".tmp")
        temporary.write_text(json.dumps({"opening_deposits_vnd": run.sandbox.opening_deposits_vnd}))
        os.replace(temporary, marker)  # atomic: the marker is whole or absent
    submit(run, progress)
    run_until_complete(run, progress)
    return run, reconcile(run)


def _report(progress: Progress | None, phase: str, fraction: float) -> None:
    if progress is not None:
        progress(phase, fraction)


__all__ = ["PayrollConfig", "PayrollRun", "every_item_paid", "prepare", "reconcile", "run_until_complete", "submit"]
