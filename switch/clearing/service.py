"""The clearing shell: loads what a batch needs, asks the core, posts to the ledger, writes, sends.

Money at the switch moves in two phases: a pending transfer from the debtor's position to the
creditor's reserves the amount when the transfer is accepted; the creditor's acceptance posts it,
a reject, a timeout or an unreachable creditor voids it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from ledger import Ledger, Transfer, TransferKind, TransferResult
from switch.clearing import core, repository
from switch.clearing.schemas import (
    CREDITOR_TIMEOUT_MS,
    INTAKE_BATCH_MAX,
    MESSAGE_TIMER_PREFIX,
    TIMER_PREFIX,
    TRANSFER_LIMIT_VND,
    ClearingRecord,
    clearing_key,
)
from switch.directory.service import DirectoryService
from switch.errors import TransferNotFound
from switch.participants.schemas import Participant, position_account
from switch.scheme.codes import StatusReason, TransactionStatus
from switch.scheme.messages import CreditTransfer, CreditTransferMessage, StatusReport, StatusRequest
from switch.scheme.transport import SWITCH_ADDRESS, Envelope, TimerFired

TRANSFER_CODE_CLEARING = 1
STALE_AFTER_TIMEOUTS = 2
STALE_BATCH_MAX = 1_000
EXPIRE_STALE_TIMER = "expire-stale"


class ClearingService:
    def __init__(
        self,
        ledger: Ledger,
        directory: DirectoryService,
        creditor_timeout_ms: int = CREDITOR_TIMEOUT_MS,
        transfer_limit_vnd: int = TRANSFER_LIMIT_VND,
    ) -> None:
        self.ledger = ledger
        self.directory = directory
        self.creditor_timeout_ms = creditor_timeout_ms
        self.transfer_limit_vnd = transfer_limit_vnd
        self.late_acceptances_refused = 0

    def intake(
        self,
        conn: Connection,
        items: Sequence[tuple[str, CreditTransfer]],
        participants: Mapping[str, Participant],
        now_ms: int,
    ) -> list[Envelope]:
        """Credit transfers from any senders, as (sender, transfer): one ledger batch for all."""
        if len(items) > INTAKE_BATCH_MAX:
            raise AssertionError(f"intake of {len(items)} transfers: the node slices batches at {INTAKE_BATCH_MAX}")
        transfers = [t for _sender, t in items]
        aliases = self.directory.resolve(conn, (t.creditor_alias for t in transfers if t.creditor_alias))
        existing = repository.load(conn, (clearing_key(t.debtor_agent, t.transaction_id) for t in transfers))
        decisions = core.decide_intake(items, participants, aliases, existing, self.transfer_limit_vnd)
        # An on-us transfer (both sides at one participant, found through an alias) moves no position.
        reserving = [d for d in decisions if d.route is not None and d.route.creditor_agent != d.transfer.debtor_agent]
        reservations = [_reserve(d.key, d.transfer, d.route.creditor_agent) for d in reserving if d.route]
        results = self.ledger.create_transfers(conn, reservations, now_ms)
        funds = dict(zip((d.key for d in reserving), results, strict=True))
        records, out = [], []
        for (sender, _transfer), decision in zip(items, decisions, strict=True):
            record, envelopes = self._after_intake(sender, decision, funds.get(decision.key), now_ms)
            if record is not None:
                records.append(record)
            out.extend(envelopes)
        repository.insert(conn, records)
        return out

    def _after_intake(
        self, sender: str, decision: core.IntakeDecision, funds: TransferResult | None, now_ms: int
    ) -> tuple[ClearingRecord | None, list[Envelope]]:
        transfer = decision.transfer
        if decision.repeat_in_batch:
            return None, []
        if decision.duplicate_of is not None:
            # Same id, same content: answer with what is known; a pending one will answer itself.
            stored = decision.duplicate_of
            return None, ([_to_debtor(stored)] if stored.status.is_final else [])
        reject = decision.reject
        if reject is None and funds is not None and funds != TransferResult.OK:
            if funds not in (TransferResult.EXCEEDS_CREDITS,):
                raise AssertionError(f"reservation for {decision.key} failed: {funds}")
            reject = StatusReason.AM04
        route = decision.route
        record = ClearingRecord(
            key=decision.key,
            debtor_agent=transfer.debtor_agent,
            transaction_id=transfer.transaction_id,
            message_id=transfer.message_id,
            end_to_end_id=transfer.end_to_end_id,
            digest=decision.digest,
            amount_vnd=transfer.amount_vnd,
            debtor_account=transfer.debtor_account,
            creditor_agent=route.creditor_agent if route else transfer.creditor_agent,
            creditor_account=route.creditor_account if route else transfer.creditor_account,
            status=TransactionStatus.RJCT if reject else TransactionStatus.PDNG,
            reason=reject,
            created_ms=now_ms,
            updated_ms=now_ms,
        )
        if reject is not None:
            # The answer goes to the sender: when it is not the debtor agent, the id stays free.
            return (record if decision.store else None), [_to_debtor(record, to=sender)]
        assert route is not None
        # Its creditor timer is armed when it leaves, alone or in a message (`creditor_timers`).
        return record, [Envelope(SWITCH_ADDRESS, route.creditor_agent, core.forwarded(transfer, route))]

    def creditor_timers(self, sent: Sequence[Envelope]) -> list[Envelope]:
        """A timer for each credit the switch sends: one for a transfer sent alone, one for a
        multi-transaction message, which carries its transactions' keys. When it fires, whatever of
        it is still pending ends AB05, each transaction on its own; what was answered is final."""
        timers = []
        for envelope in sent:
            message = envelope.message
            if envelope.sender != SWITCH_ADDRESS or envelope.receiver == SWITCH_ADDRESS:
                continue
            if isinstance(message, CreditTransfer):
                timer = TimerFired(TIMER_PREFIX + clearing_key(message.debtor_agent, message.transaction_id))
            elif isinstance(message, CreditTransferMessage):
                keys = tuple(clearing_key(t.debtor_agent, t.transaction_id) for t in message.transactions)
                timer = TimerFired(f"{MESSAGE_TIMER_PREFIX}{message.message_id}", keys)
            else:
                continue
            timers.append(Envelope(SWITCH_ADDRESS, SWITCH_ADDRESS, timer, self.creditor_timeout_ms))
        return timers

    def on_answers(self, conn: Connection, answers: Sequence[tuple[str, StatusReport]], now_ms: int) -> list[Envelope]:
        """Creditors' pacs.002 answers: settle, release, or refuse a late acceptance."""
        records = repository.load(conn, (clearing_key(r.debtor_agent, r.original_transaction_id) for _s, r in answers))
        settle: list[ClearingRecord] = []
        release: list[tuple[ClearingRecord, StatusReason]] = []
        out: list[Envelope] = []
        decided: set[str] = set()
        for sender, report in answers:
            record = records.get(clearing_key(report.debtor_agent, report.original_transaction_id))
            if record is None or record.creditor_agent != sender or record.key in decided:
                continue  # not a transfer this participant was sent, or answered twice in one batch
            action = core.decide_answer(record, report.transaction_status)
            if action == "settle":
                settle.append(record)
            elif action == "reject":
                release.append((record, report.status_reason or StatusReason.FF01))
            elif action == "refuse_late":
                self.late_acceptances_refused += 1
                out.append(_to_creditor(record))
            decided.add(record.key)
        out += self._settle(conn, settle, now_ms)
        out += self._release(conn, release, now_ms, notify_creditor=False)
        return out

    def on_timeouts(self, conn: Connection, keys: Sequence[str], now_ms: int) -> list[Envelope]:
        records = repository.load_pending(conn, keys)
        pending = [(r, StatusReason.AB05) for r in records.values()]
        return self._release(conn, pending, now_ms, notify_creditor=True)

    def expire_stale(self, conn: Connection, now_ms: int) -> list[Envelope]:
        """Release what a lost timer left waiting (a worker that died, a restart): anything PDNG
        for twice the creditor timeout ends AB05, exactly as its own timer would have ended it."""
        before_ms = now_ms - STALE_AFTER_TIMEOUTS * self.creditor_timeout_ms
        keys = repository.stale_pending_keys(conn, before_ms, STALE_BATCH_MAX)
        return self.on_timeouts(conn, keys, now_ms) if keys else []

    def on_undeliverable(self, conn: Connection, transfers: Sequence[CreditTransfer], now_ms: int) -> list[Envelope]:
        records = repository.load(conn, (clearing_key(t.debtor_agent, t.transaction_id) for t in transfers))
        pending = [(r, StatusReason.AB08) for r in records.values() if r.status == TransactionStatus.PDNG]
        return self._release(conn, pending, now_ms, notify_creditor=False)

    def on_status_requests(
        self, conn: Connection, sender: str, requests: Sequence[StatusRequest], now_ms: int
    ) -> list[Envelope]:
        """pacs.028: the state of a transaction, told to its debtor agent or its creditor agent only.

        A participant that missed a final status report (it was offline) asks, and the answer is
        the report it missed; to anybody else the transaction does not exist (NOOR).

        A debtor agent that asks about a transfer the switch has not received is told RJCT NOOR,
        and that answer is kept: the id is closed with a record of its own, so the transfer, should
        it still arrive (delayed on the way), is refused as a duplicate instead of settled. Without
        it the bank voided a payment on NOOR that the switch then settled: the fuzzer's seed 13 (a
        pacs.008 delayed 20 s past the bank's 15 s status sweep) paid the creditor and refunded
        the debtor.
        """
        keys = [clearing_key(r.debtor_agent, r.original_transaction_id) for r in requests]
        records = repository.load(conn, keys)
        out = []
        closed: dict[str, ClearingRecord] = {}
        for request, key in zip(requests, keys, strict=True):
            record = records.get(key) or closed.get(key)
            if record is None and sender == request.debtor_agent:
                closed[key] = _closed_unseen(key, request, now_ms)
                out.append(_not_found(sender, request))
            elif record is None or sender not in (record.debtor_agent, record.creditor_agent):
                out.append(_not_found(sender, request))
            else:
                out.append(Envelope(SWITCH_ADDRESS, sender, _report(record)))
        repository.insert(conn, list(closed.values()))
        return out

    def status(self, conn: Connection, debtor_agent: str, transaction_id: str) -> ClearingRecord:
        record = repository.load(conn, [clearing_key(debtor_agent, transaction_id)]).get(
            clearing_key(debtor_agent, transaction_id)
        )
        if record is None:
            raise TransferNotFound("transaction_id", f"{debtor_agent} sent no transaction {transaction_id}")
        return record

    def _settle(self, conn: Connection, records: list[ClearingRecord], now_ms: int) -> list[Envelope]:
        if not records:
            return []
        moving = [r for r in records if _moves_position(r)]
        posts = [Transfer(f"p:{r.key}", kind=TransferKind.POST_PENDING, pending_id=f"r:{r.key}") for r in moving]
        _expect_ok(moving, self.ledger.create_transfers(conn, posts, now_ms))
        for record in records:
            record.status, record.reason, record.updated_ms = TransactionStatus.ACSC, None, now_ms
        repository.finalize(conn, records)
        out = []
        for record in records:
            report = _report(record)  # one report, the same for both sides
            out.append(Envelope(SWITCH_ADDRESS, record.debtor_agent, report))
            out.append(Envelope(SWITCH_ADDRESS, record.creditor_agent or "", report))
        return out

    def _release(
        self, conn: Connection, items: list[tuple[ClearingRecord, StatusReason]], now_ms: int, notify_creditor: bool
    ) -> list[Envelope]:
        if not items:
            return []
        records = [r for r, _reason in items]
        moving = [r for r in records if _moves_position(r)]
        voids = [Transfer(f"v:{r.key}", kind=TransferKind.VOID_PENDING, pending_id=f"r:{r.key}") for r in moving]
        _expect_ok(moving, self.ledger.create_transfers(conn, voids, now_ms))
        for record, reason in items:
            record.status, record.reason, record.updated_ms = TransactionStatus.RJCT, reason, now_ms
        repository.finalize(conn, records)
        out = [_to_debtor(r) for r in records]
        if notify_creditor:
            out += [_to_creditor(r) for r in records]
        return out


