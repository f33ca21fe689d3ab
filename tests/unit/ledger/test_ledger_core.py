"""ledger.core.decide_transfers: the pure decision on a batch of transfers, without a database."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from ledger.core import decide_transfers
from ledger.schemas import (
    ID_LENGTH_MAX,
    LEDGER_AMOUNT_VND_MAX,
    Account,
    AccountFlag,
    PendingStatus,
    Transfer,
    TransferKind,
    TransferResult,
)

NOW_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z

SETTLEMENT = "settlement:970436"
POSITION = "position:970436"
CUSTOMER = "c:0011001234567"
OTHER_CUSTOMER = "c:0011009876543"
PAYOUTS = "payouts:970436"  # never owed more than it was paid

OWNS = AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS
NEVER_OWED = AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS


def book(*accounts: Account) -> dict[str, Account]:
    return {account.id: account for account in accounts}


def standard_book() -> dict[str, Account]:
    """A bank's books: a settlement account, a position, two deposits (one funded), a payout account."""
    return book(
        Account(SETTLEMENT, code=1),
        Account(POSITION, code=2, debits_posted=5_000_000, credits_posted=50_000_000),
        Account(CUSTOMER, code=10, flags=OWNS, credits_posted=1_000_000),
        Account(OTHER_CUSTOMER, code=10, flags=OWNS),
        Account(PAYOUTS, code=20, flags=NEVER_OWED, debits_posted=300_000),
    )


def decide(batch, accounts=None, existing=None, pendings=None):
    return decide_transfers(
        batch,
        standard_book() if accounts is None else accounts,
        existing or {},
        pendings or {},
        NOW_MS,
    )


def posted(transfer_id: str, debit: str, credit: str, amount: int, code: int = 0) -> Transfer:
    return Transfer(transfer_id, debit, credit, amount, code=code)


def pending(transfer_id: str, debit: str, credit: str, amount: int) -> Transfer:
    return Transfer(transfer_id, debit, credit, amount, kind=TransferKind.PENDING)


def post_pending(transfer_id: str, pending_id: str | None) -> Transfer:
    return Transfer(transfer_id, kind=TransferKind.POST_PENDING, pending_id=pending_id)


def void_pending(transfer_id: str, pending_id: str | None) -> Transfer:
    return Transfer(transfer_id, kind=TransferKind.VOID_PENDING, pending_id=pending_id)


def stored_pending(transfer: Transfer, status: PendingStatus = PendingStatus.PENDING):
    """The `pendings` argument for a pending transfer already in the database, and its reservation."""
    return {transfer.id: (transfer, status)}


def balances(account: Account) -> tuple[int, int, int, int]:
    return (account.debits_pending, account.debits_posted, account.credits_pending, account.credits_posted)


# Single-phase posting


def test_a_single_phase_transfer_posts_the_amount_on_both_sides():
    decision = decide([posted("FT24001", SETTLEMENT, CUSTOMER, 250_000)])

    assert decision.results == [TransferResult.OK]
    assert balances(decision.accounts[SETTLEMENT]) == (0, 250_000, 0, 0)
    assert balances(decision.accounts[CUSTOMER]) == (0, 0, 0, 1_250_000)
    assert decision.accounts[CUSTOMER].balance_vnd == 1_250_000


def test_an_accepted_transfer_is_inserted_with_the_clock_time():
    decision = decide([posted("FT24001", SETTLEMENT, CUSTOMER, 250_000, code=7)])

    assert decision.inserts == [
        Transfer("FT24001", SETTLEMENT, CUSTOMER, 250_000, TransferKind.POSTED, None, 7, NOW_MS)
    ]
    assert decision.pending_statuses == {}


def test_the_decision_lists_only_the_accounts_a_transfer_touched():
    decision = decide([posted("FT24001", POSITION, OTHER_CUSTOMER, 100_000)])

    assert set(decision.accounts) == {POSITION, OTHER_CUSTOMER}


def test_a_rejected_transfer_is_not_inserted_and_touches_no_account():
    decision = decide([posted("FT24001", CUSTOMER, SETTLEMENT, 9_000_000)])

    assert decision.results == [TransferResult.EXCEEDS_CREDITS]
    assert decision.inserts == []
    assert decision.accounts == {}


