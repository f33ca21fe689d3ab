"""ledger.service.Ledger on a real database: an SQLite file (WAL) and a fresh PostgreSQL schema."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, inspect, select, text

from ledger import (
    Account,
    AccountFlag,
    AccountResult,
    BatchTooLarge,
    Ledger,
    LedgerInvariantViolation,
    LedgerTotals,
    PendingStatus,
    Transfer,
    TransferKind,
    TransferResult,
)
from ledger.repository import ACCOUNTS, TRANSFERS
from ledger.schemas import ID_LENGTH_MAX

NOW_MS = 1_735_689_600_000

SETTLEMENT = "settlement:970436"
POSITION = "position:970436"
CUSTOMER = "c:0011001234567"
OTHER_CUSTOMER = "c:0011009876543"
OWNS = AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS


@pytest.fixture
def ledger(engine: Engine) -> Ledger:
    ledger = Ledger(engine)
    ledger.create_tables()
    return ledger


@pytest.fixture
def funded(ledger: Ledger) -> Ledger:
    """A settlement account, a position, and a deposit holding 1,000,000 VND."""
    with ledger.engine.begin() as conn:
        ledger.create_accounts(
            conn,
            [Account(SETTLEMENT, code=1), Account(POSITION, code=2), Account(CUSTOMER, code=10, flags=OWNS)],
        )
        ledger.create_transfers(conn, [Transfer("open:0011001234567", SETTLEMENT, CUSTOMER, 1_000_000)], NOW_MS)
    return ledger


def count_rows(engine: Engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def balances_of(ledger: Ledger) -> dict[str, tuple[int, int, int, int]]:
    with ledger.engine.connect() as conn:
        return {
            a.id: (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
            for a in ledger.accounts(conn)
        }


def table_name(engine: Engine, name: str) -> str:
    """The table's name as a raw SQL statement must spell it (in its schema on PostgreSQL)."""
    schema = (engine.get_execution_options().get("schema_translate_map") or {}).get(None)
    return f'"{schema}".{name}' if schema else name


# Tables and accounts


def test_create_tables_makes_the_account_and_transfer_tables(ledger: Ledger):
    schema = (ledger.engine.get_execution_options().get("schema_translate_map") or {}).get(None)

    names = set(inspect(ledger.engine).get_table_names(schema=schema))

    assert {"ledger_account", "ledger_transfer"} <= names


def test_create_tables_can_run_again_on_an_existing_ledger(funded: Ledger):
    funded.create_tables()

    assert balances_of(funded)[CUSTOMER] == (0, 0, 0, 1_000_000)


def test_new_accounts_are_created_and_a_repeat_exists(ledger: Ledger):
    with ledger.engine.begin() as conn:
        first = ledger.create_accounts(conn, [Account(POSITION, code=2), Account(CUSTOMER, code=10, flags=OWNS)])
    with ledger.engine.begin() as conn:
        again = ledger.create_accounts(
            conn,
            [
                Account(POSITION, code=2),
                Account(CUSTOMER, code=11, flags=OWNS),
                Account(CUSTOMER, code=10, flags=AccountFlag.NONE),
                Account(CUSTOMER, code=10, flags=OWNS),
            ],
        )

    assert first == [AccountResult.OK, AccountResult.OK]
    assert again == [
        AccountResult.EXISTS,
        AccountResult.EXISTS_WITH_DIFFERENT_FIELDS,
        AccountResult.EXISTS_WITH_DIFFERENT_FIELDS,
        AccountResult.EXISTS,
    ]
    with ledger.engine.connect() as conn:
        stored = ledger.lookup_accounts(conn, [CUSTOMER])
    assert stored == {CUSTOMER: Account(CUSTOMER, code=10, flags=OWNS)}


def test_an_account_repeated_inside_one_batch_is_created_once(ledger: Ledger):
    with ledger.engine.begin() as conn:
        results = ledger.create_accounts(
            conn, [Account(CUSTOMER, code=10), Account(CUSTOMER, code=10), Account(CUSTOMER, code=12)]
        )

    assert results == [AccountResult.OK, AccountResult.EXISTS, AccountResult.EXISTS_WITH_DIFFERENT_FIELDS]
    assert count_rows(ledger.engine, ACCOUNTS) == 1


@pytest.mark.parametrize("account_id", ["", "c:" + "0" * (ID_LENGTH_MAX - 1)], ids=["empty", "97 characters"])
def test_an_account_with_an_empty_or_overlong_id_is_invalid(ledger: Ledger, account_id: str):
    with ledger.engine.begin() as conn:
        results = ledger.create_accounts(conn, [Account(account_id), Account(POSITION)])

    assert results == [AccountResult.ID_INVALID, AccountResult.OK]
    assert count_rows(ledger.engine, ACCOUNTS) == 1


