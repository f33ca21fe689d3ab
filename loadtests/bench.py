"""`switchyard bench transfers`: transfers per second in process, next to bare SQLite.

Three ways of offering the same transfers to the same network (the switch, the default banks and
wallets, SQLite files in a fresh temporary folder, no faults):

- `single_sequential`: one transfer at a time, each run to its final status before the next; every
  step of every transfer is its own batch of one and its own database transaction.
- `single_concurrent`: every transfer is its own message from its own customer, arriving spread
  over time at a high offered rate; the transport hands each node what reached it in the same
  millisecond as one batch, so concurrent singles share transactions (micro-batching).
- `batched`: the debtor banks submit the transfers in batches of `BATCH_SIZE` at one instant.

The ceilings, measured in the same run on the same disk: bare `sqlite3` inserting ledger-shaped
rows with executemany in one transaction (the batched ceiling) and one row per transaction (the
sequential ceiling).
"""

from __future__ import annotations

import dataclasses
import random
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from banks.schemas import Customer, PaymentOrder
from network import nodes
from network.checks import check_invariants
from network.inprocess import InProcessNetwork
from network.participants import DEFAULT_PARTICIPANTS, sample_account
from network.sandbox import Sandbox
from network.storage import Storage
from switch.scheme import grouping
from switch.scheme.codes import ParticipantKind, Purpose, TransactionStatus
from switch.scheme.messages import TRANSACTIONS_PER_MESSAGE_MAX, CreditTransfer, Party, StatusReport
from switch.scheme.transport import SWITCH_ADDRESS, Envelope

BENCH_ACCOUNTS_PER_PARTICIPANT = 200
BENCH_OPENING_VND = 10_000_000_000  # enough that no bench transfer meets an empty account
BATCH_SIZE = 1_000
OFFERED_PER_MS = 20  # single_concurrent: 20,000 transfers per simulated second
SEQUENTIAL_SHARE = 0.1  # the sequential mode is slow: it runs a tenth of the count
COUNT_MAX = 1_000_000


def bench_transfers(count: int, database: str | None = None) -> dict[str, Any]:
    if not 0 < count <= COUNT_MAX:
        raise ValueError(f"count: must be between 1 and {COUNT_MAX}")
    modes: dict[str, float] = {}
    sequential = max(100, int(count * SEQUENTIAL_SHARE))
    modes["single_sequential"] = _run_mode("single_sequential", sequential, database)
    modes["single_concurrent"] = _run_mode("single_concurrent", count, database)
    modes["batched"] = _run_mode("batched", count, database)
    modes["switch_core_single_concurrent"] = _run_switch_core(count, database, batched=False)
    modes["switch_core_batched"] = _run_switch_core(count, database, batched=True)
    return {
        "count": count,
        "count_single_sequential": sequential,
        "modes": modes,
        "bare_sqlite_rows_per_second": _bare_sqlite(count, batched=True),
        "bare_sqlite_single_row_transactions_per_second": _bare_sqlite(max(1_000, sequential), batched=False),
        "database": "postgresql" if database and database.startswith("postgresql") else "sqlite",
    }


def _run_mode(mode: str, count: int, database: str | None) -> float:
    with tempfile.TemporaryDirectory(prefix="switchyard-bench-") as folder:
        storage = Storage.from_option(database, Path(folder))
        if storage.url:
            storage = Storage(url=storage.url, schema_prefix=f"bench_{mode}_{int(time.time())}")
        sandbox = Sandbox(storage, DEFAULT_PARTICIPANTS, seed=1)
        accounts = _open_accounts(sandbox)
        orders = _orders(count, accounts, random.Random(7))
        started = time.perf_counter()
        _offer(sandbox, mode, orders)
        elapsed = time.perf_counter() - started
        report = check_invariants(sandbox)
        sandbox.close()
        storage.drop()
        if not report.ok or report.settled_count != count:
            raise AssertionError(f"bench {mode}: settled {report.settled_count} of {count}; {report.failures[:3]}")
        return count / elapsed


class _AcceptingParticipant:
    """A participant reduced to its answer: accepts every credit at once, ignores every report,
    and answers what came together in one pacs.002, as the simulated banks do.

    It keeps the banks' own databases out of the figure, so what is measured is the switch alone.
    """

    offline = False

    def __init__(self, address: str) -> None:
        self.address = address
        self.message_ids = grouping.MessageIds(address)

    def handle(self, inbox: Sequence[Envelope], now_ms: int) -> list[Envelope]:
        out = []
        for envelope in grouping.opened(inbox):
            transfer = envelope.message
            if isinstance(transfer, CreditTransfer):
                report = StatusReport.model_construct(
                    original_message_id=transfer.message_id,
                    original_end_to_end_id=transfer.end_to_end_id,
                    original_transaction_id=transfer.transaction_id,
                    debtor_agent=transfer.debtor_agent,
                    transaction_status=TransactionStatus.ACSP,
                    creditor_agent=self.address,
                )
                out.append(Envelope(self.address, SWITCH_ADDRESS, report))
        return grouping.gathered(out, lambda _switch: TRANSACTIONS_PER_MESSAGE_MAX, self.message_ids.at(now_ms))