def _reserve(key: str, transfer: CreditTransfer, creditor_agent: str) -> Transfer:
    return Transfer(
        f"r:{key}",
        position_account(transfer.debtor_agent),
        position_account(creditor_agent),
        transfer.amount_vnd,
        TransferKind.PENDING,
        code=TRANSFER_CODE_CLEARING,
    )


def _moves_position(record: ClearingRecord) -> bool:
    return record.creditor_agent != record.debtor_agent


def _expect_ok(records: Sequence[ClearingRecord], results: Sequence[TransferResult]) -> None:
    for record, result in zip(records, results, strict=True):
        if result != TransferResult.OK:
            raise AssertionError(f"second phase of {record.key} failed: {result}")


def _report(record: ClearingRecord) -> StatusReport:
    # Built from a stored record whose fields were validated on the way in: no second validation on
    # the hot path. Whatever crosses a process boundary is validated by the receiver.
    return StatusReport.unchecked(
        original_message_id=record.message_id,
        original_end_to_end_id=record.end_to_end_id,
        original_transaction_id=record.transaction_id,
        debtor_agent=record.debtor_agent,
        transaction_status=record.status,
        status_reason=record.reason,
        creditor_agent=record.creditor_agent,
        amount_vnd=record.amount_vnd,
        settled_at_ms=record.updated_ms if record.status == TransactionStatus.ACSC else None,
        additional_information=None,
    )


