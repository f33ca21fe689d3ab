"""The switch as a node: one database transaction per batch of messages delivered at one instant.

This is the imperative shell: it sorts the inbox by kind of message, hands each group to its
service, and returns what the services decided to send. Admin calls are methods on the node, each
its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import SQLModel

from ledger import Ledger, LedgerTotals
from ledger import repository as ledger_repository
from ledger.schemas import BATCH_SIZE_MAX
from switch.clearing import repository as clearing_repository
from switch.clearing.schemas import CREDITOR_TIMEOUT_MS, MESSAGE_TIMER_PREFIX, TIMER_PREFIX, ClearingRecord
from switch.clearing.service import EXPIRE_STALE_TIMER, ClearingService
from switch.directory import repository as directory_repository
from switch.directory.schemas import AliasRecord
from switch.directory.service import TIMER_PREFIX as REGISTRATION_TIMER_PREFIX
from switch.directory.service import DirectoryService
from switch.disbursements import reports as disbursement_reports
from switch.disbursements import repository as disbursement_repository
from switch.disbursements.schemas import TIMER_PREFIX as DISBURSEMENT_TIMER_PREFIX
from switch.disbursements.schemas import DisbursementRecord, ItemRecord
from switch.disbursements.service import DisbursementService
from switch.participants import repository as participants_repository
from switch.participants.schemas import Credentials, Participant, Position
from switch.participants.service import ParticipantService
from switch.scheme import grouping
from switch.scheme.calendar import local_time
from switch.scheme.codes import ItemStatus, ParticipantStatus, StatusReason, TransactionStatus, WireFormat
from switch.scheme.disbursement import DisbursementFile, RowError
from switch.scheme.identity import IdentityRegistry
from switch.scheme.messages import (
    Alias,
    AliasRegistration,
    AliasRemoval,
    CreditTransfer,
    StatusReport,
    StatusRequest,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.summary import DisbursementSummary
from switch.scheme.transport import SWITCH_ADDRESS, Envelope, RawMessage, TimerFired, Undeliverable
from switch.scheme.validation import FieldProblem, MessageInvalid, parse_message

T = TypeVar("T")
PARTICIPANTS_CACHE_MS = 1_000
BATCH_ATTEMPTS_MAX = 5
RETRYABLE_SQLSTATES = {"23505", "40P01", "40001"}  # unique violation, deadlock, serialization failure


SWITCH_BATCH_LOCK_KEY = 0x5357_4954  # "SWIT": the advisory lock the switch's batches take on PostgreSQL


def _one_batch_at_a_time(conn: Connection) -> None:
    """On PostgreSQL, several switch workers write one database. A batch locks its position rows in
    id order within a statement, but a batch runs several statements (reserve for new transfers,
    settle answered ones), so two workers could each hold what the other's next statement wants
    and deadlock, again and again under load. A transaction-scoped advisory lock makes the
    workers' batch transactions take turns; a batch carries many transfers, so the turn is per
    batch, not per transfer. SQLite has one writer already."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SWITCH_BATCH_LOCK_KEY})")


def _retryable(error: DBAPIError) -> bool:
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    if code is not None:
        return code in RETRYABLE_SQLSTATES
    return isinstance(error, IntegrityError)  # SQLite: one writer at a time, so only a true duplicate


INBOX_MAX = 100_000  # a delivery larger than this is a transport bug, not load
MESSAGE_PROBLEM_LENGTH_MAX = 500


def _text(value: object) -> str:
    """An id echoed back from a malformed message: what was sent if it is text, cut to ISO's 35."""
    return value[:35] if isinstance(value, str) and value else "NOTPROVIDED"