def test_an_empty_batch_decides_nothing():
    decision = decide([])

    assert (decision.results, decision.inserts, decision.accounts, decision.pending_statuses) == ([], [], {}, {})


# Two-phase transfers


def test_a_pending_transfer_reserves_the_amount_without_posting_it():
    decision = decide([pending("RSV-001", CUSTOMER, SETTLEMENT, 400_000)])

    assert decision.results == [TransferResult.OK]
    assert balances(decision.accounts[CUSTOMER]) == (400_000, 0, 0, 1_000_000)
    assert balances(decision.accounts[SETTLEMENT]) == (0, 0, 400_000, 0)
    assert decision.accounts[CUSTOMER].available_vnd == 600_000
    assert decision.inserts[0].kind == TransferKind.PENDING


def test_posting_a_pending_transfer_moves_the_reservation_to_posted():
    reservation = pending("RSV-001", CUSTOMER, SETTLEMENT, 400_000)
    accounts = book(
        Account(CUSTOMER, flags=OWNS, debits_pending=400_000, credits_posted=1_000_000),
        Account(SETTLEMENT, credits_pending=400_000),
    )

    decision = decide([post_pending("PST-001", "RSV-001")], accounts, pendings=stored_pending(reservation))

    assert decision.results == [TransferResult.OK]
    assert balances(decision.accounts[CUSTOMER]) == (0, 400_000, 0, 1_000_000)
    assert balances(decision.accounts[SETTLEMENT]) == (0, 0, 0, 400_000)
    assert decision.pending_statuses == {"RSV-001": PendingStatus.POSTED}


def test_voiding_a_pending_transfer_releases_the_reservation():
    reservation = pending("RSV-001", CUSTOMER, SETTLEMENT, 400_000)
    accounts = book(
        Account(CUSTOMER, flags=OWNS, debits_pending=400_000, credits_posted=1_000_000),
        Account(SETTLEMENT, credits_pending=400_000),
    )

    decision = decide([void_pending("VOD-001", "RSV-001")], accounts, pendings=stored_pending(reservation))

    assert decision.results == [TransferResult.OK]
    assert balances(decision.accounts[CUSTOMER]) == (0, 0, 0, 1_000_000)
    assert balances(decision.accounts[SETTLEMENT]) == (0, 0, 0, 0)
    assert decision.pending_statuses == {"RSV-001": PendingStatus.VOIDED}


def test_the_second_phase_is_stored_with_the_accounts_and_amount_of_its_pending():
    reservation = pending("RSV-001", CUSTOMER, SETTLEMENT, 400_000)
    accounts = book(
        Account(CUSTOMER, flags=OWNS, debits_pending=400_000, credits_posted=1_000_000),
        Account(SETTLEMENT, credits_pending=400_000),
    )
    # Whatever the sender puts in the accounts and the amount of a second phase is ignored.
    second = Transfer("PST-001", OTHER_CUSTOMER, POSITION, 1, kind=TransferKind.POST_PENDING, pending_id="RSV-001")

    decision = decide([second], accounts, pendings=stored_pending(reservation))

    assert decision.results == [TransferResult.OK]
    assert decision.inserts == [
        Transfer("PST-001", CUSTOMER, SETTLEMENT, 400_000, TransferKind.POST_PENDING, "RSV-001", 0, NOW_MS)
    ]
    assert balances(decision.accounts[CUSTOMER]) == (0, 400_000, 0, 1_000_000)


def test_a_pending_transfer_can_be_posted_in_the_batch_that_created_it():
    decision = decide([pending("RSV-001", CUSTOMER, SETTLEMENT, 400_000), post_pending("PST-001", "RSV-001")])

    assert decision.results == [TransferResult.OK, TransferResult.OK]
    assert balances(decision.accounts[CUSTOMER]) == (0, 400_000, 0, 1_000_000)
    assert balances(decision.accounts[SETTLEMENT]) == (0, 0, 0, 400_000)
    assert decision.pending_statuses == {"RSV-001": PendingStatus.POSTED}
    assert [t.id for t in decision.inserts] == ["RSV-001", "PST-001"]


