"""`switchyard demo`: a day on the default network, end to end, with a summary a person can read.

A population from Faker's vi_VN locale gets accounts at the five banks and three wallets; about 30%
register their account for welfare through the citizen app (verified by the bank); then a few
thousand person-to-person transfers run, some of them bound to fail (unknown aliases, closed and
blocked accounts, empty balances, a bank that answers late, a wallet that rejects now and then).
"""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from banks.schemas import AccountStatus, Behaviour, PaymentOrder
from payer.registry import generate_population
from scenarios.checks import InvariantReport, check_invariants
from scenarios.population import Holding, open_population_accounts
from scenarios.sandbox import DEFAULT_PARTICIPANTS, DEFAULT_START, Sandbox
from scenarios.storage import Storage
from switch.scheme.codes import AliasType, RegistrationOutcome, StatusReason
from switch.scheme.messages import Alias, AliasRegistration

REGISTRATION_SHARE = 0.30
MINUTE_MS = 60_000


@dataclass(slots=True, frozen=True)
class DemoConfig:
    people: int = 6_000
    transfers: int = 3_000
    seed: int = 2026
    out: Path = Path("out/demo")
    database: str | None = None  # a postgresql:// URL; SQLite files under out/ when None


@dataclass(slots=True)
class DemoResult:
    out: Path
    registrations: Counter[str]
    transfers: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    participants: list[dict[str, Any]]
    invariants: InvariantReport
    late_acceptances_refused: int


def demo_participants() -> tuple[Any, ...]:
    """The default network, with Agribank answering late now and then and VNPT Money flaky."""
    tuned = {
        "970405": Behaviour(latency_ms=40, timeout_rate=0.04, late_answer_ms=8_000),
        "971011": Behaviour(latency_ms=25, reject_rate=0.03, reject_reason=StatusReason.AC06),
    }
    return tuple(
        dataclasses.replace(spec, behaviour=tuned.get(spec.bin, spec.behaviour)) for spec in DEFAULT_PARTICIPANTS
    )


def run_demo(config: DemoConfig, progress: Any = None) -> DemoResult:
    rng = random.Random(config.seed)
    db_folder = config.out / "db"
    if db_folder.exists():
        shutil.rmtree(db_folder)  # a demo starts from nothing, so the same seed gives the same figures
    storage = Storage.from_option(config.database, db_folder)
    sandbox = Sandbox(storage, demo_participants(), seed=config.seed)
    people = generate_population(config.people, config.seed, DEFAULT_START.date())
    _advance(progress, "population", 1)
    holdings = open_population_accounts(sandbox, people, rng)
    _advance(progress, "accounts", 1)
    registered = _register(sandbox, holdings, rng)
    _advance(progress, "registrations", 1)
    _pay(sandbox, holdings, registered, rng, config.transfers, progress)
    invariants = check_invariants(sandbox)
    result = DemoResult(
        out=config.out,
        registrations=Counter(r.outcome.value for r in sandbox.registration_reports()),
        transfers=sandbox.switch.clearing_summary(),
        payments=_payments(sandbox),
        participants=_participants(sandbox),
        invariants=invariants,
        late_acceptances_refused=sandbox.switch.clearing.late_acceptances_refused,
    )
    _write(result)
    return result


def _register(sandbox: Sandbox, holdings: list[Holding], rng: random.Random) -> dict[str, Holding]:
    chosen = [h for h in holdings if rng.random() < REGISTRATION_SHARE]
    requests = []
    for number, holding in enumerate(chosen):
        person = holding.person
        name = person.name
        if rng.random() < 0.04:  # typed without the middle name: the bank answers close match
            words = name.split()
            name = f"{words[0]} {words[-1]}"
        alias_type = AliasType.MSISDN if holding.wallet else AliasType.CITIZEN_ID
        value = person.phone if holding.wallet else person.citizen_id
        requests.append(
            AliasRegistration(
                request_id=f"VNEID{number:08d}",
                alias=Alias(type=alias_type, value=value),
                name=name,
                citizen_id=person.citizen_id,
                agent=holding.bin,
                account=holding.account,
            )
        )
    sandbox.register(requests)
    sandbox.run()
    done = {
        r.original_request_id for r in sandbox.registration_reports() if r.outcome == RegistrationOutcome.REGISTERED
    }
    return {
        request.alias.key: holding
        for request, holding in zip(requests, chosen, strict=True)
        if request.request_id in done
    }