class SwitchNode:
    address = SWITCH_ADDRESS
    offline = False

    def __init__(
        self,
        engine: Engine,
        creditor_timeout_ms: int = CREDITOR_TIMEOUT_MS,
        identities: IdentityRegistry | None = None,
    ) -> None:
        self.engine = engine
        self.ledger = Ledger(engine)
        self.participants = ParticipantService(self.ledger)
        self.directory = DirectoryService()
        self.clearing = ClearingService(self.ledger, self.directory, creditor_timeout_ms)
        self.disbursement_service = DisbursementService(self.ledger, self.clearing, identities, creditor_timeout_ms)
        self._participants_cache: tuple[int, dict[str, Participant]] | None = None
        self._message_ids = grouping.MessageIds("NAPAS")

    def setup(self) -> None:
        tables = (
            ledger_repository.TABLES
            + participants_repository.TABLES
            + directory_repository.TABLES
            + clearing_repository.TABLES
            + disbursement_repository.TABLES
        )
        SQLModel.metadata.create_all(self.engine, tables=tables)
        self._in_transaction(self.participants.setup)

    # --- messages ---------------------------------------------------------------------------

    def handle(self, inbox: Sequence[Envelope], now_ms: int) -> list[Envelope]:
        if len(inbox) > INBOX_MAX:
            raise AssertionError(f"inbox of {len(inbox)} is over {INBOX_MAX}")
        parts = grouping.slices(inbox, BATCH_SIZE_MAX)
        if len(parts) > 1:
            # One batch is at most one ledger batch: a larger delivery is taken in slices, in order,
            # each message whole in one of them.
            return [e for part in parts for e in self.handle(part, now_ms)]
        for attempt in range(1, BATCH_ATTEMPTS_MAX + 1):
            try:
                return self._handle_batch(inbox, now_ms)
            except (IntegrityError, OperationalError) as error:
                # Another process wrote the same id first, or PostgreSQL broke a deadlock: the batch
                # was rolled back whole, and run again it sees what the other process committed.
                if attempt == BATCH_ATTEMPTS_MAX or not _retryable(error):
                    raise
        raise AssertionError("unreachable")

    def _handle_batch(self, delivered: Sequence[Envelope], now_ms: int) -> list[Envelope]:
        inbox = grouping.opened(delivered)  # a message's transactions, each decided on its own
        answers: list[tuple[str, StatusReport]] = []
        timeouts: list[str] = []
        registration_timeouts: list[str] = []
        undeliverable: list[Undeliverable] = []
        intake: list[tuple[str, CreditTransfer]] = []
        other: list[Envelope] = []
        refused: list[Envelope] = []
        expire_stale = False
        disbursement_timers: list[str] = []
        for envelope in inbox:
            message = envelope.message
            if isinstance(message, StatusReport):
                answers.append((envelope.sender, message))
            elif isinstance(message, CreditTransfer):
                intake.append((envelope.sender, message))
            elif isinstance(message, TimerFired) and message.key == EXPIRE_STALE_TIMER:
                expire_stale = True
            elif isinstance(message, TimerFired) and message.key.startswith(DISBURSEMENT_TIMER_PREFIX):
                disbursement_timers.append(message.key)
            elif isinstance(message, TimerFired) and message.key.startswith(TIMER_PREFIX):
                timeouts.append(message.key.removeprefix(TIMER_PREFIX))
            elif isinstance(message, TimerFired) and message.key.startswith(MESSAGE_TIMER_PREFIX):
                timeouts.extend(message.keys)  # each transaction of the message still pending ends AB05
            elif isinstance(message, TimerFired) and message.key.startswith(REGISTRATION_TIMER_PREFIX):
                registration_timeouts.append(message.key.removeprefix(REGISTRATION_TIMER_PREFIX))
            elif isinstance(message, Undeliverable):
                undeliverable.append(message)
            elif isinstance(message, RawMessage):
                parsed = self._parse_raw(envelope.sender, message)
                if isinstance(parsed, CreditTransfer):
                    intake.append((envelope.sender, parsed))
                else:
                    refused.append(parsed)
            else:
                other.append(envelope)
        with self.engine.begin() as conn:
            _one_batch_at_a_time(conn)
            named = (
                {e.sender for e in inbox}
                | {t.creditor_agent or "" for _s, t in intake}
                | {t.debtor_agent for _s, t in intake}
            )
            participants = self._participants(conn, now_ms, named)
            out = self.clearing.on_answers(conn, answers, now_ms) if answers else []
            if timeouts:
                out += self.clearing.on_timeouts(conn, timeouts, now_ms)
            if expire_stale:
                out += self.clearing.expire_stale(conn, now_ms)
            out += self._undeliverable(conn, undeliverable, now_ms)
            if intake:
                out += self.clearing.intake(conn, intake, participants, now_ms)
            for request_id in registration_timeouts:
                out += self.directory.fail_registration(conn, request_id, StatusReason.AB05)
            for envelope in other:
                out += self._other(conn, envelope, participants, now_ms)
            out = self.disbursement_service.intercept(conn, out, participants, now_ms)
            for key in sorted(set(disbursement_timers)):
                out += self.disbursement_service.on_timer(conn, key, participants, now_ms)
        return self._outgoing(refused + out, participants, now_ms)

    def _outgoing(self, out: list[Envelope], participants: dict[str, Participant], now_ms: int) -> list[Envelope]:
        """What the switch sends, its transactions to each participant gathered into messages of as
        many as that participant takes, and a creditor timer armed for each credit message sent."""

        def room(receiver: str) -> int:
            participant = participants.get(receiver)
            return 1 if participant is None else participant.transactions_per_message_max

        sent = grouping.gathered(out, room, self._message_ids.at(now_ms))
        return sent + self.clearing.creditor_timers(sent)

    def _parse_raw(self, sender: str, raw: RawMessage) -> CreditTransfer | Envelope:
        """A malformed pacs.008 is answered RJCT (CH20 for decimals, else FF01); nothing is stored."""
        try:
            if raw.kind != "pacs.008":
                raise MessageInvalid([FieldProblem("kind", f"unknown message kind {raw.kind!r}", StatusReason.FF01)])
            return parse_message(CreditTransfer, raw.payload)
        except MessageInvalid as error:
            payload = raw.payload if isinstance(raw.payload, dict) else {}
            report = StatusReport.model_construct(
                original_message_id=_text(payload.get("message_id")),
                original_end_to_end_id=_text(payload.get("end_to_end_id")),
                original_transaction_id=_text(payload.get("transaction_id")),
                debtor_agent=sender,
                transaction_status=TransactionStatus.RJCT,
                status_reason=error.reason,
                additional_information=str(error)[:MESSAGE_PROBLEM_LENGTH_MAX],
            )
            return Envelope(SWITCH_ADDRESS, sender, report)

    def _undeliverable(self, conn: Connection, notices: list[Undeliverable], now_ms: int) -> list[Envelope]:
        out: list[Envelope] = []
        transfers = [t for n in notices for t in grouping.transactions_in(n.message)]
        if transfers:
            out += self.clearing.on_undeliverable(conn, transfers, now_ms)
        for notice in notices:
            if isinstance(notice.message, VerificationRequest):
                out += self.directory.fail_registration(conn, notice.message.verification_id, StatusReason.AB08)
        return out

    def _other(
        self, conn: Connection, envelope: Envelope, participants: dict[str, Participant], now_ms: int
    ) -> list[Envelope]:
        message = envelope.message
        if isinstance(message, AliasRegistration):
            return self.directory.begin_registration(conn, message, participants, now_ms)
        if isinstance(message, AliasRemoval):
            return self.directory.remove(conn, message, now_ms)
        if isinstance(message, VerificationReport):
            return self.directory.complete_registration(conn, envelope.sender, message, now_ms)
        if isinstance(message, VerificationRequest) and envelope.sender in participants:
            return self.directory.relay_verification(conn, envelope.sender, message, participants, now_ms)
        if isinstance(message, StatusRequest):
            return self.clearing.on_status_requests(conn, envelope.sender, [message], now_ms)
        return []  # a message the switch does not take is dropped, as a real switch drops noise

    def _participants(self, conn: Connection, now_ms: int, named: set[str]) -> dict[str, Participant]:
        """The registry, read at most once a second: it changes by admin action, rarely. This node's
        own admin calls clear it at once; another process's change is seen within the second, and a
        BIN the cache does not know (just registered elsewhere) makes it read again at once."""
        cached = self._participants_cache
        fresh = cached is not None and 0 <= now_ms - cached[0] < PARTICIPANTS_CACHE_MS
        if cached is not None and fresh and all(b in cached[1] for b in named if b.isdigit()):
            return cached[1]
        participants = self.participants.all(conn)
        self._participants_cache = (now_ms, participants)
        return participants

    # --- disbursements -------------------------------------------------------------------------

    def submit_disbursement(
        self, sender: str, file: DisbursementFile, now_ms: int
    ) -> tuple[DisbursementRecord, list[Envelope]]:
        """A payroll file from a Treasury participant: the disbursement, and what to send to start it."""

        def submit(conn: Connection) -> tuple[DisbursementRecord, list[Envelope]]:
            participants = self._participants(conn, now_ms, {sender})
            record, out = self.disbursement_service.submit(conn, sender, file, participants, now_ms)
            return record, self._outgoing(out, participants, now_ms)

        for attempt in range(1, BATCH_ATTEMPTS_MAX + 1):
            try:
                return self._in_transaction(submit)
            except (IntegrityError, OperationalError) as error:
                # Another worker numbered its disbursement, or took the same file, first: run again, it
                # sees what that worker committed (the same file then answers that disbursement).
                if attempt == BATCH_ATTEMPTS_MAX or not _retryable(error):
                    raise
        raise AssertionError("unreachable")

    def resume(self) -> list[Envelope]:
        """After a restart: the timers of every running disbursement, and the stale sweep's."""
        return self._in_transaction(self.disbursement_service.resume)

    def disbursement(self, debtor_agent: str | None, disbursement_id: int) -> DisbursementRecord:
        return self._in_transaction(lambda c: self.disbursement_service.disbursement(c, debtor_agent, disbursement_id))

    def disbursement_for_message(self, debtor_agent: str, message_id: str) -> DisbursementRecord | None:
        """The disbursement a payer's file with this message id made, if it made one."""
        return self._in_transaction(
            lambda c: self.disbursement_service.disbursement_for_message(c, debtor_agent, message_id)
        )

    def disbursements(self, debtor_agent: str | None = None) -> list[DisbursementRecord]:
        return self._in_transaction(lambda c: self.disbursement_service.disbursements(c, debtor_agent))

    def disbursement_open_items(self, disbursement_id: int) -> int:
        """Items of the disbursement not yet paid, on the cash list or held: progress, cheaply."""
        return self._in_transaction(lambda c: disbursement_repository.count_open(c, disbursement_id))

    def disbursement_items_by_status(self) -> dict[ItemStatus, tuple[int, int]]:
        """(count, VND) of all disbursements' items by status, for the operator's metrics."""
        return self._in_transaction(disbursement_repository.counts_by_status_all)

    def disbursement_summary(self, debtor_agent: str | None, disbursement_id: int) -> DisbursementSummary:
        return self._in_transaction(lambda c: self.disbursement_service.summary(c, debtor_agent, disbursement_id))

    def disbursement_row_errors(self, debtor_agent: str | None, disbursement_id: int) -> list[RowError]:
        return self._in_transaction(lambda c: self.disbursement_service.row_errors(c, debtor_agent, disbursement_id))

    def disbursement_items(
        self,
        debtor_agent: str | None,
        disbursement_id: int,
        after_seq: int,
        limit: int,
        status: ItemStatus | None = None,
    ) -> list[ItemRecord]:
        return self._in_transaction(
            lambda c: self.disbursement_service.items(c, debtor_agent, disbursement_id, after_seq, limit, status)
        )

    def disbursement_export(self, debtor_agent: str | None, disbursement_id: int, kind: str, now_ms: int) -> bytes:
        """`items` (CSV), `cash-list` (CSV) or `pain.002` (XML) of one disbursement."""

        def export(conn: Connection) -> bytes:
            disbursement = self.disbursement_service.disbursement(conn, debtor_agent, disbursement_id)
            items = self.disbursement_service.all_items(conn, debtor_agent, disbursement_id)
            if kind == "items":
                return disbursement_reports.items_csv(items)
            if kind == "cash-list":
                return disbursement_reports.cash_list_csv(items)
            assert kind == "pain.002", f"no export named {kind}"
            refused = self.disbursement_service.row_errors(conn, debtor_agent, disbursement_id)
            return disbursement_reports.pain002(disbursement, items, refused, local_time(now_ms))

        return self._in_transaction(export)

    # --- admin and queries --------------------------------------------------------------------

    def register_participant(self, participant: Participant, now_ms: int) -> Participant:
        self._participants_cache = None
        return self._in_transaction(lambda c: self.participants.register(c, participant, now_ms))

    def issue_credentials(self, bin_code: str, now_ms: int) -> Credentials:
        return self._in_transaction(lambda c: self.participants.issue_credentials(c, bin_code, now_ms))

    def authenticate(self, api_key: str) -> str | None:
        return self._in_transaction(lambda c: self.participants.authenticate(c, api_key))

    def signing_secret(self, bin_code: str) -> str | None:
        return self._in_transaction(lambda c: self.participants.signing_secret(c, bin_code))

    def set_status(self, bin_code: str, status: ParticipantStatus) -> Participant:
        self._participants_cache = None
        return self._in_transaction(lambda c: self.participants.set_status(c, bin_code, status))

    def set_wire(self, bin_code: str, wire: WireFormat) -> Participant:
        self._participants_cache = None
        return self._in_transaction(lambda c: self.participants.set_wire(c, bin_code, wire))

    def set_cap(self, bin_code: str, cap_vnd: int, now_ms: int) -> Participant:
        self._participants_cache = None
        return self._in_transaction(lambda c: self.participants.set_cap(c, bin_code, cap_vnd, now_ms))

    def fund_in(self, bin_code: str, amount_vnd: int, now_ms: int) -> Position:
        return self._in_transaction(lambda c: self.participants.fund_in(c, bin_code, amount_vnd, now_ms))

    def fund_out(self, bin_code: str, amount_vnd: int, now_ms: int) -> Position:
        return self._in_transaction(lambda c: self.participants.fund_out(c, bin_code, amount_vnd, now_ms))

    def positions(self) -> dict[str, Position]:
        return self._in_transaction(lambda c: self.participants.positions(c, self.participants.all(c)))

    def all_participants(self) -> dict[str, Participant]:
        return self._in_transaction(self.participants.all)

    def transfer_status(self, debtor_agent: str, transaction_id: str) -> ClearingRecord:
        return self._in_transaction(lambda c: self.clearing.status(c, debtor_agent, transaction_id))

    def lookup_alias(self, alias: Alias) -> AliasRecord:
        return self._in_transaction(lambda c: self.directory.lookup(c, alias))

    def alias_history(self, alias: Alias) -> list[dict[str, Any]]:
        return self._in_transaction(lambda c: self.directory.history(c, alias))

    def in_flight(self) -> int:
        """Transfers waiting for their creditor (PDNG)."""
        return self._in_transaction(clearing_repository.count_pending)

    def clearing_summary(self) -> list[dict[str, Any]]:
        return self._in_transaction(clearing_repository.summary)

    def check_invariants(self) -> LedgerTotals:
        return self._in_transaction(self.ledger.check_invariants)

    def _in_transaction(self, work: Callable[[Connection], T]) -> T:
        with self.engine.begin() as conn:
            return work(conn)
