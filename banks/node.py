"""A participant node (bank or wallet provider): the shell around `banks.core`.

Its ledger: each customer's deposit account (it can never go below zero), `settlement` (its money
at the switch, mirroring its position there) and `reserves` (its money outside the switch, where
opening deposits come from). Inbound credits and outbound payments are two-phase: pending until
the switch's final status report, then posted or voided. So a late acceptance the switch refused is
reversed by voiding, and a repeated delivery finds its row and changes nothing.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine
from sqlmodel import SQLModel

from banks import core, repository
from banks.schemas import (
    CUSTOMERS_PER_CALL_MAX,
    ORDERS_PER_BATCH_MAX,
    AccountStatus,
    Behaviour,
    Customer,
    InboundStatus,
    Limits,
    OutboundStatus,
    PaymentOrder,
)
from ledger import Account, AccountFlag, Ledger, LedgerInvariantViolation, Transfer, TransferKind, TransferResult
from ledger import repository as ledger_repository
from switch.scheme import grouping
from switch.scheme.calendar import month_of
from switch.scheme.codes import StatusReason, TransactionStatus
from switch.scheme.messages import (
    TRANSACTIONS_PER_MESSAGE_MAX,
    CreditTransfer,
    Party,
    StatusReport,
    StatusRequest,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.transport import SWITCH_ADDRESS, Envelope, TimerFired, Undeliverable

SETTLEMENT = "settlement"
SWEEP_TIMER = "sweep"
STATUS_SWEEP_MS = 15_000  # longer than the switch waits for a creditor, so an answer is final
SWEEP_BATCH_MAX = 1_000
RESERVES = "reserves"


def customer_account(account: str) -> str:
    return f"c:{account}"


def _money(accounts: Sequence[Account]) -> tuple[int, int]:
    """The settlement account mirrors the position at the switch (an asset: debits less credits);
    every account but settlement and reserves is a customer's deposit."""
    settlement_vnd = customers_vnd = 0
    for account in accounts:
        if account.id == SETTLEMENT:
            settlement_vnd = account.debits_posted - account.credits_posted
        elif account.id != RESERVES:
            customers_vnd += account.balance_vnd
    return settlement_vnd, customers_vnd


