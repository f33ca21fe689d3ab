"""The bulk shell: takes a payroll file from a Treasury participant, screens it, reserves the funds,
sends its items through clearing in chunks grouped by creditor agent, and collects their outcomes.

Money: accepting a batch posts the amount of every item that has an account to pay from the
Treasury's position to the batch's reserve account (AM04 refuses the batch if it is not there).
Each pump releases what it sends back to the position, and clearing takes it from there per item,
in the same database transaction, so nothing else can take it in between. An item that will be
retried goes back into the reserve; an item on the cash list leaves its amount with the Treasury.
When the batch is complete the reserve is empty: asserted.

An item is paid at most once: a new attempt is sent only after the last one ended RJCT at the
switch, and a late acceptance of an ended attempt is refused by clearing (and voided at the bank).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from ledger import Account, AccountFlag, Ledger, Transfer, TransferResult
from switch.clearing.service import ClearingService
from switch.directory import repository as directory_repository
from switch.disbursements import core, repository
from switch.disbursements.schemas import (
    ACCOUNT_CODE_RESERVE,
    BATCHES_RUNNING_MAX,
    IN_FLIGHT_ITEMS_MAX,
    PUMP_INTERVAL_MS,
    PUMP_ITEMS_MAX,
    TIMER_PREFIX,
    TRANSFER_CODE_RELEASE,
    TRANSFER_CODE_RESERVE,
    BatchRecord,
    ItemRecord,
    beneficiary_key,
    parse_transaction_id,
    reserve_account,
    transaction_id,
)
from switch.errors import (
    Conflict,
    DisbursementDuplicate,
    DisbursementNotFound,
    InputInvalid,
    ParticipantNotFound,
    ParticipantSuspended,
    PayerOnly,
)
from switch.participants.schemas import Participant, position_account
from switch.scheme.codes import (
    AliasType,
    DisbursementStatus,
    ItemStatus,
    ParticipantKind,
    Purpose,
    StatusReason,
    TransactionStatus,
)
from switch.scheme.disbursement import PAYROLL_DEBTOR_ACCOUNT, DisbursementFile, RowError
from switch.scheme.identity import IdentityRecord, IdentityRegistry
from switch.scheme.messages import Alias, CreditTransfer, Party, StatusReport
from switch.scheme.transport import SWITCH_ADDRESS, Envelope, TimerFired

LOOKUP_CHUNK = 10_000  # ids per directory query: under SQLite's limit on bound values
DRAIN_ROUNDS_MAX = 8  # reports that cause sends that cause reports, within one transaction
STALE_AFTER_TIMEOUTS = 2
EXPORT_PAGE_ITEMS = 10_000


class BulkService:
    def __init__(
        self,
        ledger: Ledger,
        clearing: ClearingService,
        identities: IdentityRegistry | None,
        creditor_timeout_ms: int,
    ) -> None:
        self.ledger = ledger
        self.clearing = clearing
        self.identities = identities
        self.stale_after_ms = STALE_AFTER_TIMEOUTS * creditor_timeout_ms

    # --- intake ------------------------------------------------------------------------------

    def submit(
        self,
        conn: Connection,
        sender: str,
        file: DisbursementFile,
        participants: Mapping[str, Participant],
        now_ms: int,
    ) -> tuple[BatchRecord, list[Envelope]]:
        """Accept a file: the same message id with the same content answers the batch it made."""
        _check_sender(sender, file, participants)
        existing = repository.find_batch(conn, sender, file.message_id)
        if existing is not None:
            if existing.digest != file.digest:
                raise DisbursementDuplicate("message_id", f"{file.message_id} was used for a file with other content")
            return existing, []
        if len(repository.batches(conn, sender, DisbursementStatus.RUNNING)) >= BATCHES_RUNNING_MAX:
            raise Conflict("message_id", f"{BATCHES_RUNNING_MAX} disbursements are already running for {sender}")
        batch_id = repository.next_batch_id(conn)
        items, errors = self._screen(conn, batch_id, file, now_ms)
        batch = _new_batch(batch_id, sender, file, items, errors, now_ms)
        # The batch row first: it claims the number. A worker numbering a file at the same moment
        # fails here on the key (and runs again), before either touches the ledger.
        repository.insert_batch(conn, batch)
        repository.insert_row_errors(conn, batch_id, errors)
        if batch.status == DisbursementStatus.REJECTED:  # not one row to take: nothing to run
            return batch, []
        if batch.reserved_vnd and not self._reserve(conn, batch, now_ms):
            batch.status, batch.reason, batch.completed_ms = DisbursementStatus.REJECTED, StatusReason.AM04, now_ms
            repository.save_batch(conn, batch)
            return batch, []
        repository.insert_items(conn, items)
        out = self._drain(conn, self._pump(conn, batch, participants, now_ms), participants, now_ms)
        self._complete_if_done(conn, batch, now_ms)
        if batch.status == DisbursementStatus.RUNNING:
            out.append(_timer(batch.id))
        return batch, out

    def _screen(
        self, conn: Connection, batch_id: int, file: DisbursementFile, now_ms: int
    ) -> tuple[list[ItemRecord], list[RowError]]:
        keys = [item.beneficiary_key for item in file.items]
        taken = set()
        for start in range(0, len(keys), LOOKUP_CHUNK):
            taken |= repository.existing_keys(conn, [beneficiary_key(*k) for k in keys[start : start + LOOKUP_CHUNK]])
        citizen_ids = [item.citizen_id for item in file.items]
        identities: Mapping[str, IdentityRecord] = self.identities.lookup(citizen_ids) if self.identities else {}
        aliases = {}
        for start in range(0, len(citizen_ids), LOOKUP_CHUNK):
            chunk = [core.alias_key(c) for c in citizen_ids[start : start + LOOKUP_CHUNK]]
            aliases.update(directory_repository.load_aliases(conn, chunk))
        items: list[ItemRecord] = []
        errors = list(file.errors)
        for row, item in zip(file.item_rows, file.items, strict=True):
            if beneficiary_key(*item.beneficiary_key) in taken:
                rule = "this beneficiary is already in an earlier file for the same program and cycle"
                errors.append(RowError(row, "citizen_id", rule, StatusReason.DUPL, item.end_to_end_id))
                continue
            decided = core.screen(item, identities.get(item.citizen_id), aliases.get(core.alias_key(item.citizen_id)))
            items.append(
                ItemRecord(
                    batch_id, row, item.end_to_end_id, item.citizen_id, item.name, item.province_code, item.program,
                    item.cycle, item.amount_vnd, decided.status, decided.reason, decided.creditor_agent, 0, now_ms,
                    now_ms,
                )
            )  # fmt: skip
        errors.sort(key=lambda e: e.row)
        return items, errors

    def _reserve(self, conn: Connection, batch: BatchRecord, now_ms: int) -> bool:
        account = Account(reserve_account(batch.id), ACCOUNT_CODE_RESERVE, AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS)
        self.ledger.create_accounts(conn, [account])
        reserve = Transfer(
            f"bulk:{batch.id}:reserve",
            position_account(batch.debtor_agent),
            account.id,
            batch.reserved_vnd,
            code=TRANSFER_CODE_RESERVE,
        )
        [result] = self.ledger.create_transfers(conn, [reserve], now_ms)
        if result == TransferResult.EXCEEDS_CREDITS:
            return False
        assert result == TransferResult.OK, f"reserving batch {batch.id}: {result}"
        return True

    # --- sending -----------------------------------------------------------------------------

    def _pump(
        self, conn: Connection, batch: BatchRecord, participants: Mapping[str, Participant], now_ms: int
    ) -> list[Envelope]:
        """Send what is queued or due for a retry, within the batch's in-flight limit."""
        if batch.status != DisbursementStatus.RUNNING:
            return []
        out_now, _oldest = repository.sent(conn, batch.id)
        room = min(IN_FLIGHT_ITEMS_MAX - out_now, PUMP_ITEMS_MAX)
        if room <= 0:
            return []
        items = core.take_for_sending(repository.sendable(conn, batch.id, now_ms, room), room)
        if not items:
            return []
        for item in items:
            item.status, item.attempts, item.updated_ms = ItemStatus.SENT, item.attempts + 1, now_ms
        first = transaction_id(batch.id, items[0].seq, items[0].attempts)
        self._move(conn, reserve_account(batch.id), position_account(batch.debtor_agent), items, f"out:{first}", now_ms)
        repository.update_items(conn, items)
        debtor = participants[batch.debtor_agent]
        transfers = [(batch.debtor_agent, _credit_transfer(batch, debtor, i)) for i in items]
        return self.clearing.intake(conn, transfers, participants, now_ms)

    def _move(
        self, conn: Connection, source: str, target: str, items: Sequence[ItemRecord], tag: str, now_ms: int
    ) -> None:
        amount = sum(i.amount_vnd for i in items)
        batch_id = items[0].batch_id
        transfer = Transfer(f"bulk:{batch_id}:{tag}", source, target, amount, code=TRANSFER_CODE_RELEASE)
        [result] = self.ledger.create_transfers(conn, [transfer], now_ms)
        # The amounts moved are the items' own, which were reserved or just released: never short.
        assert result == TransferResult.OK, f"moving {amount} VND for batch {batch_id} ({tag}): {result}"

    # --- outcomes ----------------------------------------------------------------------------

    def intercept(
        self, conn: Connection, out: list[Envelope], participants: Mapping[str, Participant], now_ms: int
    ) -> list[Envelope]:
        """Take the final reports clearing addressed to a Treasury for bulk items: they are the
        switch's own to act on. The rest goes out as it was."""
        return self._drain(conn, out, participants, now_ms)

    def _drain(
        self, conn: Connection, out: list[Envelope], participants: Mapping[str, Participant], now_ms: int
    ) -> list[Envelope]:
        passed: list[Envelope] = []
        for _round in range(DRAIN_ROUNDS_MAX):
            ours: list[StatusReport] = []
            for envelope in out:
                if _is_bulk_report(envelope, participants):
                    ours.append(envelope.message)  # type: ignore[arg-type]
                else:
                    passed.append(envelope)
            if not ours:
                return passed
            out = self._on_reports(conn, ours, participants, now_ms)
        raise AssertionError(f"bulk reports still coming after {DRAIN_ROUNDS_MAX} rounds in one transaction")

    def _on_reports(
        self, conn: Connection, reports: list[StatusReport], participants: Mapping[str, Participant], now_ms: int
    ) -> list[Envelope]:
        by_batch: dict[int, list[tuple[int, int, StatusReport]]] = defaultdict(list)
        for report in reports:
            parsed = parse_transaction_id(report.original_transaction_id)
            if parsed is not None and report.transaction_status.is_final:
                by_batch[parsed[0]].append((parsed[1], parsed[2], report))
        out: list[Envelope] = []
        for batch_id, answers in sorted(by_batch.items()):
            batch = repository.load_batch(conn, batch_id)
            if batch is None or batch.status != DisbursementStatus.RUNNING:
                continue
            self._apply(conn, batch, answers, now_ms)
            out += self._pump(conn, batch, participants, now_ms)
            self._complete_if_done(conn, batch, now_ms)
        return out

    def _apply(
        self, conn: Connection, batch: BatchRecord, answers: list[tuple[int, int, StatusReport]], now_ms: int
    ) -> None:
        items = repository.load_items(conn, batch.id, [seq for seq, _a, _r in answers])
        changed: list[ItemRecord] = []
        for seq, attempt, report in answers:
            item = items.get(seq)
            if item is None or item.status != ItemStatus.SENT or item.attempts != attempt:
                continue  # an answer to an attempt already decided: a repeat, never a second payment
            outcome = core.decide_answer(item, report.transaction_status, report.status_reason, now_ms)
            item.status, item.reason, item.due_ms, item.updated_ms = (
                outcome.status,
                outcome.reason,
                outcome.due_ms,
                now_ms,
            )
            changed.append(item)
        retried = [i for i in changed if i.status == ItemStatus.RETRY]
        if retried:
            tag = f"back:{transaction_id(batch.id, retried[0].seq, retried[0].attempts)}"
            self._move(conn, position_account(batch.debtor_agent), reserve_account(batch.id), retried, tag, now_ms)
        repository.update_items(conn, changed)

    def _complete_if_done(self, conn: Connection, batch: BatchRecord, now_ms: int) -> None:
        if repository.count_open(conn, batch.id):
            return
        counts = repository.counts_by_status(conn, batch.id)
        core.check_totals(counts, batch.items_total, batch.amount_total_vnd)
        assert all(status.is_final for status in counts), f"batch {batch.id} has open items: {counts}"
        reserve = self.ledger.lookup_accounts(conn, [reserve_account(batch.id)]).get(reserve_account(batch.id))
        left = reserve.balance_vnd if reserve is not None else 0
        assert left == 0, f"batch {batch.id} is complete with {left} VND still in its reserve"
        batch.status, batch.completed_ms = DisbursementStatus.COMPLETED, now_ms
        repository.save_batch(conn, batch)

    # --- timers and restarts --------------------------------------------------------------------

    def on_timer(
        self, conn: Connection, key: str, participants: Mapping[str, Participant], now_ms: int
    ) -> list[Envelope]:
        """A running batch's heartbeat: retries that are due, answers lost with a crashed worker."""
        batch = repository.load_batch(conn, int(key.removeprefix(TIMER_PREFIX)))
        if batch is None or batch.status != DisbursementStatus.RUNNING:
            return []
        out: list[Envelope] = []
        count, oldest = repository.sent(conn, batch.id)
        if count and oldest is not None and oldest <= now_ms - self.stale_after_ms:
            out += self.clearing.expire_stale(conn, now_ms)
        out += self._pump(conn, batch, participants, now_ms)
        out = self._drain(conn, out, participants, now_ms)
        self._complete_if_done(conn, batch, now_ms)
        if batch.status == DisbursementStatus.RUNNING:
            out.append(_timer(batch.id))
        return out

    def resume(self, conn: Connection) -> list[Envelope]:
        """After a restart: every running batch's heartbeat again."""
        return [_timer(b.id) for b in repository.batches(conn, status=DisbursementStatus.RUNNING)]

    # --- queries -----------------------------------------------------------------------------

    def batch_for_message(self, conn: Connection, debtor_agent: str, message_id: str) -> BatchRecord | None:
        return repository.find_batch(conn, debtor_agent, message_id)

    def batch(self, conn: Connection, debtor_agent: str | None, batch_id: int) -> BatchRecord:
        batch = repository.load_batch(conn, batch_id)
        if batch is None or (debtor_agent is not None and batch.debtor_agent != debtor_agent):
            raise DisbursementNotFound("disbursement_id", f"no disbursement {batch_id} for this payer")
        return batch

    def summary(self, conn: Connection, debtor_agent: str | None, batch_id: int) -> dict[str, Any]:
        batch = self.batch(conn, debtor_agent, batch_id)
        groups, listed = repository.groups(conn, batch_id), repository.count_row_errors(conn, batch_id)
        return core.summarize(batch, groups, listed, repository.retried(conn, batch_id))

    def row_errors(self, conn: Connection, debtor_agent: str | None, batch_id: int) -> list[RowError]:
        self.batch(conn, debtor_agent, batch_id)
        return repository.row_errors(conn, batch_id)

    def items(
        self,
        conn: Connection,
        debtor_agent: str | None,
        batch_id: int,
        after_seq: int,
        limit: int,
        status: ItemStatus | None = None,
    ) -> list[ItemRecord]:
        self.batch(conn, debtor_agent, batch_id)
        return repository.page(conn, batch_id, after_seq, limit, status)

    def all_items(self, conn: Connection, debtor_agent: str | None, batch_id: int) -> list[ItemRecord]:
        self.batch(conn, debtor_agent, batch_id)
        items: list[ItemRecord] = []
        while True:
            page = repository.page(conn, batch_id, items[-1].seq if items else 0, EXPORT_PAGE_ITEMS)
            items += page
            if len(page) < EXPORT_PAGE_ITEMS:
                return items

    def batches(self, conn: Connection, debtor_agent: str | None = None) -> list[BatchRecord]:
        return repository.batches(conn, debtor_agent)