def test_a_pending_transfer_can_be_posted_only_once():
    reservation = pending("RSV-001", CUSTOMER, SETTLEMENT, 400_000)
    accounts = book(
        Account(CUSTOMER, flags=OWNS, debits_pending=400_000, credits_posted=1_000_000),
        Account(SETTLEMENT, credits_pending=400_000),
    )

    decision = decide(
        [post_pending("PST-001", "RSV-001"), post_pending("PST-002", "RSV-001"), void_pending("VOD-001", "RSV-001")],
        accounts,
        pendings=stored_pending(reservation),
    )

    assert decision.results == [
        TransferResult.OK,
        TransferResult.PENDING_TRANSFER_ALREADY_POSTED,
        TransferResult.PENDING_TRANSFER_ALREADY_POSTED,
    ]
    assert balances(decision.accounts[CUSTOMER]) == (0, 400_000, 0, 1_000_000)


def test_a_voided_pending_transfer_can_be_neither_voided_again_nor_posted():
    decision = decide(
        [
            pending("RSV-001", CUSTOMER, SETTLEMENT, 400_000),
            void_pending("VOD-001", "RSV-001"),
            void_pending("VOD-002", "RSV-001"),
            post_pending("PST-001", "RSV-001"),
        ]
    )

    assert decision.results == [
        TransferResult.OK,
        TransferResult.OK,
        TransferResult.PENDING_TRANSFER_ALREADY_VOIDED,
        TransferResult.PENDING_TRANSFER_ALREADY_VOIDED,
    ]
    assert balances(decision.accounts[CUSTOMER]) == (0, 0, 0, 1_000_000)


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (PendingStatus.POSTED, TransferResult.PENDING_TRANSFER_ALREADY_POSTED),
        (PendingStatus.VOIDED, TransferResult.PENDING_TRANSFER_ALREADY_VOIDED),
    ],
)
@pytest.mark.parametrize("second_phase", [post_pending, void_pending])
def test_a_pending_transfer_finished_in_an_earlier_batch_cannot_be_finished_again(status, result, second_phase):
    reservation = pending("RSV-001", CUSTOMER, SETTLEMENT, 400_000)

    decision = decide([second_phase("FIN-002", "RSV-001")], pendings=stored_pending(reservation, status))

    assert decision.results == [result]
    assert decision.inserts == []
    assert decision.pending_statuses == {}


@pytest.mark.parametrize("second_phase", [post_pending, void_pending])
@pytest.mark.parametrize("pending_id", [None, ""])
def test_a_second_phase_needs_a_pending_id(second_phase, pending_id):
    decision = decide([second_phase("FIN-001", pending_id)])

    assert decision.results == [TransferResult.PENDING_ID_REQUIRED]


@pytest.mark.parametrize("second_phase", [post_pending, void_pending])
def test_a_second_phase_of_an_unknown_pending_is_not_found(second_phase):
    decision = decide([second_phase("FIN-001", "RSV-404")])

    assert decision.results == [TransferResult.PENDING_TRANSFER_NOT_FOUND]


def test_a_single_phase_transfer_cannot_be_posted_as_if_it_were_pending():
    decision = decide([posted("FT24001", SETTLEMENT, CUSTOMER, 250_000), post_pending("PST-001", "FT24001")])

    assert decision.results == [TransferResult.OK, TransferResult.PENDING_TRANSFER_NOT_FOUND]


# Idempotency


def test_the_same_id_with_the_same_content_exists_and_moves_nothing():
    stored = Transfer("FT24001", SETTLEMENT, CUSTOMER, 250_000, timestamp_ms=NOW_MS - 60_000)

    decision = decide([posted("FT24001", SETTLEMENT, CUSTOMER, 250_000)], existing={"FT24001": stored})

    assert decision.results == [TransferResult.EXISTS]
    assert decision.inserts == []
    assert decision.accounts == {}