def test_a_new_account_starts_at_zero_whatever_balances_the_caller_passes(ledger: Ledger):
    with ledger.engine.begin() as conn:
        ledger.create_accounts(conn, [Account(CUSTOMER, code=10, credits_posted=5_000_000, debits_pending=7)])

    assert balances_of(ledger) == {CUSTOMER: (0, 0, 0, 0)}


# Posting batches


def test_a_batch_posts_and_is_read_back_from_another_connection(funded: Ledger):
    with funded.engine.begin() as conn:
        results = funded.create_transfers(
            conn,
            [
                Transfer("FT24001", CUSTOMER, POSITION, 300_000, code=5),
                Transfer("RSV-001", CUSTOMER, POSITION, 200_000, kind=TransferKind.PENDING),
            ],
            NOW_MS + 1,
        )

    assert results == [TransferResult.OK, TransferResult.OK]
    assert balances_of(funded)[CUSTOMER] == (200_000, 300_000, 0, 1_000_000)
    assert balances_of(funded)[POSITION] == (0, 0, 200_000, 300_000)
    with funded.engine.connect() as conn:
        stored = funded.lookup_transfers(conn, ["FT24001", "RSV-001", "FT-404"])
    assert stored == {
        "FT24001": (
            Transfer("FT24001", CUSTOMER, POSITION, 300_000, code=5, timestamp_ms=NOW_MS + 1),
            PendingStatus.NONE,
        ),
        "RSV-001": (
            Transfer("RSV-001", CUSTOMER, POSITION, 200_000, kind=TransferKind.PENDING, timestamp_ms=NOW_MS + 1),
            PendingStatus.PENDING,
        ),
    }


def test_an_empty_batch_posts_nothing(funded: Ledger):
    with funded.engine.begin() as conn:
        assert funded.create_transfers(conn, [], NOW_MS) == []


def test_a_batch_posts_in_the_callers_transaction_and_a_rollback_leaves_nothing(funded: Ledger):
    before = balances_of(funded)
    transfers_before = count_rows(funded.engine, TRANSFERS)

    with funded.engine.connect() as conn, conn.begin() as transaction:
        funded.create_accounts(conn, [Account(OTHER_CUSTOMER, code=10, flags=OWNS)])
        results = funded.create_transfers(
            conn,
            [
                Transfer("FT24001", CUSTOMER, OTHER_CUSTOMER, 300_000),
                Transfer("RSV-001", CUSTOMER, POSITION, 100_000, kind=TransferKind.PENDING),
            ],
            NOW_MS,
        )
        assert results == [TransferResult.OK, TransferResult.OK]
        # Inside the transaction the batch is visible...
        assert funded.lookup_accounts(conn, [CUSTOMER])[CUSTOMER].debits_posted == 300_000
        transaction.rollback()

    # ...and after the rollback nothing of it is left.
    assert balances_of(funded) == before
    assert count_rows(funded.engine, TRANSFERS) == transfers_before
    with funded.engine.connect() as conn:
        assert funded.lookup_transfers(conn, ["FT24001", "RSV-001"]) == {}
        assert funded.lookup_accounts(conn, [OTHER_CUSTOMER]) == {}
    # The ids were not taken: the same batch posts afterwards.
    with funded.engine.begin() as conn:
        funded.create_accounts(conn, [Account(OTHER_CUSTOMER, code=10, flags=OWNS)])
        assert funded.create_transfers(conn, [Transfer("FT24001", CUSTOMER, OTHER_CUSTOMER, 300_000)], NOW_MS) == [
            TransferResult.OK
        ]


def test_resubmitting_a_committed_batch_exists_and_moves_nothing(funded: Ledger):
    batch = [
        Transfer("FT24001", CUSTOMER, POSITION, 300_000),
        Transfer("RSV-001", CUSTOMER, POSITION, 200_000, kind=TransferKind.PENDING),
        Transfer("PST-001", kind=TransferKind.POST_PENDING, pending_id="RSV-001"),
    ]
    with funded.engine.begin() as conn:
        assert funded.create_transfers(conn, batch, NOW_MS) == [TransferResult.OK] * 3
    after_first = balances_of(funded)

    with funded.engine.begin() as conn:
        again = funded.create_transfers(conn, batch, NOW_MS + 60_000)

    assert again == [TransferResult.EXISTS] * 3
    assert balances_of(funded) == after_first
    with funded.engine.begin() as conn:
        other = funded.create_transfers(conn, [Transfer("FT24001", CUSTOMER, POSITION, 300_001)], NOW_MS)
    assert other == [TransferResult.EXISTS_WITH_DIFFERENT_FIELDS]
    assert balances_of(funded) == after_first


