"""Properties of the ledger over any sequence of batches, on in-memory SQLite (one ledger per example)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from ledger import (
    Account,
    AccountFlag,
    Ledger,
    PendingStatus,
    Transfer,
    TransferKind,
    TransferResult,
)
from ledger.repository import ACCOUNTS as ACCOUNTS_TABLE
from ledger.repository import TRANSFERS
from ledger.storage import open_engine

NOW_MS = 1_735_689_600_000

OWNS = AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS
NEVER_OWED = AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS
ACCOUNTS = [
    Account("settlement:970436", code=1),
    Account("position:970418", code=2),
    Account("c:0011001234567", code=10, flags=OWNS),
    Account("c:0011009876543", code=10, flags=OWNS),
    Account("payouts:970436", code=20, flags=NEVER_OWED),
]
FLAGS = {a.id: a.flags for a in ACCOUNTS}
UNKNOWN = "c:0099000000000"
SECOND_PHASES = (TransferKind.POST_PENDING, TransferKind.VOID_PENDING)

# A few ids so that they repeat, across batches and inside one, with the same and with other content.
# Weights come from repeating values in sampled_from (one_of gives a repeated strategy no more weight): mostly valid
# values, so that most examples reach funded deposits, reservations and their second phases.
VALID_IDS = [f"FT2411{n:02d}" for n in range(1, 7)]
KNOWN = [a.id for a in ACCOUNTS]
GOOD_PAIRS = [(debit, credit) for debit in KNOWN for credit in KNOWN if debit != credit]
BAD_PAIRS = [(KNOWN[0], KNOWN[0]), (UNKNOWN, KNOWN[1]), (KNOWN[2], UNKNOWN)]
INVALID_AMOUNTS = [0, -1, -500_000, 1.5, 100_000.0, True, False]

transfer_ids = st.sampled_from([*VALID_IDS, *VALID_IDS, "", "F" * 97])
# Second phases mostly take ids of their own, so that they do not all collide with the reservations.
second_phase_ids = st.sampled_from(["FIN-0001", "FIN-0002", "FIN-0003", "FIN-0004", *VALID_IDS[:2], ""])
pending_ids = st.sampled_from([*VALID_IDS, *VALID_IDS, None, ""])
account_pairs = st.sampled_from(GOOD_PAIRS + BAD_PAIRS)
amounts = st.one_of(
    st.integers(min_value=1, max_value=2_000_000),
    st.integers(min_value=1_000, max_value=100_000),
    st.sampled_from([100_000, 500_000, 1_000_000]),
    st.integers(min_value=1, max_value=3),
    st.sampled_from(INVALID_AMOUNTS),
)
kinds = st.sampled_from(
    [TransferKind.POSTED, TransferKind.POSTED, TransferKind.PENDING, TransferKind.PENDING, *SECOND_PHASES]
)


def make_transfer(
    transfer_id: str,
    second_phase_id: str,
    kind: TransferKind,
    pair: tuple[str, str],
    amount: float,
    pending_id: str | None,
    code: int,
) -> Transfer:
    if kind in SECOND_PHASES:
        return Transfer(second_phase_id, kind=kind, pending_id=pending_id, code=code)
    # `amount` is at times a float (INVALID_AMOUNTS) on purpose: the ledger must refuse it.
    return Transfer(transfer_id, *pair, amount, kind=kind, code=code)  # type: ignore[arg-type]


transfers = st.builds(
    make_transfer,
    transfer_ids,
    second_phase_ids,
    kinds,
    account_pairs,
    amounts,
    pending_ids,
    st.sampled_from([0, 0, 1]),
)
batches = st.lists(st.lists(transfers, min_size=1, max_size=10), min_size=1, max_size=5)

Balances = dict[str, tuple[int, int, int, int]]


@dataclass
class Replay:
    ledger: Ledger
    results: list[list[TransferResult]] = field(default_factory=list)
    balances: list[Balances] = field(default_factory=list)  # after each batch
    resubmitted: list[list[TransferResult]] = field(default_factory=list)
    balances_after_resubmit: list[Balances] = field(default_factory=list)


# One in-memory database for the module, emptied for every example: a new engine per example would
# compile every statement again (SQLAlchemy caches compiled statements per engine) and triple the time.
ENGINE = open_engine("sqlite://")


def new_ledger() -> Ledger:
    """A new ledger on empty tables, holding the accounts and nothing else."""
    ledger = Ledger(ENGINE)
    ledger.create_tables()
    with ENGINE.begin() as conn:
        conn.execute(TRANSFERS.delete())
        conn.execute(ACCOUNTS_TABLE.delete())
        ledger.create_accounts(conn, ACCOUNTS)
    return ledger


def read_balances(ledger: Ledger) -> Balances:
    with ledger.engine.connect() as conn:
        return {
            a.id: (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
            for a in ledger.accounts(conn)
        }


def replay(batch_list: list[list[Transfer]], resubmit: bool = False) -> Replay:
    """Post each batch in its own transaction; with `resubmit`, post its accepted transfers again."""
    run = Replay(new_ledger())
    for number, batch in enumerate(batch_list):
        with run.ledger.engine.begin() as conn:
            results = run.ledger.create_transfers(conn, batch, NOW_MS + number)
            run.ledger.check_invariants(conn)
        run.results.append(results)
        run.balances.append(read_balances(run.ledger))
        if resubmit:
            accepted = [t for t, r in zip(batch, results, strict=True) if r == TransferResult.OK]
            with run.ledger.engine.begin() as conn:
                run.resubmitted.append(run.ledger.create_transfers(conn, accepted, NOW_MS + 1_000 + number))
            run.balances_after_resubmit.append(read_balances(run.ledger))
    return run


def accepted(batch_list: list[list[Transfer]], run: Replay) -> list[Transfer]:
    return [
        t
        for batch, results in zip(batch_list, run.results, strict=True)
        for t, r in zip(batch, results, strict=True)
        if r == TransferResult.OK
    ]


@given(batches)
def test_total_debits_equal_total_credits_posted_and_pending_apart(batch_list):
    run = replay(batch_list)

    for balances in run.balances:
        assert sum(b[0] for b in balances.values()) == sum(b[2] for b in balances.values())  # pending
        assert sum(b[1] for b in balances.values()) == sum(b[3] for b in balances.values())  # posted
    with run.ledger.engine.connect() as conn:
        totals = run.ledger.check_invariants(conn)
    last = run.balances[-1]
    assert totals.debits_posted == sum(b[1] for b in last.values())
    assert totals.debits_pending == sum(b[0] for b in last.values())


@given(batches)
def test_the_balances_are_the_sum_of_the_accepted_transfers(batch_list):
    run = replay(batch_list)

    expected = {a.id: [0, 0, 0, 0] for a in ACCOUNTS}
    pendings: dict[str, Transfer] = {}
    for batch, results, balances in zip(batch_list, run.results, run.balances, strict=True):
        for transfer, result in zip(batch, results, strict=True):
            if result != TransferResult.OK:
                continue
            if transfer.kind in SECOND_PHASES:
                reserved = pendings.pop(transfer.pending_id)
                debit, credit = expected[reserved.debit_account_id], expected[reserved.credit_account_id]
                debit[0] -= reserved.amount_vnd
                credit[2] -= reserved.amount_vnd
                if transfer.kind == TransferKind.POST_PENDING:
                    debit[1] += reserved.amount_vnd
                    credit[3] += reserved.amount_vnd
                continue
            # Only a valid transfer between two known, distinct accounts is ever accepted.
            assert type(transfer.amount_vnd) is int and transfer.amount_vnd > 0
            assert transfer.debit_account_id != transfer.credit_account_id
            assert transfer.id
            debit, credit = expected[transfer.debit_account_id], expected[transfer.credit_account_id]
            if transfer.kind == TransferKind.PENDING:
                pendings[transfer.id] = transfer
                debit[0] += transfer.amount_vnd
                credit[2] += transfer.amount_vnd
            else:
                debit[1] += transfer.amount_vnd
                credit[3] += transfer.amount_vnd
        assert balances == {key: tuple(values) for key, values in expected.items()}


@given(batches)
def test_no_id_is_accepted_twice_and_a_resubmitted_batch_moves_nothing(batch_list):
    run = replay(batch_list, resubmit=True)

    first_accepted: dict[str, Transfer] = {}
    for batch, results in zip(batch_list, run.results, strict=True):
        for transfer, result in zip(batch, results, strict=True):
            earlier = first_accepted.get(transfer.id)
            if result == TransferResult.OK:
                assert earlier is None, f"{transfer.id} accepted twice"
                first_accepted[transfer.id] = transfer
            elif result == TransferResult.EXISTS:
                assert earlier is not None and earlier.same_content(transfer)
            elif result == TransferResult.EXISTS_WITH_DIFFERENT_FIELDS:
                assert earlier is not None and not earlier.same_content(transfer)
            elif result != TransferResult.ID_INVALID:
                assert earlier is None, f"{transfer.id} was taken, yet {result}"
    for resubmitted, before, after in zip(run.resubmitted, run.balances, run.balances_after_resubmit, strict=True):
        assert set(resubmitted) <= {TransferResult.EXISTS}
        assert after == before
    with run.ledger.engine.connect() as conn:
        stored = run.ledger.lookup_transfers(conn, list(first_accepted))
    assert set(stored) == set(first_accepted)
    for key, transfer in first_accepted.items():
        assert stored[key][0].same_content(transfer)


@given(batches)
def test_flagged_accounts_never_break_their_flag(batch_list):
    run = replay(batch_list)

    for balances in run.balances:
        for key, (debits_pending, debits_posted, credits_pending, credits_posted) in balances.items():
            assert min(debits_pending, debits_posted, credits_pending, credits_posted) >= 0
            if FLAGS[key] & OWNS:
                assert debits_pending + debits_posted <= credits_posted, key
            if FLAGS[key] & NEVER_OWED:
                assert credits_pending + credits_posted <= debits_posted, key


@given(batches)
def test_each_pending_transfer_ends_at_most_once_posted_or_voided(batch_list):
    run = replay(batch_list)

    pending_ids = set()
    finished: Counter[str] = Counter()
    ends: dict[str, PendingStatus] = {}
    for batch, results in zip(batch_list, run.results, strict=True):
        for transfer, result in zip(batch, results, strict=True):
            if result != TransferResult.OK:
                continue
            if transfer.kind == TransferKind.PENDING:
                pending_ids.add(transfer.id)
            elif transfer.kind in SECOND_PHASES:
                assert transfer.pending_id in pending_ids
                finished[transfer.pending_id] += 1
                posted = transfer.kind == TransferKind.POST_PENDING
                ends[transfer.pending_id] = PendingStatus.POSTED if posted else PendingStatus.VOIDED
    assert all(count == 1 for count in finished.values())
    with run.ledger.engine.connect() as conn:
        stored = run.ledger.lookup_transfers(conn, pending_ids)
    for key in pending_ids:
        assert stored[key][1] == ends.get(key, PendingStatus.PENDING)