def _to_debtor(record: ClearingRecord, to: str | None = None) -> Envelope:
    return Envelope(SWITCH_ADDRESS, to or record.debtor_agent, _report(record))


def _to_creditor(record: ClearingRecord) -> Envelope:
    """The finality notice: the creditor posts or voids the credit it made on the transfer."""
    assert record.creditor_agent is not None
    return Envelope(SWITCH_ADDRESS, record.creditor_agent, _report(record))


UNSEEN_DIGEST = "closed-by-status-request"  # no SHA-256 of any transfer: every later copy is DUPL


def _closed_unseen(key: str, request: StatusRequest, now_ms: int) -> ClearingRecord:
    """The record that closes an id its debtor agent asked about before the switch received it."""
    return ClearingRecord(
        key=key, debtor_agent=request.debtor_agent, transaction_id=request.original_transaction_id,
        message_id=request.message_id, end_to_end_id=request.original_transaction_id, digest=UNSEEN_DIGEST,
        amount_vnd=0, debtor_account="", creditor_agent=None, creditor_account=None,
        status=TransactionStatus.RJCT, reason=StatusReason.NOOR, created_ms=now_ms, updated_ms=now_ms,
    )  # fmt: skip


def _not_found(sender: str, request: StatusRequest) -> Envelope:
    report = StatusReport(
        original_message_id=request.message_id,
        original_end_to_end_id=request.original_transaction_id,
        original_transaction_id=request.original_transaction_id,
        debtor_agent=request.debtor_agent,
        transaction_status=TransactionStatus.RJCT,
        status_reason=StatusReason.NOOR,
    )
    return Envelope(SWITCH_ADDRESS, sender, report)