def test_a_pending_transfer_from_an_earlier_batch_is_posted_once_and_its_status_stored(funded: Ledger):
    with funded.engine.begin() as conn:
        funded.create_transfers(
            conn, [Transfer("RSV-001", CUSTOMER, POSITION, 400_000, kind=TransferKind.PENDING)], NOW_MS
        )
    with funded.engine.begin() as conn:
        results = funded.create_transfers(
            conn,
            [
                Transfer("PST-001", kind=TransferKind.POST_PENDING, pending_id="RSV-001"),
                Transfer("VOD-001", kind=TransferKind.VOID_PENDING, pending_id="RSV-001"),
            ],
            NOW_MS + 1,
        )
    with funded.engine.begin() as conn:
        later = funded.create_transfers(
            conn, [Transfer("PST-002", kind=TransferKind.POST_PENDING, pending_id="RSV-001")], NOW_MS + 2
        )

    assert results == [TransferResult.OK, TransferResult.PENDING_TRANSFER_ALREADY_POSTED]
    assert later == [TransferResult.PENDING_TRANSFER_ALREADY_POSTED]
    assert balances_of(funded)[CUSTOMER] == (0, 400_000, 0, 1_000_000)
    assert balances_of(funded)[POSITION] == (0, 0, 0, 400_000)
    with funded.engine.connect() as conn:
        stored = funded.lookup_transfers(conn, ["RSV-001", "PST-001"])
    assert stored["RSV-001"][1] == PendingStatus.POSTED
    assert stored["PST-001"] == (
        Transfer("PST-001", CUSTOMER, POSITION, 400_000, TransferKind.POST_PENDING, "RSV-001", 0, NOW_MS + 1),
        PendingStatus.NONE,
    )


def test_a_pending_transfer_from_an_earlier_batch_can_be_voided(funded: Ledger):
    with funded.engine.begin() as conn:
        funded.create_transfers(
            conn, [Transfer("RSV-001", CUSTOMER, POSITION, 400_000, kind=TransferKind.PENDING)], NOW_MS
        )
    with funded.engine.begin() as conn:
        results = funded.create_transfers(
            conn, [Transfer("VOD-001", kind=TransferKind.VOID_PENDING, pending_id="RSV-001")], NOW_MS
        )

    assert results == [TransferResult.OK]
    assert balances_of(funded)[CUSTOMER] == (0, 0, 0, 1_000_000)
    with funded.engine.connect() as conn:
        assert funded.lookup_transfers(conn, ["RSV-001"])["RSV-001"][1] == PendingStatus.VOIDED
        assert funded.check_invariants(conn) == LedgerTotals(0, 1_000_000, 0, 1_000_000)


# Batch size


def test_a_batch_over_the_limit_raises_and_writes_nothing(funded: Ledger):
    small = Ledger(funded.engine, batch_size_max=3)
    batch = [Transfer(f"FT2400{i}", SETTLEMENT, POSITION, 1_000) for i in range(4)]
    before = balances_of(funded)
    transfers_before = count_rows(funded.engine, TRANSFERS)

    with funded.engine.begin() as conn, pytest.raises(BatchTooLarge) as raised:
        small.create_transfers(conn, batch, NOW_MS)

    assert (raised.value.size, raised.value.size_max) == (4, 3)
    assert "4" in str(raised.value) and "3" in str(raised.value)
    assert balances_of(funded) == before
    assert count_rows(funded.engine, TRANSFERS) == transfers_before


def test_a_batch_of_accounts_over_the_limit_raises_and_creates_none(ledger: Ledger):
    small = Ledger(ledger.engine, batch_size_max=2)

    with ledger.engine.begin() as conn, pytest.raises(BatchTooLarge):
        small.create_accounts(conn, [Account(f"c:00110012345{i:02d}") for i in range(3)])

    assert count_rows(ledger.engine, ACCOUNTS) == 0


def test_a_batch_of_exactly_the_limit_posts(funded: Ledger):
    small = Ledger(funded.engine, batch_size_max=3)

    with funded.engine.begin() as conn:
        results = small.create_transfers(
            conn, [Transfer(f"FT2400{i}", SETTLEMENT, POSITION, 1_000) for i in range(3)], NOW_MS
        )

    assert results == [TransferResult.OK] * 3


# Invariants


def test_check_invariants_returns_the_totals(funded: Ledger):
    with funded.engine.begin() as conn:
        funded.create_transfers(
            conn,
            [
                Transfer("FT24001", CUSTOMER, POSITION, 300_000),
                Transfer("RSV-001", CUSTOMER, POSITION, 200_000, kind=TransferKind.PENDING),
            ],
            NOW_MS,
        )

    with funded.engine.connect() as conn:
        totals = funded.check_invariants(conn)

    assert totals == LedgerTotals(
        debits_pending=200_000, debits_posted=1_300_000, credits_pending=200_000, credits_posted=1_300_000
    )
    assert totals.balanced


