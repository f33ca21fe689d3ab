"""The disbursement shell: takes a payroll file from a Treasury participant, screens it, reserves the funds,
sends its items through clearing in chunks grouped by creditor agent, and collects their outcomes.

Money: accepting a disbursement posts the amount of every item that has an account to pay from the
Treasury's position to the disbursement's reserve account (AM04 refuses the disbursement if it is not there).
Each pump releases what it sends back to the position, and clearing takes it from there per item,
in the same database transaction, so nothing else can take it in between. An item that will be
retried goes back into the reserve; an item on the cash list leaves its amount with the Treasury.
When the disbursement is complete the reserve is empty: asserted.

An item is paid at most once: a new attempt is sent only after the last one ended RJCT at the
switch, and a late acceptance of an ended attempt is refused by clearing (and voided at the bank).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from ledger import Account, AccountFlag, Ledger, Transfer, TransferResult
from switch.clearing.service import ClearingService
from switch.directory import repository as directory_repository
from switch.disbursements import core, repository
from switch.disbursements.schemas import (
    ACCOUNT_CODE_RESERVE,
    DISBURSEMENTS_RUNNING_MAX,
    IN_FLIGHT_ITEMS_MAX,
    PUMP_INTERVAL_MS,
    PUMP_ITEMS_MAX,
    TIMER_PREFIX,
    TRANSFER_CODE_RELEASE,
    TRANSFER_CODE_RESERVE,
    DisbursementRecord,
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
from switch.scheme.pain import DEBTOR_AGENT_PATH
from switch.scheme.summary import DisbursementSummary
from switch.scheme.transport import SWITCH_ADDRESS, Envelope, TimerFired

LOOKUP_CHUNK = 10_000  # ids per directory query: under SQLite's limit on bound values
DRAIN_ROUNDS_MAX = 8  # reports that cause sends that cause reports, within one transaction
STALE_AFTER_TIMEOUTS = 2
EXPORT_PAGE_ITEMS = 10_000


class DisbursementService:
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
    ) -> tuple[DisbursementRecord, list[Envelope]]:
        """Accept a file: the same message id with the same content answers the disbursement it made.
        A file refused whole (nothing of it accepted) does not keep its message id: the corrected
        file sent under it is taken, and the refused one is marked superseded by it."""
        _check_sender(sender, file, participants)
        existing = repository.find_disbursement(conn, sender, file.message_id)
        if existing is not None and existing.digest == file.digest:
            return existing, []
        if existing is not None and existing.status != DisbursementStatus.REJECTED:
            raise DisbursementDuplicate(
                "message_id",
                f"{file.message_id} was used for a file with other content (disbursement {existing.id}, accepted):"
                " a new file needs a new message id",
            )
        if len(repository.disbursements(conn, sender, DisbursementStatus.RUNNING)) >= DISBURSEMENTS_RUNNING_MAX:
            raise Conflict("message_id", f"{DISBURSEMENTS_RUNNING_MAX} disbursements are already running for {sender}")
        disbursement_id = repository.next_disbursement_id(conn)
        items, errors = self._screen(conn, sender, disbursement_id, file, now_ms)
        disbursement = _new_disbursement(disbursement_id, sender, file, items, errors, now_ms)
        if existing is not None:  # refused whole: its message id goes to this file (before the insert: one holds it)
            repository.supersede(conn, existing, disbursement_id)
        # The disbursement row first: it claims the number. A worker numbering a file at the same moment
        # fails here on the key (and runs again), before either touches the ledger.
        repository.insert_disbursement(conn, disbursement)
        repository.insert_row_errors(conn, disbursement_id, errors)
        if disbursement.status == DisbursementStatus.REJECTED:  # not one row to take: nothing to run
            return disbursement, []
        if disbursement.reserved_vnd and not self._reserve(conn, disbursement, now_ms):
            disbursement.status, disbursement.reason, disbursement.completed_ms = (
                DisbursementStatus.REJECTED,
                StatusReason.AM04,
                now_ms,
            )
            repository.save_disbursement(conn, disbursement)
            return disbursement, []
        repository.insert_items(conn, items, sender)
        out = self._drain(conn, self._pump(conn, disbursement, participants, now_ms), participants, now_ms)
        self._complete_if_done(conn, disbursement, now_ms)
        if disbursement.status == DisbursementStatus.RUNNING:
            out.append(_timer(disbursement.id))
        return disbursement, out

    def _screen(
        self, conn: Connection, payer: str, disbursement_id: int, file: DisbursementFile, now_ms: int
    ) -> tuple[list[ItemRecord], list[RowError]]:
        keys = [beneficiary_key(payer, *item.beneficiary_key) for item in file.items]
        taken = set()
        for start in range(0, len(keys), LOOKUP_CHUNK):
            taken |= repository.existing_keys(conn, keys[start : start + LOOKUP_CHUNK])
        citizen_ids = [item.citizen_id for item in file.items]
        identities: Mapping[str, IdentityRecord] = self.identities.lookup(citizen_ids) if self.identities else {}
        aliases = {}
        for start in range(0, len(citizen_ids), LOOKUP_CHUNK):
            chunk = [core.alias_key(c) for c in citizen_ids[start : start + LOOKUP_CHUNK]]
            aliases.update(directory_repository.load_aliases(conn, chunk))
        items: list[ItemRecord] = []
        errors = list(file.errors)
        for row, item, origin, key in zip(file.item_rows, file.items, file.origins(), keys, strict=True):
            if key in taken:
                rule = "this beneficiary is already in an earlier file of this payer for the same program and cycle"
                errors.append(
                    RowError(row, "citizen_id", rule, StatusReason.DUPL, item.end_to_end_id, origin.payment_info_id)
                )
                continue
            decided = core.screen(item, identities.get(item.citizen_id), aliases.get(core.alias_key(item.citizen_id)))
            items.append(
                ItemRecord(
                    disbursement_id, row, item.end_to_end_id, item.citizen_id, item.name, item.province_code,
                    item.program, item.cycle, item.amount_vnd, decided.status, decided.reason, decided.creditor_agent,
                    0, now_ms, now_ms, origin.payment_info_id, origin.category_purpose, origin.purpose,
                )
            )  # fmt: skip
        errors.sort(key=lambda e: e.row)
        return items, errors

    def _reserve(self, conn: Connection, disbursement: DisbursementRecord, now_ms: int) -> bool:
        account = Account(
            reserve_account(disbursement.id), ACCOUNT_CODE_RESERVE, AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS
        )
        self.ledger.create_accounts(conn, [account])
        reserve = Transfer(
            f"disbursement:{disbursement.id}:reserve",
            position_account(disbursement.debtor_agent),
            account.id,
            disbursement.reserved_vnd,
            code=TRANSFER_CODE_RESERVE,
        )
        [result] = self.ledger.create_transfers(conn, [reserve], now_ms)
        if result == TransferResult.EXCEEDS_CREDITS:
            return False
        assert result == TransferResult.OK, f"reserving disbursement {disbursement.id}: {result}"
        return True

    # --- sending -----------------------------------------------------------------------------

    def _pump(
        self, conn: Connection, disbursement: DisbursementRecord, participants: Mapping[str, Participant], now_ms: int
    ) -> list[Envelope]:
        """Send what is queued or due for a retry, within the disbursement's in-flight limit."""
        if disbursement.status != DisbursementStatus.RUNNING:
            return []
        out_now, _oldest = repository.sent(conn, disbursement.id)
        room = min(IN_FLIGHT_ITEMS_MAX - out_now, PUMP_ITEMS_MAX)
        if room <= 0:
            return []
        items = core.take_for_sending(repository.sendable(conn, disbursement.id, now_ms, room), room)
        if not items:
            return []
        for item in items:
            item.status, item.attempts, item.updated_ms = ItemStatus.SENT, item.attempts + 1, now_ms
        first = transaction_id(disbursement.id, items[0].seq, items[0].attempts)
        self._move(
            conn,
            reserve_account(disbursement.id),
            position_account(disbursement.debtor_agent),
            items,
            f"out:{first}",
            now_ms,
        )
        repository.update_items(conn, items)
        debtor = participants[disbursement.debtor_agent]
        transfers = [(disbursement.debtor_agent, _credit_transfer(disbursement, debtor, i)) for i in items]
        return self.clearing.intake(conn, transfers, participants, now_ms)

    def _move(
        self, conn: Connection, source: str, target: str, items: Sequence[ItemRecord], tag: str, now_ms: int
    ) -> None:
        amount = sum(i.amount_vnd for i in items)
        disbursement_id = items[0].disbursement_id
        transfer = Transfer(f"disbursement:{disbursement_id}:{tag}", source, target, amount, code=TRANSFER_CODE_RELEASE)
        [result] = self.ledger.create_transfers(conn, [transfer], now_ms)
        # The amounts moved are the items' own, which were reserved or just released: never short.
        assert result == TransferResult.OK, f"moving {amount} VND for disbursement {disbursement_id} ({tag}): {result}"

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
                if _is_disbursement_report(envelope, participants):
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
        by_disbursement: dict[int, list[tuple[int, int, StatusReport]]] = defaultdict(list)
        for report in reports:
            parsed = parse_transaction_id(report.original_transaction_id)
            if parsed is not None and report.transaction_status.is_final:
                by_disbursement[parsed[0]].append((parsed[1], parsed[2], report))
        out: list[Envelope] = []
        for disbursement_id, answers in sorted(by_disbursement.items()):
            disbursement = repository.load_disbursement(conn, disbursement_id)
            if disbursement is None or disbursement.status != DisbursementStatus.RUNNING:
                continue
            self._apply(conn, disbursement, answers, now_ms)
            out += self._pump(conn, disbursement, participants, now_ms)
            self._complete_if_done(conn, disbursement, now_ms)
        return out

    def _apply(
        self,
        conn: Connection,
        disbursement: DisbursementRecord,
        answers: list[tuple[int, int, StatusReport]],
        now_ms: int,
    ) -> None:
        items = repository.load_items(conn, disbursement.id, [seq for seq, _a, _r in answers])
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
            tag = f"back:{transaction_id(disbursement.id, retried[0].seq, retried[0].attempts)}"
            self._move(
                conn,
                position_account(disbursement.debtor_agent),
                reserve_account(disbursement.id),
                retried,
                tag,
                now_ms,
            )
        repository.update_items(conn, changed)

    def _complete_if_done(self, conn: Connection, disbursement: DisbursementRecord, now_ms: int) -> None:
        if repository.count_open(conn, disbursement.id):
            return
        counts = repository.counts_by_status(conn, disbursement.id)
        core.check_totals(counts, disbursement.items_total, disbursement.amount_total_vnd)
        assert all(status.is_final for status in counts), f"disbursement {disbursement.id} has open items: {counts}"
        reserve = self.ledger.lookup_accounts(conn, [reserve_account(disbursement.id)]).get(
            reserve_account(disbursement.id)
        )
        left = reserve.balance_vnd if reserve is not None else 0
        assert left == 0, f"disbursement {disbursement.id} is complete with {left} VND still in its reserve"
        disbursement.status, disbursement.completed_ms = DisbursementStatus.COMPLETED, now_ms
        repository.save_disbursement(conn, disbursement)

    # --- timers and restarts --------------------------------------------------------------------

    def on_timer(
        self, conn: Connection, key: str, participants: Mapping[str, Participant], now_ms: int
    ) -> list[Envelope]:
        """A running disbursement's heartbeat: retries that are due, answers lost with a crashed worker."""
        disbursement = repository.load_disbursement(conn, int(key.removeprefix(TIMER_PREFIX)))
        if disbursement is None or disbursement.status != DisbursementStatus.RUNNING:
            return []
        out: list[Envelope] = []
        count, oldest = repository.sent(conn, disbursement.id)
        if count and oldest is not None and oldest <= now_ms - self.stale_after_ms:
            out += self.clearing.expire_stale(conn, now_ms)
        out += self._pump(conn, disbursement, participants, now_ms)
        out = self._drain(conn, out, participants, now_ms)
        self._complete_if_done(conn, disbursement, now_ms)
        if disbursement.status == DisbursementStatus.RUNNING:
            out.append(_timer(disbursement.id))
        return out

    def resume(self, conn: Connection) -> list[Envelope]:
        """After a restart: every running disbursement's heartbeat again."""
        return [_timer(b.id) for b in repository.disbursements(conn, status=DisbursementStatus.RUNNING)]

    # --- queries -----------------------------------------------------------------------------

    def disbursement_for_message(
        self, conn: Connection, debtor_agent: str, message_id: str
    ) -> DisbursementRecord | None:
        return repository.find_disbursement(conn, debtor_agent, message_id)

    def disbursement(self, conn: Connection, debtor_agent: str | None, disbursement_id: int) -> DisbursementRecord:
        disbursement = repository.load_disbursement(conn, disbursement_id)
        if disbursement is None or (debtor_agent is not None and disbursement.debtor_agent != debtor_agent):
            raise DisbursementNotFound("disbursement_id", f"no disbursement {disbursement_id} for this payer")
        return disbursement

    def summary(self, conn: Connection, debtor_agent: str | None, disbursement_id: int) -> DisbursementSummary:
        disbursement = self.disbursement(conn, debtor_agent, disbursement_id)
        groups, listed = repository.groups(conn, disbursement_id), repository.count_row_errors(conn, disbursement_id)
        return core.summarize(disbursement, groups, listed, repository.retried(conn, disbursement_id))

    def row_errors(self, conn: Connection, debtor_agent: str | None, disbursement_id: int) -> list[RowError]:
        self.disbursement(conn, debtor_agent, disbursement_id)
        return repository.row_errors(conn, disbursement_id)

    def items(
        self,
        conn: Connection,
        debtor_agent: str | None,
        disbursement_id: int,
        after_seq: int,
        limit: int,
        status: ItemStatus | None = None,
    ) -> list[ItemRecord]:
        self.disbursement(conn, debtor_agent, disbursement_id)
        return repository.page(conn, disbursement_id, after_seq, limit, status)

    def all_items(self, conn: Connection, debtor_agent: str | None, disbursement_id: int) -> list[ItemRecord]:
        self.disbursement(conn, debtor_agent, disbursement_id)
        items: list[ItemRecord] = []
        while True:
            page = repository.page(conn, disbursement_id, items[-1].seq if items else 0, EXPORT_PAGE_ITEMS)
            items += page
            if len(page) < EXPORT_PAGE_ITEMS:
                return items

    def disbursements(self, conn: Connection, debtor_agent: str | None = None) -> list[DisbursementRecord]:
        return repository.disbursements(conn, debtor_agent)


