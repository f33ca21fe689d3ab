"""The ledger against a simple Python model (a dict of balances), one rule at a time.

After every step the balances in the database must equal the model's, and `check_invariants` must
hold and report the model's totals.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from ledger import (
    Account,
    AccountFlag,
    AccountResult,
    Ledger,
    PendingStatus,
    Transfer,
    TransferKind,
    TransferResult,
)
from ledger.repository import ACCOUNTS, TRANSFERS
from ledger.storage import open_engine

NOW_MS = 1_735_689_600_000

OWNS = AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS
NEVER_OWED = AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS
SETTLEMENT = "settlement:970436"
POSITION = "position:970418"
# The books a bank opens with: two accounts that can go either way, two deposits, a payout account.
OPENING = {
    SETTLEMENT: AccountFlag.NONE,
    POSITION: AccountFlag.NONE,
    "c:0011001234567": OWNS,
    "c:0011009876543": OWNS,
    "payouts:970436": NEVER_OWED,
}
LATER = ["c:0011005550001", "c:0011005550002"]  # opened, if at all, by the create_account rule
UNKNOWN = "c:0099000000000"

account_ids = st.sampled_from([*OPENING, *OPENING, *LATER, UNKNOWN])
flags = st.sampled_from([AccountFlag.NONE, OWNS, OWNS, NEVER_OWED])
amounts = st.one_of(
    st.integers(min_value=1, max_value=3_000_000),
    st.integers(min_value=1, max_value=200_000),
    st.sampled_from([500_000, 1_000_000]),
    st.sampled_from([0, -1_000, 1.5, True]),
)

# One in-memory database for the module, emptied for every run of the machine (a new engine per run
# would compile every statement again).
ENGINE = open_engine("sqlite://")


class LedgerModel:
    """What the ledger should hold: accounts, their balances and the status of each reservation."""

    def __init__(self) -> None:
        self.accounts: dict[str, tuple[int, AccountFlag]] = {}  # id -> (code, flags)
        # id -> [debits_pending, debits_posted, credits_pending, credits_posted]
        self.balances: dict[str, list[int]] = {}
        self.pending_status: dict[str, PendingStatus] = {}

    def create_account(self, account_id: str, code: int, account_flags: AccountFlag) -> AccountResult:
        if account_id not in self.accounts:
            self.accounts[account_id] = (code, account_flags)
            self.balances[account_id] = [0, 0, 0, 0]
            return AccountResult.OK
        if self.accounts[account_id] == (code, account_flags):
            return AccountResult.EXISTS
        return AccountResult.EXISTS_WITH_DIFFERENT_FIELDS

    def first_phase(self, transfer: Transfer) -> TransferResult:
        debit, credit, amount = transfer.debit_account_id, transfer.credit_account_id, transfer.amount_vnd
        if type(amount) is not int or amount <= 0:
            return TransferResult.AMOUNT_MUST_BE_POSITIVE_INTEGER
        if debit == credit:
            return TransferResult.ACCOUNTS_MUST_BE_DIFFERENT
        if debit not in self.accounts:
            return TransferResult.DEBIT_ACCOUNT_NOT_FOUND
        if credit not in self.accounts:
            return TransferResult.CREDIT_ACCOUNT_NOT_FOUND
        owed = self.balances[debit]
        if self.accounts[debit][1] & OWNS and owed[0] + owed[1] + amount > owed[3]:
            return TransferResult.EXCEEDS_CREDITS
        paid = self.balances[credit]
        if self.accounts[credit][1] & NEVER_OWED and paid[2] + paid[3] + amount > paid[1]:
            return TransferResult.EXCEEDS_DEBITS
        posted = 1 if transfer.kind == TransferKind.POSTED else 0  # the column after the pending one
        self.balances[debit][0 + posted] += amount
        self.balances[credit][2 + posted] += amount
        if transfer.kind == TransferKind.PENDING:
            self.pending_status[transfer.id] = PendingStatus.PENDING
        return TransferResult.OK

    def second_phase(self, pending: Transfer, kind: TransferKind) -> TransferResult:
        status = self.pending_status[pending.id]
        if status == PendingStatus.POSTED:
            return TransferResult.PENDING_TRANSFER_ALREADY_POSTED
        if status == PendingStatus.VOIDED:
            return TransferResult.PENDING_TRANSFER_ALREADY_VOIDED
        debit, credit = self.balances[pending.debit_account_id], self.balances[pending.credit_account_id]
        debit[0] -= pending.amount_vnd
        credit[2] -= pending.amount_vnd
        if kind == TransferKind.POST_PENDING:
            debit[1] += pending.amount_vnd
            credit[3] += pending.amount_vnd
            self.pending_status[pending.id] = PendingStatus.POSTED
        else:
            self.pending_status[pending.id] = PendingStatus.VOIDED
        return TransferResult.OK


class LedgerMachine(RuleBasedStateMachine):
    pendings = Bundle("pendings")
    accepted = Bundle("accepted")

    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger(ENGINE)
        self.ledger.create_tables()
        with ENGINE.begin() as conn:
            conn.execute(TRANSFERS.delete())
            conn.execute(ACCOUNTS.delete())
        self.model = LedgerModel()
        self.sequence = 0
        self.clock_ms = NOW_MS

    # Helpers

    def next_id(self, prefix: str) -> str:
        self.sequence += 1
        return f"{prefix}{self.sequence:06d}"

    def submit(self, transfer: Transfer) -> TransferResult:
        self.clock_ms += 1_000
        with ENGINE.begin() as conn:
            [result] = self.ledger.create_transfers(conn, [transfer], self.clock_ms)
        return result

    # Rules

    @initialize()
    def open_the_books(self) -> None:
        for account_id, account_flags in OPENING.items():
            self.create_account(account_id, 1, account_flags)

    @rule(account_id=st.sampled_from([*LATER, *OPENING]), code=st.sampled_from([1, 10]), account_flags=flags)
    def create_account(self, account_id: str, code: int, account_flags: AccountFlag) -> None:
        with ENGINE.begin() as conn:
            [result] = self.ledger.create_accounts(conn, [Account(account_id, code, account_flags)])
        assert result == self.model.create_account(account_id, code, account_flags)

    @rule(target=accepted, debit=account_ids, credit=account_ids, amount=amounts)
    def post(self, debit: str, credit: str, amount: int):
        transfer = Transfer(self.next_id("FT"), debit, credit, amount)
        result = self.submit(transfer)
        assert result == self.model.first_phase(transfer)
        return transfer if result == TransferResult.OK else multiple()

    @rule(targets=(pendings, accepted), debit=account_ids, credit=account_ids, amount=amounts)
    def create_pending(self, debit: str, credit: str, amount: int):
        transfer = Transfer(self.next_id("RSV"), debit, credit, amount, kind=TransferKind.PENDING)
        result = self.submit(transfer)
        assert result == self.model.first_phase(transfer)
        return transfer if result == TransferResult.OK else multiple()

    @rule(target=accepted, pending=pendings)
    def post_pending(self, pending: Transfer):
        return self._finish(pending, TransferKind.POST_PENDING, "PST")

    @rule(target=accepted, pending=pendings)
    def void_pending(self, pending: Transfer):
        return self._finish(pending, TransferKind.VOID_PENDING, "VOD")

    def _finish(self, pending: Transfer, kind: TransferKind, prefix: str):
        transfer = Transfer(self.next_id(prefix), kind=kind, pending_id=pending.id)
        result = self.submit(transfer)
        assert result == self.model.second_phase(pending, kind)
        return transfer if result == TransferResult.OK else multiple()

    @rule(transfer=accepted, change=st.sampled_from(["same", "amount", "account", "pending", "code"]))
    def resubmit_existing_id(self, transfer: Transfer, change: str) -> None:
        second_phase = transfer.kind in (TransferKind.POST_PENDING, TransferKind.VOID_PENDING)
        if change == "amount" and not second_phase:
            transfer = replace(transfer, amount_vnd=transfer.amount_vnd + 1)
        elif change == "account" and not second_phase:
            transfer = replace(transfer, credit_account_id=UNKNOWN)
        elif change == "pending" and second_phase:
            assert transfer.pending_id is not None
            transfer = replace(transfer, pending_id=transfer.pending_id + "-other")
        elif change == "code":
            transfer = replace(transfer, code=transfer.code + 1)
        else:
            change = "same"

        result = self.submit(transfer)

        expected = TransferResult.EXISTS if change == "same" else TransferResult.EXISTS_WITH_DIFFERENT_FIELDS
        assert result == expected

    # Invariants

    @invariant()
    def the_database_balances_equal_the_model(self) -> None:
        with ENGINE.connect() as conn:
            stored = {
                a.id: [a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted]
                for a in self.ledger.accounts(conn)
            }
        assert stored == self.model.balances

    @invariant()
    def the_ledger_invariants_hold_and_report_the_model_totals(self) -> None:
        with ENGINE.connect() as conn:
            totals = self.ledger.check_invariants(conn)
        columns = list(zip(*self.model.balances.values(), strict=True)) or [(0,)] * 4
        assert (totals.debits_pending, totals.debits_posted, totals.credits_pending, totals.credits_posted) == tuple(
            sum(column) for column in columns
        )

    @invariant()
    def every_reservation_has_the_models_status(self) -> None:
        with ENGINE.connect() as conn:
            stored = self.ledger.lookup_transfers(conn, self.model.pending_status)
        assert {key: status for key, (_transfer, status) in stored.items()} == self.model.pending_status


TestTheLedgerAgreesWithAModelOfBalances = LedgerMachine.TestCase
# Every step runs check_invariants; 20 steps a run keep the module to a few seconds.
TestTheLedgerAgreesWithAModelOfBalances.settings = settings(settings.default, stateful_step_count=20)