def test_check_invariants_on_an_empty_ledger_returns_zero_totals(ledger: Ledger):
    with ledger.engine.connect() as conn:
        assert ledger.check_invariants(conn) == LedgerTotals(0, 0, 0, 0)


def test_check_invariants_raises_when_an_account_row_is_tampered_with(funded: Ledger):
    with funded.engine.begin() as conn:
        conn.execute(
            text(
                f"UPDATE {table_name(funded.engine, 'ledger_account')} "
                "SET credits_posted = credits_posted + 1 WHERE id = :id"
            ),
            {"id": POSITION},
        )

    with funded.engine.connect() as conn, pytest.raises(LedgerInvariantViolation, match="does not balance"):
        funded.check_invariants(conn)


def test_check_invariants_raises_when_balances_disagree_with_the_transfers(funded: Ledger):
    # Both sides moved by the same amount: the totals balance, but no transfer explains it.
    with funded.engine.begin() as conn:
        conn.execute(
            text(
                f"UPDATE {table_name(funded.engine, 'ledger_account')} "
                "SET debits_posted = debits_posted + 500, credits_posted = credits_posted + 500 WHERE id = :id"
            ),
            {"id": POSITION},
        )

    with funded.engine.connect() as conn, pytest.raises(LedgerInvariantViolation, match="disagree with transfers"):
        funded.check_invariants(conn)


def test_check_invariants_raises_when_a_transfer_row_is_tampered_with(funded: Ledger):
    with funded.engine.begin() as conn:
        conn.execute(
            text(f"UPDATE {table_name(funded.engine, 'ledger_transfer')} SET amount_vnd = amount_vnd - 1"),
        )

    with funded.engine.connect() as conn, pytest.raises(LedgerInvariantViolation):
        funded.check_invariants(conn)


def test_check_invariants_raises_when_an_account_breaks_its_flag(funded: Ledger):
    # The settlement account is 1,000,000 VND in debit; flag it as a deposit that can never owe.
    with funded.engine.begin() as conn:
        conn.execute(
            text(f"UPDATE {table_name(funded.engine, 'ledger_account')} SET flags = :flags WHERE id = :id"),
            {"flags": int(OWNS), "id": SETTLEMENT},
        )

    with funded.engine.connect() as conn, pytest.raises(LedgerInvariantViolation, match="debits exceed credits"):
        funded.check_invariants(conn)


# Amounts beyond what the database can hold (BIGINT: at most 2**63 - 1)


def test_an_amount_too_large_for_the_database_is_rejected_not_raised(funded: Ledger):
    """`create_transfers` promises never to raise for a rejected transfer."""
    with funded.engine.begin() as conn:
        results = funded.create_transfers(
            conn,
            [Transfer("FT24001", SETTLEMENT, POSITION, 2**63), Transfer("FT24002", SETTLEMENT, POSITION, 1_000)],
            NOW_MS,
        )

    assert results == [TransferResult.AMOUNT_EXCEEDS_MAXIMUM, TransferResult.OK]
    assert balances_of(funded)[POSITION] == (0, 0, 0, 1_000)


def test_a_transfer_that_would_overflow_a_balance_is_rejected_not_raised(funded: Ledger):
    with funded.engine.begin() as conn:
        first = funded.create_transfers(conn, [Transfer("FT24001", SETTLEMENT, POSITION, 2**63 - 2_000_000)], NOW_MS)
    assert first == [TransferResult.OK]

    with funded.engine.begin() as conn:
        second = funded.create_transfers(conn, [Transfer("FT24002", SETTLEMENT, POSITION, 2_000_000)], NOW_MS)

    assert second == [TransferResult.OVERFLOWS_BALANCE]
    assert balances_of(funded)[POSITION] == (0, 0, 0, 2**63 - 2_000_000)


def test_check_invariants_works_when_the_ledger_totals_pass_64_bits_though_every_balance_fits(ledger: Ledger):
    """Each balance is within BIGINT, so the ledger accepts both transfers; only their sum is not."""
    with ledger.engine.begin() as conn:
        ledger.create_accounts(conn, [Account(f"position:9704{n}") for n in range(10, 14)])
        results = ledger.create_transfers(
            conn,
            [
                Transfer("FT24001", "position:970410", "position:970411", 2**62),
                Transfer("FT24002", "position:970412", "position:970413", 2**62),
            ],
            NOW_MS,
        )
    assert results == [TransferResult.OK, TransferResult.OK]

    with ledger.engine.connect() as conn:
        totals = ledger.check_invariants(conn)

    assert totals == LedgerTotals(0, 2**63, 0, 2**63)