@pytest.mark.parametrize(
    "other",
    [
        Transfer("FT24001", SETTLEMENT, CUSTOMER, 250_001),
        Transfer("FT24001", POSITION, CUSTOMER, 250_000),
        Transfer("FT24001", SETTLEMENT, OTHER_CUSTOMER, 250_000),
        Transfer("FT24001", SETTLEMENT, CUSTOMER, 250_000, code=9),
        Transfer("FT24001", SETTLEMENT, CUSTOMER, 250_000, kind=TransferKind.PENDING),
    ],
    ids=["other amount", "other debit account", "other credit account", "other code", "other kind"],
)
def test_the_same_id_with_other_content_exists_with_different_fields(other):
    stored = Transfer("FT24001", SETTLEMENT, CUSTOMER, 250_000)

    decision = decide([other], existing={"FT24001": stored})

    assert decision.results == [TransferResult.EXISTS_WITH_DIFFERENT_FIELDS]
    assert decision.inserts == []
    assert decision.accounts == {}


def test_a_second_phase_resubmitted_with_the_same_pending_id_exists():
    stored = Transfer("PST-001", CUSTOMER, SETTLEMENT, 400_000, TransferKind.POST_PENDING, "RSV-001")

    decision = decide(
        [post_pending("PST-001", "RSV-001"), post_pending("PST-001", "RSV-002"), void_pending("PST-001", "RSV-001")],
        existing={"PST-001": stored},
    )

    assert decision.results == [
        TransferResult.EXISTS,
        TransferResult.EXISTS_WITH_DIFFERENT_FIELDS,
        TransferResult.EXISTS_WITH_DIFFERENT_FIELDS,
    ]


def test_a_duplicate_id_inside_one_batch_moves_money_once():
    decision = decide(
        [
            posted("FT24001", SETTLEMENT, CUSTOMER, 250_000),
            posted("FT24001", SETTLEMENT, CUSTOMER, 250_000),
            posted("FT24001", SETTLEMENT, CUSTOMER, 999_000),
        ]
    )

    assert decision.results == [
        TransferResult.OK,
        TransferResult.EXISTS,
        TransferResult.EXISTS_WITH_DIFFERENT_FIELDS,
    ]
    assert [t.id for t in decision.inserts] == ["FT24001"]
    assert decision.accounts[CUSTOMER].credits_posted == 1_250_000


# Validation


@pytest.mark.parametrize("transfer_id", ["", "F" * (ID_LENGTH_MAX + 1)], ids=["empty", "97 characters"])
def test_an_empty_or_overlong_id_is_invalid(transfer_id):
    decision = decide([posted(transfer_id, SETTLEMENT, CUSTOMER, 250_000)])

    assert decision.results == [TransferResult.ID_INVALID]
    assert decision.inserts == []


def test_an_id_of_exactly_the_maximum_length_is_accepted():
    decision = decide([posted("F" * ID_LENGTH_MAX, SETTLEMENT, CUSTOMER, 250_000)])

    assert decision.results == [TransferResult.OK]


@pytest.mark.parametrize(
    "amount",
    [0, -1, -250_000, 250_000.0, 0.5, True, False, Decimal(250_000), "250000", None],
    ids=["zero", "minus one", "negative", "float", "fraction", "True", "False", "Decimal", "str", "None"],
)
@pytest.mark.parametrize("kind", [TransferKind.POSTED, TransferKind.PENDING])
def test_an_amount_must_be_a_positive_integer(amount, kind):
    decision = decide([Transfer("FT24001", SETTLEMENT, CUSTOMER, amount, kind=kind)])

    assert decision.results == [TransferResult.AMOUNT_MUST_BE_POSITIVE_INTEGER]
    assert decision.inserts == []
    assert decision.accounts == {}


@pytest.mark.parametrize("kind", [TransferKind.POSTED, TransferKind.PENDING])
def test_an_amount_past_64_bits_exceeds_the_maximum(kind):
    decision = decide([Transfer("FT24001", SETTLEMENT, POSITION, LEDGER_AMOUNT_VND_MAX + 1, kind=kind)])

    assert decision.results == [TransferResult.AMOUNT_EXCEEDS_MAXIMUM]
    assert decision.inserts == []


