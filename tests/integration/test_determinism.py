"""Determinism: time is simulated and randomness is seeded, so the same seed gives the same run.

The scenario is a busy morning on a faulty network — duplicated messages, a bank that rejects some
credits, a wallet provider that often answers after the switch gave up, a bank with a tight net
debit cap — with the same 40 payment orders each time. Two runs with the same seed must end the same
to the dong and to the simulated millisecond: in one process, in another process (with another hash
seed), and on every database. Another seed may change timing and outcomes, never the invariants.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import network.sandbox
from banks import repository as bank_repository
from banks.schemas import Behaviour, Customer, PaymentOrder
from network.checks import check_invariants
from network.inprocess import LinkFaults
from network.participants import DEFAULT_PARTICIPANTS, ParticipantSpec
from network.sandbox import Sandbox
from network.storage import Storage
from network.xml_link import through_iso20022
from switch.errors import TransferNotFound
from switch.scheme.codes import AliasType, StatusReason, WireFormat
from switch.scheme.messages import Alias, AliasRegistration
from switch.scheme.transport import Envelope
from wallets.node import new_wallet

VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VBSP = "970436", "970418", "970415", "970405", "999888"
VIETTEL_MONEY, VNPT_MONEY = "971005", "971011"

PEOPLE: list[tuple[str, Customer, int]] = [
    (VIETCOMBANK, Customer("0011001234567", "NGUYEN VAN DUC", "001090012345"), 50_000_000),
    (VIETCOMBANK, Customer("0011001234568", "TRAN THI MAI", "079185012345"), 1_000),
    (BIDV, Customer("12010000123456", "LE VAN AN", "048070012345"), 20_000_000),
    (VIETINBANK, Customer("108000123456", "DANG VAN HUNG", "038088012345"), 30_000_000),
    (AGRIBANK, Customer("1500205123456", "BUI THI THU", "040192012345"), 10_000_000),
    (VBSP, Customer("8800012345", "LY VAN TAM", "096075012345"), 0),
    (VIETTEL_MONEY, new_wallet("0961234567", "HOANG VAN BINH", "036085012345"), 5_000_000),
    (VNPT_MONEY, new_wallet("0912345678", "NGO THI NGA", "001186012346"), 8_000_000),
]
ALIASES: list[tuple[Alias, str, int]] = [
    (Alias(type=AliasType.CITIZEN_ID, value="048070012345"), "Lê Văn An", 2),
    (Alias(type=AliasType.CITIZEN_ID, value="096075012345"), "Lý Văn Tâm", 5),
    (Alias(type=AliasType.MSISDN, value="0961234567"), "Hoàng Văn Bình", 6),
    (Alias(type=AliasType.MSISDN, value="0912345678"), "Ngô Thị Nga", 7),
]


def faulty_participants() -> tuple[ParticipantSpec, ...]:
    changes: dict[str, dict[str, Any]] = {
        BIDV: {"behaviour": Behaviour(reject_rate=0.2, reject_reason=StatusReason.AC06)},
        VNPT_MONEY: {"behaviour": Behaviour(latency_ms=80, timeout_rate=0.5, late_answer_ms=30_000)},
        VIETINBANK: {"prefund_vnd": 5_000_000, "net_debit_cap_vnd": 3_000_000},
    }
    return tuple(dataclasses.replace(p, **changes.get(p.bin, {})) for p in DEFAULT_PARTICIPANTS)


def the_orders() -> list[tuple[str, PaymentOrder, int]]:
    """The same 40 orders every time (their own fixed generator, not the network's seed): (bin, order, at)."""
    chooser = random.Random(20261201)
    orders = []
    for number in range(40):
        debtor_bin, debtor, _opening = chooser.choice(PEOPLE)
        target = number % (len(PEOPLE) + len(ALIASES) + 1)  # every creditor address, in turn
        if target < len(PEOPLE):
            creditor_bin, creditor, _ = PEOPLE[target]
            address: dict[str, Any] = {"creditor_agent": creditor_bin, "creditor_account": creditor.account}
        elif target < len(PEOPLE) + len(ALIASES):
            address = {"creditor_alias": ALIASES[target - len(PEOPLE)][0]}
        else:
            address = {"creditor_alias": Alias(type=AliasType.MSISDN, value="0987654321")}  # nobody's
        amount = 60_000_000 if chooser.random() < 0.1 else chooser.randint(1, 3_000_000)  # some above balances
        order = PaymentOrder(order_id=f"D{number:03d}", debtor_account=debtor.account, amount_vnd=amount, **address)
        orders.append((debtor_bin, order, chooser.randint(0, 10_000)))
    return orders


def run(storage: Storage, seed: int, participants: tuple[ParticipantSpec, ...] | None = None) -> Sandbox:
    sandbox = Sandbox(
        storage,
        participants=faulty_participants() if participants is None else participants,
        seed=seed,
        faults=LinkFaults(duplicate_rate=0.2),
        creditor_timeout_ms=5_000,
    )
    for bin_code, person, opening in PEOPLE:
        sandbox.open_accounts(bin_code, [(dataclasses.replace(person), opening)])
    sandbox.register(
        [
            AliasRegistration(
                request_id=f"REG-{n}",
                alias=alias,
                name=name,
                citizen_id=PEOPLE[owner][1].citizen_id,
                agent=PEOPLE[owner][0],
                account=PEOPLE[owner][1].account,
            )
            for n, (alias, name, owner) in enumerate(ALIASES)
        ]
    )
    sandbox.run()
    start = sandbox.now_ms
    for bin_code, order, at_ms in the_orders():
        sandbox.pay(bin_code, [order], at_ms=start + at_ms)
    sandbox.run()
    return sandbox


def outcome(sandbox: Sandbox) -> dict[str, Any]:
    """Everything a run decided, as plain JSON values: summary, each transfer, every ledger account."""
    summary = sorted(
        [r["status"], r["reason"], r["debtor_agent"], r["creditor_agent"], int(r["count"]), int(r["amount_vnd"])]
        for r in sandbox.switch.clearing_summary()
    )
    transfers: dict[str, list[str | int | None] | None] = {}
    for bin_code, order, _at in the_orders():
        try:
            record = sandbox.switch.transfer_status(bin_code, order.order_id)
        except TransferNotFound:
            transfers[order.order_id] = None
            continue
        transfers[order.order_id] = [
            record.status.value,
            record.reason.value if record.reason else None,
            record.creditor_agent,
            record.creditor_account,
            record.created_ms,
            record.updated_ms,
        ]
    balances = {
        f"{bin_code}/{account_id}": [a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted]
        for bin_code, node in sorted(sandbox.nodes.items())
        for account_id, a in sorted(node.balances().items())
    }
    positions = {b: [p.liquidity_vnd, p.reserved_vnd] for b, p in sorted(sandbox.switch.positions().items())}
    registrations = sorted([r.original_request_id, r.outcome.value] for r in sandbox.registration_reports())
    return {
        "summary": summary,
        "transfers": transfers,
        "balances": balances,
        "positions": positions,
        "registrations": registrations,
        "now_ms": sandbox.now_ms,
        "delivered": sandbox.network.stats.delivered,
        "duplicated": sandbox.network.stats.duplicated,
    }


def outcome_in_memory(seed: int) -> dict[str, Any]:
    """The run on in-memory SQLite; also what the subprocess in the cross-process test prints."""
    return outcome(run(Storage(), seed))


def assert_invariants(sandbox: Sandbox) -> None:
    assert check_invariants(sandbox).failures == []


def test_two_networks_with_the_same_seed_and_the_same_orders_end_identically(memory_storage: Storage) -> None:
    first = run(memory_storage, seed=42)
    second = run(memory_storage, seed=42)

    assert sorted(map(repr, first.switch.clearing_summary())) == sorted(map(repr, second.switch.clearing_summary()))
    assert outcome(first) == outcome(second)
    assert {b: n.balances() for b, n in first.nodes.items()} == {b: n.balances() for b, n in second.nodes.items()}
    assert_invariants(first)
    assert_invariants(second)


def test_every_participant_on_the_iso20022_wire_ends_exactly_as_on_json(
    memory_storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The XML codec is a transport, not a rule: each of their messages written as its ISO 20022
    document and read back on the way (network.xml_link) changes nothing a run decides."""
    carried: Counter[str] = Counter()

    def counted(envelope: Envelope) -> Envelope:
        carried[type(envelope.message).__name__] += 1
        return through_iso20022(envelope)

    monkeypatch.setattr(network.sandbox, "through_iso20022", counted)
    on_xml = tuple(dataclasses.replace(p, wire=WireFormat.ISO20022_XML) for p in faulty_participants())
    through_xml = run(memory_storage, seed=42, participants=on_xml)

    assert set(through_xml.network.codecs) == {p.bin for p in DEFAULT_PARTICIPANTS}
    assert {"CreditTransfer", "StatusReport", "VerificationRequest", "VerificationReport"} <= set(carried)
    assert outcome(through_xml) == outcome(run(memory_storage, seed=42))
    assert_invariants(through_xml)


def test_the_scenario_exercises_the_faults_it_is_meant_to(memory_storage: Storage) -> None:
    """A determinism check over a run where nothing random happens would prove little."""
    sandbox = run(memory_storage, seed=42)

    reasons = {(r["status"], r["reason"]) for r in sandbox.switch.clearing_summary()}
    assert {("ACSC", None), ("RJCT", "AC06"), ("RJCT", "AB05"), ("RJCT", "BE23")} <= reasons
    assert sandbox.network.stats.duplicated > 0
    assert sandbox.switch.clearing.late_acceptances_refused > 0
    outbound_reasons = set()
    for node in sandbox.nodes.values():
        with node.engine.begin() as conn:
            outbound_reasons |= set(conn.execute(select(bank_repository.OUTBOUND.c.reason)).scalars())
    assert "AM04" in outbound_reasons  # refused at home for want of funds


def test_a_different_seed_may_change_timing_and_outcomes_but_the_invariants_hold(memory_storage: Storage) -> None:
    runs = {seed: run(memory_storage, seed) for seed in (1, 2, 3)}

    for sandbox in runs.values():
        assert_invariants(sandbox)
    outcomes = [outcome(s) for s in runs.values()]
    assert outcomes[0] != outcomes[1] or outcomes[1] != outcomes[2]  # the seed is used


def test_on_a_calm_network_another_seed_changes_only_the_timing(memory_storage: Storage) -> None:
    """No random faults: each order ends the same whatever the seed; only when it ends may differ."""
    calm = tuple(
        dataclasses.replace(p, prefund_vnd=100_000_000_000, net_debit_cap_vnd=50_000_000_000)
        for p in DEFAULT_PARTICIPANTS
    )
    first, second = outcome(run(memory_storage, 1, calm)), outcome(run(memory_storage, 2, calm))

    def decided(result: dict[str, Any]) -> dict[str, Any]:
        return {k: None if v is None else v[:4] for k, v in result["transfers"].items()}

    assert decided(first) == decided(second)
    assert first["summary"] == second["summary"]
    customers = {k: v for k, v in first["balances"].items() if "/c:" in k}
    assert customers == {k: v for k, v in second["balances"].items() if "/c:" in k}


def test_the_same_seed_gives_the_same_run_on_every_database(storage: Storage) -> None:
    on_this_database = run(storage, seed=42)

    assert outcome(on_this_database) == outcome_in_memory(42)
    assert_invariants(on_this_database)


def test_the_clearing_summary_reads_the_same_on_every_database_with_money_as_integer_vnd(storage: Storage) -> None:
    """A report printed from the summary must be byte-identical whatever the database."""
    on_this_database = run(storage, seed=42).switch.clearing_summary()
    in_memory = run(Storage(), seed=42).switch.clearing_summary()

    assert {type(r["amount_vnd"]).__name__ for r in on_this_database} == {"int"}  # VND has no minor unit
    assert {type(r["count"]).__name__ for r in on_this_database} == {"int"}
    assert sorted(map(repr, on_this_database)) == sorted(map(repr, in_memory))


def test_the_same_seed_gives_the_same_run_in_another_process_with_another_hash_seed() -> None:
    here = Path(__file__).resolve().parent
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(here)!r})\n"
        "from test_determinism import outcome_in_memory\n"
        "print(json.dumps(outcome_in_memory(42)))\n"
    )
    results = []
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=here.parent.parent, check=True
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))

    expected = json.loads(json.dumps(outcome_in_memory(42)))
    assert results[0] == expected
    assert results[1] == expected