def _pay(
    sandbox: Sandbox,
    holdings: list[Holding],
    registered: dict[str, Holding],
    rng: random.Random,
    count: int,
    progress: Any,
) -> None:
    start = sandbox.now_ms + MINUTE_MS
    aliases = sorted(registered)
    window_ms = 10 * MINUTE_MS
    for number in range(count):
        debtor = rng.choice(holdings)
        order = _order(number, debtor, holdings, aliases, rng)
        sandbox.pay(debtor.bin, [order], at_ms=start + rng.randrange(window_ms))
    step_ms = window_ms // 20
    for step in range(1, 21):
        sandbox.run(until_ms=start + step * step_ms)
        _advance(progress, "transfers", 1)
    sandbox.run()


def _order(
    number: int, debtor: Holding, holdings: list[Holding], aliases: list[str], rng: random.Random
) -> PaymentOrder:
    roll = rng.random()
    amount = rng.randrange(1, 50) * 100_000 if rng.random() > 0.03 else rng.randrange(300, 600) * 100_000
    order_id = f"{debtor.bin}{number:010d}"
    if roll < 0.60 and aliases:
        alias_type, value = rng.choice(aliases).split(":", 1)
        return PaymentOrder(
            order_id=order_id, debtor_account=debtor.account, amount_vnd=amount,
            creditor_alias=Alias(type=AliasType(alias_type), value=value),
        )  # fmt: skip
    if roll < 0.65:  # somebody who never registered: the directory does not know the alias
        unknown = rng.choice(holdings).person.citizen_id[:6] + f"{rng.randrange(1_000_000):06d}"
        return PaymentOrder(
            order_id=order_id, debtor_account=debtor.account, amount_vnd=amount,
            creditor_alias=Alias(type=AliasType.CITIZEN_ID, value=unknown),
        )  # fmt: skip
    creditor = rng.choice(holdings)
    name = creditor.person.name if rng.random() < 0.98 else rng.choice(holdings).person.name
    return PaymentOrder(
        order_id=order_id, debtor_account=debtor.account, amount_vnd=amount,
        creditor_agent=creditor.bin, creditor_account=creditor.account, creditor_name=name,
    )  # fmt: skip


def _payments(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Payments as the customers saw them, refusals by their own bank included."""
    totals: Counter[tuple[str, str]] = Counter()
    amounts: Counter[tuple[str, str]] = Counter()
    for node in sandbox.nodes.values():
        for status, reason, count, amount in node.payments_by_outcome():
            totals[(status, reason or "")] += count
            amounts[(status, reason or "")] += amount
    return [
        {
            "status": status,
            "reason": reason or None,
            "count": totals[(status, reason)],
            "amount_vnd": amounts[(status, reason)],
        }
        for status, reason in sorted(totals)
    ]


def _participants(sandbox: Sandbox) -> list[dict[str, Any]]:
    positions = sandbox.switch.positions()
    sent: Counter[str] = Counter()
    received: Counter[str] = Counter()
    sent_vnd: Counter[str] = Counter()
    received_vnd: Counter[str] = Counter()
    for row in sandbox.switch.clearing_summary():
        if row["status"] == "ACSC":
            sent[row["debtor_agent"]] += row["count"]
            sent_vnd[row["debtor_agent"]] += row["amount_vnd"]
            received[row["creditor_agent"]] += row["count"]
            received_vnd[row["creditor_agent"]] += row["amount_vnd"]
    rows = []
    for bin_code, node in sandbox.nodes.items():
        customers = node.customers()
        rows.append(
            {
                "bin": bin_code,
                "name": node.name,
                "customers": len(customers),
                "closed_or_blocked": sum(c.status in (AccountStatus.CLOSED, AccountStatus.BLOCKED) for c in customers),
                "sent": sent[bin_code],
                "sent_vnd": sent_vnd[bin_code],
                "received": received[bin_code],
                "received_vnd": received_vnd[bin_code],
                "liquidity_vnd": positions[bin_code].liquidity_vnd,
            }
        )
    return rows


def _write(result: DemoResult) -> None:
    result.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "registrations": dict(sorted(result.registrations.items())),
        "transfers": sorted(
            result.transfers,
            key=lambda r: (r["status"], r["reason"] or "", r["debtor_agent"], r["creditor_agent"] or ""),
        ),
        "payments": result.payments,
        "participants": result.participants,
        "late_acceptances_refused": result.late_acceptances_refused,
        "invariants": dataclasses.asdict(result.invariants),
    }
    (result.out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _advance(progress: Any, label: str, amount: int) -> None:
    if progress is not None:
        progress(label, amount)