def _check_sender(sender: str, file: DisbursementFile, participants: Mapping[str, Participant]) -> None:
    payer = participants.get(sender)
    if payer is None:
        raise ParticipantNotFound("debtor_agent", f"{sender} is not a participant")
    if payer.kind != ParticipantKind.TREASURY:
        raise PayerOnly("debtor_agent", f"{sender} is a {payer.kind.value}: only a Treasury participant pays payrolls")
    if not payer.active:
        raise ParticipantSuspended("debtor_agent", f"{sender} is suspended")
    if file.debtor_agent is not None and file.debtor_agent != sender:
        raise InputInvalid("PmtInf.DbtrAgt", f"names {file.debtor_agent}, but the file was sent by {sender}")


def _new_batch(
    batch_id: int, sender: str, file: DisbursementFile, items: list[ItemRecord], errors: list[RowError], now_ms: int
) -> BatchRecord:
    status = DisbursementStatus.RUNNING if items else DisbursementStatus.REJECTED
    return BatchRecord(
        id=batch_id,
        debtor_agent=sender,
        message_id=file.message_id,
        digest=file.digest,
        source_format=file.source_format,
        status=status,
        reason=None if items else StatusReason.FF01,
        rows_total=file.rows_total,
        rows_rejected=len({e.row for e in errors}),
        items_total=len(items),
        amount_total_vnd=sum(i.amount_vnd for i in items),
        reserved_vnd=sum(i.amount_vnd for i in items if i.status == ItemStatus.QUEUED),
        received_ms=now_ms,
        completed_ms=None if items else now_ms,
    )