def test_an_amount_of_exactly_the_maximum_is_accepted_into_empty_accounts():
    accounts = book(Account(SETTLEMENT), Account(POSITION))

    decision = decide([posted("FT24001", SETTLEMENT, POSITION, LEDGER_AMOUNT_VND_MAX)], accounts)

    assert decision.results == [TransferResult.OK]
    assert decision.accounts[POSITION].credits_posted == LEDGER_AMOUNT_VND_MAX


@pytest.mark.parametrize(
    "accounts",
    [
        book(Account(SETTLEMENT, debits_posted=LEDGER_AMOUNT_VND_MAX - 10), Account(POSITION)),
        book(Account(SETTLEMENT, debits_pending=LEDGER_AMOUNT_VND_MAX - 10), Account(POSITION)),
        book(Account(SETTLEMENT), Account(POSITION, credits_posted=LEDGER_AMOUNT_VND_MAX - 10)),
        book(Account(SETTLEMENT), Account(POSITION, credits_pending=5, credits_posted=LEDGER_AMOUNT_VND_MAX - 15)),
    ],
    ids=["debits posted", "debits pending", "credits posted", "credits pending and posted"],
)
@pytest.mark.parametrize("kind", [TransferKind.POSTED, TransferKind.PENDING])
def test_a_transfer_that_would_push_a_balance_past_64_bits_overflows(accounts, kind):
    decision = decide(
        [
            Transfer("FT24001", SETTLEMENT, POSITION, 11, kind=kind),
            Transfer("FT24002", SETTLEMENT, POSITION, 10, kind=kind),
        ],
        accounts,
    )

    assert decision.results == [TransferResult.OVERFLOWS_BALANCE, TransferResult.OK]


def test_the_debit_and_credit_accounts_must_be_different():
    decision = decide([posted("FT24001", SETTLEMENT, SETTLEMENT, 250_000)])

    assert decision.results == [TransferResult.ACCOUNTS_MUST_BE_DIFFERENT]


def test_an_unknown_debit_account_is_not_found():
    decision = decide([posted("FT24001", "c:0099000000000", CUSTOMER, 250_000)])

    assert decision.results == [TransferResult.DEBIT_ACCOUNT_NOT_FOUND]


def test_an_unknown_credit_account_is_not_found():
    decision = decide([posted("FT24001", SETTLEMENT, "c:0099000000000", 250_000)])

    assert decision.results == [TransferResult.CREDIT_ACCOUNT_NOT_FOUND]


# Account flags


def test_a_deposit_cannot_be_debited_beyond_its_credits():
    decision = decide([posted("FT24001", CUSTOMER, OTHER_CUSTOMER, 1_000_001)])

    assert decision.results == [TransferResult.EXCEEDS_CREDITS]


def test_a_deposit_can_be_debited_down_to_exactly_zero():
    decision = decide([posted("FT24001", CUSTOMER, OTHER_CUSTOMER, 1_000_000)])

    assert decision.results == [TransferResult.OK]
    assert decision.accounts[CUSTOMER].balance_vnd == 0


def test_a_reservation_counts_against_what_a_deposit_can_still_spend():
    decision = decide(
        [
            pending("RSV-001", CUSTOMER, SETTLEMENT, 700_000),
            posted("FT24001", CUSTOMER, SETTLEMENT, 300_001),
            posted("FT24002", CUSTOMER, SETTLEMENT, 300_000),
        ]
    )

    assert decision.results == [TransferResult.OK, TransferResult.EXCEEDS_CREDITS, TransferResult.OK]


def test_pending_credits_cannot_be_spent_before_they_are_posted():
    decision = decide(
        [
            pending("RSV-001", SETTLEMENT, OTHER_CUSTOMER, 500_000),
            posted("FT24001", OTHER_CUSTOMER, SETTLEMENT, 1),
        ]
    )

    assert decision.results == [TransferResult.OK, TransferResult.EXCEEDS_CREDITS]


def test_an_account_that_is_never_owed_cannot_be_credited_beyond_its_debits():
    decision = decide([posted("FT24001", SETTLEMENT, PAYOUTS, 300_001)])

    assert decision.results == [TransferResult.EXCEEDS_DEBITS]


