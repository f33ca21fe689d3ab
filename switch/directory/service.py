"""Alias registration with verification by the owning participant, removal, resolution.

Registering is a conversation: the citizen app asks, the switch asks the bank or wallet (acmt.023)
whether the account exists, is active and is this person's, and only a match (MTCH) registers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import Connection

from switch.directory import repository
from switch.directory.schemas import AliasAction, AliasRecord, PendingRegistration
from switch.errors import AliasNotFound
from switch.participants.schemas import Participant
from switch.scheme.calendar import local_time
from switch.scheme.codes import AliasType, RegistrationOutcome, StatusReason, VerificationOutcome
from switch.scheme.identifiers import check_citizen_id
from switch.scheme.messages import (
    Alias,
    AliasRegistration,
    AliasRegistrationReport,
    AliasRemoval,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.names import mask_name
from switch.scheme.transport import CITIZEN_APP_ADDRESS, SWITCH_ADDRESS, Envelope, TimerFired

VERIFICATION_TIMEOUT_MS = 10_000
TIMER_PREFIX = "registration:"
RELAY_PREFIX = "VOP"  # ids the switch gives the verifications it passes on for participants


class DirectoryService:
    def __init__(self, verification_timeout_ms: int = VERIFICATION_TIMEOUT_MS) -> None:
        self.verification_timeout_ms = verification_timeout_ms

    def resolve(self, conn: Connection, aliases: Iterable[Alias]) -> dict[str, AliasRecord]:
        return repository.load_aliases(conn, (a.key for a in aliases))

    def lookup(self, conn: Connection, alias: Alias) -> AliasRecord:
        found = repository.load_aliases(conn, [alias.key]).get(alias.key)
        if found is None:
            raise AliasNotFound("alias", f"{alias.type.value} {alias.value} is not registered")
        return found

    def history(self, conn: Connection, alias: Alias) -> list[dict[str, object]]:
        return repository.history(conn, alias.key)

    def begin_registration(
        self, conn: Connection, request: AliasRegistration, participants: dict[str, Participant], now_ms: int
    ) -> list[Envelope]:
        refusal = self._refusal(conn, request, participants, now_ms)
        if refusal is not None:
            return [_report(request.request_id, request.alias, RegistrationOutcome.REFUSED, reason=refusal)]
        if repository.pending_exists(conn, request.request_id):
            return []  # the same request again while it is being verified: one verification
        repository.insert_pending(
            conn,
            PendingRegistration(
                request_id=request.request_id,
                alias_key=request.alias.key,
                alias_type=request.alias.type,
                alias_value=request.alias.value,
                citizen_id=request.citizen_id,
                name=request.name,
                agent=request.agent,
                account=request.account,
                requested_ms=now_ms,
            ),
        )
        verification = VerificationRequest(
            verification_id=request.request_id,
            agent=request.agent,
            account=request.account,
            name=request.name,
            citizen_id=request.citizen_id,
        )
        return [
            Envelope(SWITCH_ADDRESS, request.agent, verification),
            Envelope(
                SWITCH_ADDRESS,
                SWITCH_ADDRESS,
                TimerFired(TIMER_PREFIX + request.request_id),
                self.verification_timeout_ms,
            ),
        ]

    def relay_verification(
        self, conn: Connection, requester: str, request: VerificationRequest, participants: dict[str, Participant],
        now_ms: int,
    ) -> list[Envelope]:  # fmt: skip
        """A participant checks an account before paying (Verification of Payee): the switch asks the
        account's participant and passes the answer back. The holder's identity never leaves it."""
        agent = participants.get(request.agent)
        refusal = StatusReason.RC04 if agent is None else (None if agent.active else StatusReason.RR04)
        if refusal is not None:
            report = VerificationReport(
                original_verification_id=request.verification_id, agent=request.agent,
                outcome=VerificationOutcome.NMTC, reason=refusal,
            )  # fmt: skip
            return [Envelope(SWITCH_ADDRESS, requester, report)]
        relay_id = RELAY_PREFIX + hashlib.sha256(f"{requester}:{request.verification_id}".encode()).hexdigest()[:30]
        if not repository.insert_relay(conn, relay_id, requester, request.verification_id, request.agent, now_ms):
            return []  # the same request again while it is on its way: one question, one answer
        forwarded = request.model_copy(update={"verification_id": relay_id})
        return [
            Envelope(SWITCH_ADDRESS, request.agent, forwarded),
            Envelope(SWITCH_ADDRESS, SWITCH_ADDRESS, TimerFired(TIMER_PREFIX + relay_id), self.verification_timeout_ms),
        ]

    def complete_registration(
        self, conn: Connection, sender: str, report: VerificationReport, now_ms: int
    ) -> list[Envelope]:
        if report.original_verification_id.startswith(RELAY_PREFIX):
            return self._answer_relay(conn, sender, report)
        pending = repository.load_pending(conn, report.original_verification_id)
        if pending is None or pending.agent != report.agent or pending.agent != sender:
            return []  # late, repeated, or not from the participant we asked: nothing to complete
        repository.delete_pending(conn, pending.request_id)
        alias = Alias(type=pending.alias_type, value=pending.alias_value)
        if report.outcome == VerificationOutcome.MTCH:
            existing = repository.load_aliases(conn, [pending.alias_key]).get(pending.alias_key)
            if existing is not None and existing.citizen_id != pending.citizen_id:
                # Someone else's registration of this alias completed while ours was being verified.
                return [_report(pending.request_id, alias, RegistrationOutcome.REFUSED, reason=StatusReason.DUPL)]
            record = AliasRecord(
                key=pending.alias_key,
                type=pending.alias_type,
                value=pending.alias_value,
                citizen_id=pending.citizen_id,
                agent=pending.agent,
                account=pending.account,
                holder_name_masked=mask_name(pending.name),
                registered_ms=now_ms,
            )
            action = AliasAction.REGISTERED if existing is None else AliasAction.CHANGED
            repository.upsert_alias(conn, record, action)
            return [_report(pending.request_id, alias, RegistrationOutcome.REGISTERED, VerificationOutcome.MTCH)]
        if report.outcome == VerificationOutcome.CMTC:
            return [
                _report(
                    pending.request_id,
                    alias,
                    RegistrationOutcome.CLOSE_MATCH,
                    VerificationOutcome.CMTC,
                    masked=report.holder_name_masked,
                )
            ]
        return [
            _report(
                pending.request_id,
                alias,
                RegistrationOutcome.REFUSED,
                VerificationOutcome.NMTC,
                reason=report.reason or StatusReason.BE01,
            )
        ]

    def _answer_relay(self, conn: Connection, sender: str, report: VerificationReport) -> list[Envelope]:
        relay = repository.load_relay(conn, report.original_verification_id)
        if relay is None or sender != relay[2]:
            return []  # answered already, or not by the participant that was asked
        requester, original_id, _agent = relay
        repository.delete_relay(conn, report.original_verification_id)
        answer = report.model_copy(update={"original_verification_id": original_id})
        return [Envelope(SWITCH_ADDRESS, requester, answer)]

    def fail_registration(self, conn: Connection, request_id: str, reason: StatusReason) -> list[Envelope]:
        if request_id.startswith(RELAY_PREFIX):
            relay = repository.load_relay(conn, request_id)
            if relay is None:
                return []
            repository.delete_relay(conn, request_id)
            requester, original_id, agent = relay
            report = VerificationReport(
                original_verification_id=original_id, agent=agent, outcome=VerificationOutcome.NMTC, reason=reason
            )
            return [Envelope(SWITCH_ADDRESS, requester, report)]
        pending = repository.load_pending(conn, request_id)
        if pending is None:
            return []
        repository.delete_pending(conn, request_id)
        alias = Alias(type=pending.alias_type, value=pending.alias_value)
        return [_report(request_id, alias, RegistrationOutcome.REFUSED, reason=reason)]

    def remove(self, conn: Connection, request: AliasRemoval, now_ms: int) -> list[Envelope]:
        found = repository.load_aliases(conn, [request.alias.key]).get(request.alias.key)
        if found is None:
            return [_report(request.request_id, request.alias, RegistrationOutcome.REFUSED, reason=StatusReason.BE23)]
        if found.citizen_id != request.citizen_id:
            return [_report(request.request_id, request.alias, RegistrationOutcome.REFUSED, reason=StatusReason.BE01)]
        repository.remove_alias(conn, found, now_ms)
        return [_report(request.request_id, request.alias, RegistrationOutcome.REMOVED)]

    def _refusal(
        self, conn: Connection, request: AliasRegistration, participants: dict[str, Participant], now_ms: int
    ) -> StatusReason | None:
        if check_citizen_id(request.citizen_id, local_time(now_ms).year) is not None:
            return StatusReason.FF01
        if request.alias.type == AliasType.CITIZEN_ID and request.alias.value != request.citizen_id:
            return StatusReason.BE01  # a citizen id alias is one's own id, nobody else's
        participant = participants.get(request.agent)
        if participant is None:
            return StatusReason.RC04
        if not participant.active:
            return StatusReason.RR04
        existing = repository.load_aliases(conn, [request.alias.key]).get(request.alias.key)
        if existing is not None and existing.citizen_id != request.citizen_id:
            return StatusReason.DUPL  # one alias, one person: a number in use stays its holder's
        return None


def _report(
    request_id: str,
    alias: Alias,
    outcome: RegistrationOutcome,
    verification: VerificationOutcome | None = None,
    reason: StatusReason | None = None,
    masked: str | None = None,
) -> Envelope:
    report = AliasRegistrationReport(
        original_request_id=request_id,
        alias=alias,
        outcome=outcome,
        verification=verification,
        holder_name_masked=masked,
        reason=reason,
    )
    return Envelope(SWITCH_ADDRESS, CITIZEN_APP_ADDRESS, report)