class ParticipantNode:
    default_limits = Limits()  # a bank's accounts have no caps; the wallet node sets its own

    def __init__(
        self,
        bin_code: str,
        name: str,
        engine: Engine,
        behaviour: Behaviour | None = None,
        limits: Limits | None = None,
        seed: int = 0,
    ) -> None:
        self.address = bin_code
        self.bin = bin_code
        self.name = name
        self.engine = engine
        self.behaviour = behaviour or Behaviour()
        self.limits = limits or self.default_limits
        self.ledger = Ledger(engine)
        self.random = random.Random(f"{seed}:{bin_code}")
        self._sequence = 0
        self._message_ids = grouping.MessageIds(bin_code)
        # The sweep timer lives in memory: a node started again re-arms it on its first batch.
        self._sweep_armed = False
        self._resumed = False

    @property
    def offline(self) -> bool:
        return self.behaviour.offline

    def setup(self) -> None:
        SQLModel.metadata.create_all(self.engine, tables=ledger_repository.TABLES + repository.TABLES)
        with self.engine.begin() as conn:
            self.ledger.create_accounts(conn, [Account(SETTLEMENT, 1), Account(RESERVES, 2)])

    # --- admin ------------------------------------------------------------------------------

    def open_accounts(self, customers: Sequence[tuple[Customer, int]], now_ms: int) -> None:
        """Open customer accounts, each with an opening deposit from the bank's reserves."""
        if len(customers) > CUSTOMERS_PER_CALL_MAX:
            raise ValueError(f"customers: at most {CUSTOMERS_PER_CALL_MAX} per call")
        with self.engine.begin() as conn:
            repository.insert_customers(conn, [c for c, _ in customers])
            flags = AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS
            accounts = [Account(customer_account(c.account), 3, flags) for c, _ in customers]
            step = self.ledger.batch_size_max
            for start in range(0, len(accounts), step):
                self.ledger.create_accounts(conn, accounts[start : start + step])
            deposits = [
                Transfer(f"open:{c.account}", RESERVES, customer_account(c.account), amount)
                for c, amount in customers
                if amount > 0
            ]
            for start in range(0, len(deposits), self.ledger.batch_size_max):
                self._expect_ok(
                    self.ledger.create_transfers(conn, deposits[start : start + self.ledger.batch_size_max], now_ms)
                )

    def record_funding(self, amount_vnd: int, now_ms: int) -> None:
        """Mirror of the switch's funds-in: money moves from reserves to the settlement account."""
        self._sequence += 1
        with self.engine.begin() as conn:
            transfer = Transfer(f"fund:{now_ms}:{self._sequence}", SETTLEMENT, RESERVES, amount_vnd)
            self._expect_ok(self.ledger.create_transfers(conn, [transfer], now_ms))

    def record_inflows(self, inflows: Sequence[tuple[str, str, int]]) -> None:
        """(account, month, VND received that month so far): what a capped wallet counts against its cap."""
        with self.engine.begin() as conn:
            customers = repository.load_customers(conn, [account for account, _m, _v in inflows])
            updated = [
                dataclasses.replace(customers[account], inflow_month=month, inflow_vnd=vnd)
                for account, month, vnd in inflows
            ]
            repository.save_inflows(conn, updated)

    def settled_credits(self, key_prefix: str) -> tuple[int, int]:
        """Count and VND of the credits settled for transfers whose key starts with the prefix."""
        with self.engine.begin() as conn:
            return repository.settled_credits(conn, key_prefix)

    def set_account_status(self, account: str, status: AccountStatus) -> None:
        with self.engine.begin() as conn:
            if not repository.set_customer_status(conn, account, status):
                raise KeyError(f"account {account} is not ours")

    def set_behaviour(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour

    # --- messages ---------------------------------------------------------------------------

    def handle(self, delivered: Sequence[Envelope], now_ms: int) -> list[Envelope]:
        parts = grouping.slices(delivered, ORDERS_PER_BATCH_MAX)
        if len(parts) > 1:
            # One batch is at most one ledger batch: a larger delivery is taken in slices, in order,
            # each message whole in one of them.
            return [e for part in parts for e in self.handle(part, now_ms)]
        out = self._handle_batch(grouping.opened(delivered), now_ms)
        # Our payments to the switch, and our answers to it, leave as messages of many.
        return grouping.gathered(out, lambda _receiver: TRANSACTIONS_PER_MESSAGE_MAX, self._message_ids.at(now_ms))

    def _handle_batch(self, inbox: Sequence[Envelope], now_ms: int) -> list[Envelope]:
        orders = [e.message for e in inbox if isinstance(e.message, PaymentOrder)]
        inbound = [e.message for e in inbox if isinstance(e.message, CreditTransfer)]
        reports = [e.message for e in inbox if isinstance(e.message, StatusReport)]
        verifications = [e.message for e in inbox if isinstance(e.message, VerificationRequest)]
        undeliverable = [e.message for e in inbox if isinstance(e.message, Undeliverable)]
        sweep = any(isinstance(e.message, TimerFired) and e.message.key == SWEEP_TIMER for e in inbox)
        out: list[Envelope] = []
        with self.engine.begin() as conn:
            if reports:
                self._on_reports(conn, reports, now_ms)
            failed = [t for n in undeliverable for t in grouping.transactions_in(n.message)]
            if failed:
                self._finish_outbound(conn, [(t.transaction_id, False, StatusReason.AB08) for t in failed], now_ms)
            if inbound:
                out += self._on_inbound(conn, inbound, now_ms)
            if orders:
                out += self._on_orders(conn, orders, now_ms)
            if verifications:
                out += self._on_verifications(conn, verifications)
            if sweep:
                self._sweep_armed = False
                out += self._sweep(conn, now_ms)
            # New payments or credits may stay open; a node started again may have some left over.
            opened = bool(inbound or orders) or (not self._resumed and repository.count_open(conn) > 0)
            if opened and not self._sweep_armed:
                out.append(Envelope(self.address, self.address, TimerFired(SWEEP_TIMER), STATUS_SWEEP_MS))
                self._sweep_armed = True
            self._resumed = True
        return out

    def resume(self) -> list[Envelope]:
        """After a restart: the status sweep armed again, for whatever was open when it went down."""
        self._sweep_armed = True
        return [Envelope(self.address, self.address, TimerFired(SWEEP_TIMER), STATUS_SWEEP_MS)]

    def _sweep(self, conn: Connection, now_ms: int) -> list[Envelope]:
        """Ask the switch (pacs.028) about every payment and credit still open after STATUS_SWEEP_MS.

        The switch's final report may never have reached us (we were offline when it came): the
        answer to the request is that report, and it closes the item like the original would have.
        """
        before_ms = now_ms - STATUS_SWEEP_MS
        requests = [
            StatusRequest(message_id=transaction_id, original_transaction_id=transaction_id, debtor_agent=self.bin)
            for transaction_id in repository.stale_outbound(conn, before_ms, SWEEP_BATCH_MAX)
        ]
        for key in repository.stale_inbound(conn, before_ms, SWEEP_BATCH_MAX):
            debtor_agent, transaction_id = key.split(":", 1)
            requests.append(
                StatusRequest(
                    message_id=transaction_id, original_transaction_id=transaction_id, debtor_agent=debtor_agent
                )
            )
        out = [Envelope(self.address, SWITCH_ADDRESS, request) for request in requests]
        if repository.count_open(conn):
            out.append(Envelope(self.address, self.address, TimerFired(SWEEP_TIMER), STATUS_SWEEP_MS))
            self._sweep_armed = True
        return out

    def _on_orders(self, conn: Connection, orders: list[PaymentOrder], now_ms: int) -> list[Envelope]:
        existing = repository.load_outbound(conn, (o.order_id for o in orders))
        fresh = [o for o in orders if o.order_id not in existing]
        fresh = list({o.order_id: o for o in fresh}.values())  # one order id, one payment
        customers = repository.load_customers(conn, (o.debtor_account for o in fresh))
        refusals = {o.order_id: core.decide_outbound(customers.get(o.debtor_account)) for o in fresh}
        allowed = [o for o in fresh if refusals[o.order_id] is None]
        holds = [
            Transfer(
                f"o:{o.order_id}", customer_account(o.debtor_account), SETTLEMENT, o.amount_vnd, TransferKind.PENDING
            )
            for o in allowed
        ]
        results = dict(
            zip((o.order_id for o in allowed), self.ledger.create_transfers(conn, holds, now_ms), strict=True)
        )
        rows, out = [], []
        for order in fresh:
            reason = refusals[order.order_id]
            result = results.get(order.order_id)
            if reason is None and result == TransferResult.EXCEEDS_CREDITS:
                reason = StatusReason.AM04
            elif reason is None and result != TransferResult.OK:
                raise AssertionError(f"hold for order {order.order_id} failed: {result}")
            status = OutboundStatus.REJECTED if reason else OutboundStatus.PENDING
            rows.append(
                {
                    "transaction_id": order.order_id,
                    "account": order.debtor_account,
                    "amount_vnd": order.amount_vnd,
                    "status": status.value,
                    "reason": reason.value if reason else None,
                    "updated_ms": now_ms,
                }
            )
            if reason is None:
                out.append(
                    Envelope(
                        self.address, SWITCH_ADDRESS, self._credit_transfer(order, customers[order.debtor_account])
                    )
                )
        repository.insert_outbound(conn, rows)
        return out

    def _credit_transfer(self, order: PaymentOrder, customer: Customer) -> CreditTransfer:
        # The order was validated when it reached us and the customer is ours: no second validation.
        return CreditTransfer.model_construct(
            message_id=order.order_id,
            end_to_end_id=order.order_id,
            transaction_id=order.order_id,
            amount_vnd=order.amount_vnd,
            debtor=Party.model_construct(name=customer.holder_name, citizen_id=customer.citizen_id),
            debtor_account=order.debtor_account,
            debtor_agent=self.bin,
            creditor=Party.model_construct(name=order.creditor_name, citizen_id=None),
            creditor_account=order.creditor_account,
            creditor_alias=order.creditor_alias,
            creditor_agent=order.creditor_agent,
            purpose=order.purpose,
            remittance_information=order.remittance_information,
        )

    def _on_inbound(self, conn: Connection, transfers: list[CreditTransfer], now_ms: int) -> list[Envelope]:
        keys = [f"{t.debtor_agent}:{t.transaction_id}" for t in transfers]
        known = repository.load_inbound(conn, keys)
        customers = repository.load_customers(conn, (t.creditor_account or "" for t in transfers))
        # Balances matter only under a balance cap (wallets); a bank skips the query.
        capped = self.limits.balance_cap_vnd is not None
        balances = self.ledger.lookup_accounts(conn, (customer_account(a) for a in customers)) if capped else {}
        month = month_of(now_ms)
        rows: list[dict[str, Any]] = []
        credits: list[Transfer] = []
        out: list[Envelope] = []
        delay_ms = self._latency_ms()  # what arrived together is answered together: one pacs.002
        for key, transfer in zip(keys, transfers, strict=True):
            row = known.get(key)
            if row is None:
                row = self._decide_inbound(key, transfer, customers, balances, month, now_ms)
                known[key] = row
                rows.append(row)
                if row["status"] == InboundStatus.CREDITED.value:
                    credits.append(
                        Transfer(
                            f"i:{key}",
                            SETTLEMENT,
                            customer_account(row["account"]),
                            transfer.amount_vnd,
                            TransferKind.PENDING,
                        )
                    )
            out.append(self._answer(transfer, row, delay_ms))
        self._expect_ok(self.ledger.create_transfers(conn, credits, now_ms))
        repository.insert_inbound(conn, rows)
        if self.limits.monthly_inflow_cap_vnd is not None:
            repository.save_inflows(conn, customers.values())
        return out

    def _decide_inbound(
        self,
        key: str,
        transfer: CreditTransfer,
        customers: dict[str, Customer],
        balances: dict[str, Account],
        month: str,
        now_ms: int,
    ) -> dict[str, Any]:
        account = transfer.creditor_account or ""
        customer = customers.get(account)
        ledger_account = balances.get(customer_account(account))
        balance = (
            ledger_account.credits_posted + ledger_account.credits_pending - ledger_account.debits_posted
            if ledger_account
            else 0
        )
        reason = core.decide_inbound(customer, transfer, self.limits, month, balance)
        if reason is None and self.random.random() < self.behaviour.reject_rate:
            reason = self.behaviour.reject_reason
        if reason is None and customer is not None:
            if customer.inflow_month != month:
                customer.inflow_month, customer.inflow_vnd = month, 0
            customer.inflow_vnd += transfer.amount_vnd
            if ledger_account is not None:
                ledger_account.credits_pending += transfer.amount_vnd  # a later credit in this batch sees it
        return {
            "key": key,
            "account": account,
            "amount_vnd": transfer.amount_vnd,
            "status": (InboundStatus.REJECTED if reason else InboundStatus.CREDITED).value,
            "reason": reason.value if reason else None,
            "updated_ms": now_ms,
        }

    def _answer(self, transfer: CreditTransfer, row: dict[str, Any], delay_ms: int) -> Envelope:
        rejected = row["status"] in (InboundStatus.REJECTED.value, InboundStatus.REVERSED.value)
        report = StatusReport.unchecked(
            original_message_id=transfer.message_id,
            original_end_to_end_id=transfer.end_to_end_id,
            original_transaction_id=transfer.transaction_id,
            debtor_agent=transfer.debtor_agent,
            transaction_status=TransactionStatus.RJCT if rejected else TransactionStatus.ACSP,
            status_reason=(StatusReason(row["reason"]) if row["reason"] else StatusReason.AB05) if rejected else None,
            creditor_agent=self.bin,
            amount_vnd=None,
            settled_at_ms=None,
            additional_information=None,
        )
        if self.random.random() < self.behaviour.timeout_rate:
            delay_ms += self.behaviour.late_answer_ms  # this one answers late, in a message of its own time
        return Envelope(self.address, SWITCH_ADDRESS, report, delay_ms)

    def _latency_ms(self) -> int:
        """How long the node takes to answer: its latency knob, give or take half, at least 1 ms."""
        return max(1, int(self.behaviour.latency_ms * (0.5 + self.random.random())))

    def _on_reports(self, conn: Connection, reports: list[StatusReport], now_ms: int) -> None:
        """The switch's final status: for our payments (we are the debtor) and our credits."""
        finished: list[tuple[str, bool, StatusReason | None]] = []
        for report in reports:
            if not report.transaction_status.is_final:
                continue
            if report.debtor_agent == self.bin:
                settled = report.transaction_status == TransactionStatus.ACSC
                finished.append((report.original_transaction_id, settled, report.status_reason))
        self._finish_outbound(conn, finished, now_ms)
        inbound = [r for r in reports if r.transaction_status.is_final and self._about_our_credit(r)]
        self._finish_inbound(conn, inbound, now_ms)

    def _about_our_credit(self, report: StatusReport) -> bool:
        """A final report about a credit we made: one naming us its creditor, or the switch's NOOR to
        our status request about a credit it never sent (a forged call, validly signed): that
        credit closes, voided, instead of staying open through every sweep."""
        if report.creditor_agent == self.bin:
            return True
        unknown = report.status_reason == StatusReason.NOOR and report.creditor_agent is None
        return unknown and report.debtor_agent != self.bin

    def _finish_outbound(
        self, conn: Connection, finished: list[tuple[str, bool, StatusReason | None]], now_ms: int
    ) -> None:
        rows = repository.load_outbound(conn, (t for t, _s, _r in finished))
        updates: list[tuple[str, OutboundStatus, str | None, int]] = []
        transfers: list[Transfer] = []
        for transaction_id, settled, reason in finished:
            row = rows.get(transaction_id)
            if row is None or row["status"] != OutboundStatus.PENDING.value:
                continue  # not ours, or already final: a repeated report changes nothing
            row["status"] = (OutboundStatus.SETTLED if settled else OutboundStatus.REJECTED).value
            kind = TransferKind.POST_PENDING if settled else TransferKind.VOID_PENDING
            transfers.append(
                Transfer(f"o{'p' if settled else 'v'}:{transaction_id}", kind=kind, pending_id=f"o:{transaction_id}")
            )
            updates.append((transaction_id, OutboundStatus(row["status"]), reason.value if reason else None, now_ms))
        self._expect_ok(self.ledger.create_transfers(conn, transfers, now_ms))
        repository.update_outbound(conn, updates)

    def _finish_inbound(self, conn: Connection, reports: list[StatusReport], now_ms: int) -> None:
        if not reports:
            return
        keys = [f"{r.debtor_agent}:{r.original_transaction_id}" for r in reports]
        rows = repository.load_inbound(conn, keys)
        # Only a monthly inflow cap (wallets) gives a voided credit's inflow back: a bank skips the query.
        capped = self.limits.monthly_inflow_cap_vnd is not None
        customers = repository.load_customers(conn, (row["account"] for row in rows.values())) if capped else {}
        updates: list[tuple[str, InboundStatus, int]] = []
        transfers: list[Transfer] = []
        tombstones: list[dict[str, Any]] = []
        for key, report in zip(keys, reports, strict=True):
            row = rows.get(key)
            settled = report.transaction_status == TransactionStatus.ACSC
            if row is None:
                if not settled:  # voided before it reached us: refuse it if it still arrives
                    rows[key] = row = {"key": key, "account": "", "amount_vnd": report.amount_vnd or 0,
                                       "status": InboundStatus.REJECTED.value, "reason": StatusReason.AB05.value,
                                       "updated_ms": now_ms}  # fmt: skip
                    tombstones.append(row)
                continue
            if row["status"] != InboundStatus.CREDITED.value:
                continue
            customer = customers.get(row["account"])
            # A voided credit gives its inflow back to the month it was counted in, and only to that one
            # (`updated_ms` is still the time of the credit while the row is CREDITED).
            if not settled and customer is not None and customer.inflow_month == month_of(row["updated_ms"]):
                customer.inflow_vnd = max(0, customer.inflow_vnd - row["amount_vnd"])
            row["status"] = (InboundStatus.SETTLED if settled else InboundStatus.REVERSED).value
            kind = TransferKind.POST_PENDING if settled else TransferKind.VOID_PENDING
            transfers.append(Transfer(f"i{'p' if settled else 'v'}:{key}", kind=kind, pending_id=f"i:{key}"))
            updates.append((key, InboundStatus(row["status"]), now_ms))
        self._expect_ok(self.ledger.create_transfers(conn, transfers, now_ms))
        repository.update_inbound(conn, updates)
        repository.insert_inbound(conn, tombstones)
        if self.limits.monthly_inflow_cap_vnd is not None:
            repository.save_inflows(conn, customers.values())

    def _on_verifications(self, conn: Connection, requests: list[VerificationRequest]) -> list[Envelope]:
        customers = repository.load_customers(conn, (r.account for r in requests))
        out = []
        for request in requests:
            outcome, reason, masked = core.decide_verification(customers.get(request.account), request)
            report = VerificationReport(
                original_verification_id=request.verification_id,
                agent=self.bin,
                outcome=outcome,
                holder_name_masked=masked,
                reason=reason,
            )
            out.append(Envelope(self.address, SWITCH_ADDRESS, report, self._latency_ms()))
        return out

    # --- queries ----------------------------------------------------------------------------

    def customers(self) -> list[Customer]:
        with self.engine.begin() as conn:
            return repository.all_customers(conn)

    def balances(self) -> dict[str, Account]:
        with self.engine.begin() as conn:
            return {a.id: a for a in self.ledger.accounts(conn)}

    def outbound_counts(self) -> dict[str, tuple[int, int]]:
        with self.engine.begin() as conn:
            return repository.count_by_status(conn, repository.OUTBOUND)

    def payment(self, order_id: str) -> dict[str, Any] | None:
        """A customer's payment as the bank sees it: status, reason, amount; None if unknown."""
        with self.engine.begin() as conn:
            return repository.load_outbound(conn, [order_id]).get(order_id)

    def inbound_counts(self) -> dict[str, tuple[int, int]]:
        with self.engine.begin() as conn:
            return repository.count_by_status(conn, repository.INBOUND)

    def check_invariants(self) -> None:
        with self.engine.begin() as conn:
            self.ledger.check_invariants(conn)

    def books(self) -> dict[str, int | bool]:
        """What an auditor compares with the switch: money at the switch (the settlement account,
        which mirrors the position there), customers' money, open items; and whether it all balances."""
        with self.engine.begin() as conn:
            try:
                self.ledger.check_invariants(conn)
                balanced = True
            except LedgerInvariantViolation:
                balanced = False
            settlement_vnd, customers_vnd = _money(self.ledger.accounts(conn))
            return {
                "balanced": balanced,
                "settlement_vnd": settlement_vnd,
                "customers_vnd": customers_vnd,
                "open_items": repository.count_open(conn),
            }

    def money(self) -> tuple[int, int]:
        """(money at the switch as this node books it, money its customers hold), in VND."""
        with self.engine.begin() as conn:
            return _money(self.ledger.accounts(conn))

    @staticmethod
    def _expect_ok(results: Sequence[TransferResult]) -> None:
        bad = [r for r in results if r != TransferResult.OK]
        if bad:
            raise AssertionError(f"ledger refused a node's own transfer: {bad[:5]}")