def test_an_account_that_is_never_owed_can_be_credited_up_to_its_debits():
    decision = decide(
        [
            pending("RSV-001", SETTLEMENT, PAYOUTS, 200_000),
            posted("FT24001", SETTLEMENT, PAYOUTS, 100_001),
            posted("FT24002", SETTLEMENT, PAYOUTS, 100_000),
        ]
    )

    assert decision.results == [TransferResult.OK, TransferResult.EXCEEDS_DEBITS, TransferResult.OK]


def test_posting_a_reservation_keeps_a_fully_reserved_deposit_within_its_flag():
    decision = decide(
        [pending("RSV-001", CUSTOMER, OTHER_CUSTOMER, 1_000_000), post_pending("PST-001", "RSV-001")],
    )

    assert decision.results == [TransferResult.OK, TransferResult.OK]
    assert decision.accounts[CUSTOMER].balance_vnd == 0
    assert decision.accounts[OTHER_CUSTOMER].balance_vnd == 1_000_000


# Order inside a batch


def test_a_later_transfer_in_a_batch_sees_the_effect_of_an_earlier_one():
    decision = decide(
        [
            posted("FT24001", OTHER_CUSTOMER, SETTLEMENT, 50_000),  # nothing to spend yet
            posted("FT24002", SETTLEMENT, OTHER_CUSTOMER, 80_000),  # funded
            posted("FT24003", OTHER_CUSTOMER, SETTLEMENT, 50_000),  # now it fits
            posted("FT24004", OTHER_CUSTOMER, SETTLEMENT, 30_001),  # one dong too many
        ]
    )

    assert decision.results == [
        TransferResult.EXCEEDS_CREDITS,
        TransferResult.OK,
        TransferResult.OK,
        TransferResult.EXCEEDS_CREDITS,
    ]
    assert decision.accounts[OTHER_CUSTOMER].balance_vnd == 30_000


def test_the_batch_moves_as_much_to_debits_as_to_credits():
    decision = decide(
        [
            posted("FT24001", SETTLEMENT, CUSTOMER, 250_000),
            pending("RSV-001", CUSTOMER, OTHER_CUSTOMER, 600_000),
            posted("FT24002", POSITION, PAYOUTS, 300_000),
            void_pending("VOD-001", "RSV-001"),
            pending("RSV-002", CUSTOMER, SETTLEMENT, 50_000),
        ]
    )
    before = standard_book()

    moved_debits = sum(
        a.debits_posted + a.debits_pending - before[k].debits_posted - before[k].debits_pending
        for k, a in decision.accounts.items()
    )
    moved_credits = sum(
        a.credits_posted + a.credits_pending - before[k].credits_posted - before[k].credits_pending
        for k, a in decision.accounts.items()
    )
    assert moved_debits == moved_credits == 600_000


# Purity


def test_the_inputs_are_never_mutated():
    accounts = standard_book()
    reservation = pending("RSV-001", CUSTOMER, SETTLEMENT, 100_000)
    accounts[CUSTOMER].debits_pending = 100_000
    accounts[SETTLEMENT].credits_pending = 100_000
    existing = {"FT23999": Transfer("FT23999", SETTLEMENT, CUSTOMER, 1_000_000)}
    pendings = stored_pending(reservation)
    snapshot = copy.deepcopy((accounts, existing, pendings))

    decision = decide_transfers(
        [
            posted("FT24001", SETTLEMENT, CUSTOMER, 250_000),
            post_pending("PST-001", "RSV-001"),
            pending("RSV-002", CUSTOMER, OTHER_CUSTOMER, 50_000),
            void_pending("VOD-002", "RSV-002"),
        ],
        accounts,
        existing,
        pendings,
        NOW_MS,
    )

    assert decision.results == [TransferResult.OK] * 4
    assert (accounts, existing, pendings) == snapshot
    assert all(decision.accounts[key] is not accounts[key] for key in decision.accounts)


def test_deciding_the_same_batch_twice_gives_the_same_decision():
    batch = [
        posted("FT24001", SETTLEMENT, CUSTOMER, 250_000),
        pending("RSV-001", CUSTOMER, OTHER_CUSTOMER, 600_000),
        post_pending("PST-001", "RSV-001"),
    ]
    accounts = standard_book()

    assert decide(batch, accounts) == decide(batch, accounts)