def _check_sender(sender: str, file: DisbursementFile, participants: Mapping[str, Participant]) -> None:
    payer = participants.get(sender)
    if payer is None:
        raise ParticipantNotFound("debtor_agent", f"{sender} is not a participant")
    if payer.kind != ParticipantKind.TREASURY:
        raise PayerOnly("debtor_agent", f"{sender} is a {payer.kind.value}: only a Treasury participant pays payrolls")
    if not payer.active:
        raise ParticipantSuspended("debtor_agent", f"{sender} is suspended")
    if file.debtor_agent is not None and file.debtor_agent != sender:
        raise InputInvalid(
            f"PmtInf/{DEBTOR_AGENT_PATH}",
            f"must be {sender}, the BIN of {payer.name}, the Treasury participant whose key posted the file;"
            f" it names {file.debtor_agent}",
        )


def _new_disbursement(
    disbursement_id: int,
    sender: str,
    file: DisbursementFile,
    items: list[ItemRecord],
    errors: list[RowError],
    now_ms: int,
) -> DisbursementRecord:
    status = DisbursementStatus.RUNNING if items else DisbursementStatus.REJECTED
    # Nothing accepted: the reason every row shares (DUPL for a payroll sent twice), else FF01.
    reasons = {e.reason for e in errors}
    refusal = reasons.pop() if len(reasons) == 1 else StatusReason.FF01
    return DisbursementRecord(
        id=disbursement_id,
        debtor_agent=sender,
        message_id=file.message_id,
        digest=file.digest,
        source_format=file.source_format,
        status=status,
        reason=None if items else refusal,
        rows_total=file.rows_total,
        rows_rejected=len({e.row for e in errors}),
        items_total=len(items),
        amount_total_vnd=sum(i.amount_vnd for i in items),
        reserved_vnd=sum(i.amount_vnd for i in items if i.status == ItemStatus.QUEUED),
        received_ms=now_ms,
        completed_ms=None if items else now_ms,
    )