def _credit_transfer(batch: BatchRecord, debtor: Participant, item: ItemRecord) -> CreditTransfer:
    # Built without validation: every field comes from a validated row or from the switch itself.
    return CreditTransfer.unchecked(
        message_id=f"PR{batch.id:07d}",
        end_to_end_id=item.end_to_end_id,
        transaction_id=transaction_id(batch.id, item.seq, item.attempts),
        amount_vnd=item.amount_vnd,
        currency="VND",
        debtor=Party.unchecked(name=debtor.name, citizen_id=None),
        debtor_account=PAYROLL_DEBTOR_ACCOUNT,
        debtor_agent=batch.debtor_agent,
        creditor=Party.unchecked(name=item.name, citizen_id=item.citizen_id),
        creditor_account=None,
        creditor_alias=Alias.unchecked(type=AliasType.CITIZEN_ID, value=item.citizen_id),
        creditor_agent=None,
        purpose=Purpose.SSBE,
        remittance_information=f"{item.program.value} {item.cycle}",
    )


def _is_bulk_report(envelope: Envelope, participants: Mapping[str, Participant]) -> bool:
    message = envelope.message
    payer = participants.get(envelope.receiver)
    return (
        isinstance(message, StatusReport)
        and payer is not None
        and payer.kind == ParticipantKind.TREASURY
        and envelope.sender == SWITCH_ADDRESS
        and message.original_transaction_id.startswith("PR")
        and parse_transaction_id(message.original_transaction_id) is not None
        and message.debtor_agent == envelope.receiver
        and message.transaction_status in (TransactionStatus.ACSC, TransactionStatus.RJCT)
    )


def _timer(batch_id: int) -> Envelope:
    return Envelope(SWITCH_ADDRESS, SWITCH_ADDRESS, TimerFired(f"{TIMER_PREFIX}{batch_id}"), PUMP_INTERVAL_MS)


__all__ = ["BulkService", "beneficiary_key"]