def _run_switch_core(count: int, database: str | None, batched: bool) -> float:
    """The switch node with its ledger, between participants that answer instantly."""
    with tempfile.TemporaryDirectory(prefix="switchyard-bench-") as folder:
        storage = Storage.from_option(database, Path(folder))
        if storage.url:
            storage = Storage(url=storage.url, schema_prefix=f"bench_core_{int(batched)}_{int(time.time())}")
        network = InProcessNetwork(0, seed=1)
        switch = nodes.build_switch(storage)
        network.add(switch)
        funds_vnd = BENCH_OPENING_VND * BENCH_ACCOUNTS_PER_PARTICIPANT
        banks = [spec for spec in DEFAULT_PARTICIPANTS if spec.kind == ParticipantKind.BANK]
        for spec in banks:
            nodes.admit(switch, dataclasses.replace(spec, net_debit_cap_vnd=0, prefund_vnd=funds_vnd), 0)
            network.add(_AcceptingParticipant(spec.bin))
        rng = random.Random(7)
        envelopes = []
        for number in range(count):
            debtor, creditor = rng.choice(banks).bin, rng.choice(banks).bin
            transfer = CreditTransfer.model_construct(
                message_id=f"M{number:09d}", end_to_end_id=f"E{number:09d}", transaction_id=f"T{number:09d}",
                amount_vnd=rng.randrange(1, 100) * 10_000, currency="VND",
                debtor=Party.model_construct(name="KHACH HANG", citizen_id=None), debtor_account="0011001234567",
                debtor_agent=debtor, creditor=Party.model_construct(name=None, citizen_id=None),
                creditor_account="0011007654321", creditor_alias=None, creditor_agent=creditor,
                purpose=Purpose.CASH, remittance_information=None,
            )  # fmt: skip
            envelopes.append(Envelope(debtor, SWITCH_ADDRESS, transfer, 0 if batched else number // OFFERED_PER_MS))
        started = time.perf_counter()
        network.inject(envelopes)
        network.run()
        elapsed = time.perf_counter() - started
        settled = sum(r["count"] for r in switch.clearing_summary() if r["status"] == TransactionStatus.ACSC.value)
        switch.check_invariants()
        switch.engine.dispose()
        storage.drop()
        if settled != count:
            raise AssertionError(f"bench switch core: settled {settled} of {count}")
        return count / elapsed


def _offer(sandbox: Sandbox, mode: str, orders: list[tuple[str, PaymentOrder]]) -> None:
    if mode == "single_sequential":
        for bin_code, order in orders:
            sandbox.pay(bin_code, [order])
            sandbox.run()
        return
    start = sandbox.now_ms + 1
    if mode == "single_concurrent":
        for number, (bin_code, order) in enumerate(orders):
            sandbox.pay(bin_code, [order], at_ms=start + number // OFFERED_PER_MS)
    else:
        for offset in range(0, len(orders), BATCH_SIZE):
            batch = orders[offset : offset + BATCH_SIZE]
            by_bank: dict[str, list[PaymentOrder]] = {}
            for bin_code, order in batch:
                by_bank.setdefault(bin_code, []).append(order)
            for bin_code, bank_orders in by_bank.items():
                sandbox.pay(bin_code, bank_orders, at_ms=start + offset // BATCH_SIZE)
    sandbox.run()


def _open_accounts(sandbox: Sandbox) -> list[tuple[str, str]]:
    accounts = []
    for spec in DEFAULT_PARTICIPANTS:
        customers = []
        for number in range(BENCH_ACCOUNTS_PER_PARTICIPANT):
            account = sample_account(spec.bin, spec.kind, number)
            citizen_id = f"001090{number:06d}"
            customers.append((Customer(account, f"KHACH HANG {number}", citizen_id), BENCH_OPENING_VND))
            accounts.append((spec.bin, account))
        sandbox.open_accounts(spec.bin, customers)
    return accounts


def _orders(count: int, accounts: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, PaymentOrder]]:
    orders = []
    banks = [a for a in accounts if not a[1].startswith("09")]
    for number in range(count):
        debtor_bin, debtor_account = rng.choice(banks)
        creditor_bin, creditor_account = rng.choice(banks)
        order = PaymentOrder.model_construct(
            order_id=f"B{number:09d}",
            debtor_account=debtor_account,
            amount_vnd=rng.randrange(1, 100) * 10_000,
            creditor_alias=None,
            creditor_agent=creditor_bin,
            creditor_account=creditor_account,
            creditor_name=None,
            purpose=Purpose.CASH,
            remittance_information=None,
        )
        orders.append((debtor_bin, order))
    return orders


def _bare_sqlite(count: int, batched: bool) -> float:
    """Ledger-shaped rows straight into sqlite3 (WAL, synchronous=NORMAL): the ceiling."""
    with tempfile.TemporaryDirectory(prefix="switchyard-ceiling-") as folder:
        connection = sqlite3.connect(Path(folder) / "ceiling.db", isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(
            "CREATE TABLE t (id TEXT PRIMARY KEY, debit TEXT, credit TEXT, amount INTEGER, kind INTEGER,"
            " pending_id TEXT, pending_status INTEGER, code INTEGER, ts INTEGER)"
        )
        rows = [(f"T{n:09d}", "a", "b", 1000 + n, 0, None, 0, 1, n) for n in range(count)]
        started = time.perf_counter()
        if batched:
            for offset in range(0, count, BATCH_SIZE):
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?)", rows[offset : offset + BATCH_SIZE])
                connection.execute("COMMIT")
        else:
            for row in rows:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?)", row)
                connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
        connection.close()
        return count / elapsed