def _credit_transfer(disbursement: DisbursementRecord, debtor: Participant, item: ItemRecord) -> CreditTransfer:
    # Built without validation: every field comes from a validated row or from the switch itself.
    return CreditTransfer.unchecked(
        message_id=f"PR{disbursement.id:07d}",
        end_to_end_id=item.end_to_end_id,
        transaction_id=transaction_id(disbursement.id, item.seq, item.attempts),
        amount_vnd=item.amount_vnd,
        currency="VND",
        debtor=Party.unchecked(name=debtor.name, citizen_id=None),
        debtor_account=PAYROLL_DEBTOR_ACCOUNT,
        debtor_agent=disbursement.debtor_agent,
        creditor=Party.unchecked(name=item.name, citizen_id=item.citizen_id),
        creditor_account=None,
        creditor_alias=Alias.unchecked(type=AliasType.CITIZEN_ID, value=item.citizen_id),
        creditor_agent=None,
        purpose=Purpose.SSBE,
        remittance_information=f"{item.program.value} {item.cycle}",
    )


def _is_disbursement_report(envelope: Envelope, participants: Mapping[str, Participant]) -> bool:
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


def _timer(disbursement_id: int) -> Envelope:
    return Envelope(SWITCH_ADDRESS, SWITCH_ADDRESS, TimerFired(f"{TIMER_PREFIX}{disbursement_id}"), PUMP_INTERVAL_MS)


__all__ = ["DisbursementService", "beneficiary_key"]
