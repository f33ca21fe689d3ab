"""The alias directory through the switch node: registration verified by the owning participant,
re-registration, removal and look-up. Runs on an SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from switch.errors import AliasNotFound
from switch.node import SwitchNode
from switch.participants.schemas import Participant
from switch.scheme.codes import (
    AliasType,
    ParticipantKind,
    ParticipantStatus,
    RegistrationOutcome,
    StatusReason,
    VerificationOutcome,
)
from switch.scheme.messages import (
    Alias,
    AliasRegistration,
    AliasRegistrationReport,
    AliasRemoval,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.transport import Envelope, TimerFired, Undeliverable

NOW = 1_796_083_200_000  # 1 December 2026
VCB, BIDV, VIETINBANK, VBSP, VIETTEL = "970436", "970418", "970415", "999888", "971005"

AN = "001090012345"  # Nguyễn Văn An: Hà Nội, male, born 1990
HOA = "079185001234"  # Phạm Thị Hoa: Hồ Chí Minh, female, born 1985
MINH = "048203004567"  # Lê Quang Minh: Đà Nẵng, male, born 2003

PHONE = Alias(type=AliasType.MSISDN, value="0912345678")
AN_ID = Alias(type=AliasType.CITIZEN_ID, value=AN)


@pytest.fixture
def node(engine: Engine) -> SwitchNode:
    switch = SwitchNode(engine)
    switch.setup()
    for bin_code, name, kind in [
        (VCB, "Vietcombank", ParticipantKind.BANK),
        (BIDV, "BIDV", ParticipantKind.BANK),
        (VIETINBANK, "VietinBank", ParticipantKind.BANK),
        (VBSP, "Ngân hàng Chính sách xã hội", ParticipantKind.BANK),
        (VIETTEL, "Viettel Money", ParticipantKind.WALLET),
    ]:
        switch.register_participant(Participant(bin_code, name, kind), NOW)
    return switch


def registration(
    request_id: str = "REG-1",
    alias: Alias = PHONE,
    name: str = "Nguyễn Văn An",
    citizen_id: str = AN,
    agent: str = VIETTEL,
    account: str = "0912345678",
) -> AliasRegistration:
    return AliasRegistration(
        request_id=request_id, alias=alias, name=name, citizen_id=citizen_id, agent=agent, account=account
    )


def ask(node: SwitchNode, request: AliasRegistration, at: int = NOW) -> list[Envelope]:
    return node.handle([Envelope("vneid", "switch", request)], at)


def verify(
    node: SwitchNode,
    request_id: str,
    outcome: VerificationOutcome,
    agent: str = VIETTEL,
    sender: str | None = None,
    masked: str | None = None,
    reason: StatusReason | None = None,
    at: int = NOW + 300,
) -> list[Envelope]:
    report = VerificationReport(
        original_verification_id=request_id, agent=agent, outcome=outcome, holder_name_masked=masked, reason=reason
    )
    return node.handle([Envelope(sender or agent, "switch", report)], at)


def register(node: SwitchNode, request: AliasRegistration, at: int = NOW) -> None:
    ask(node, request, at)
    [envelope] = verify(node, request.request_id, VerificationOutcome.MTCH, agent=request.agent, at=at + 300)
    assert isinstance(envelope.message, AliasRegistrationReport)
    assert envelope.message.outcome == RegistrationOutcome.REGISTERED


def to_citizen_app(out: list[Envelope]) -> AliasRegistrationReport:
    assert len(out) == 1, out
    [envelope] = out
    assert (envelope.sender, envelope.receiver) == ("switch", "vneid")
    assert isinstance(envelope.message, AliasRegistrationReport)
    return envelope.message


def not_registered(node: SwitchNode, alias: Alias) -> bool:
    try:
        node.lookup_alias(alias)
    except AliasNotFound:
        return True
    return False


# --- the registration conversation ---------------------------------------------------------------


def test_a_registration_asks_the_owning_participant_to_verify_and_sets_a_timer(node: SwitchNode) -> None:
    out = ask(node, registration())

    assert len(out) == 2
    question, timer = out
    assert (question.sender, question.receiver) == ("switch", VIETTEL)
    assert question.message == VerificationRequest(
        verification_id="REG-1", agent=VIETTEL, account="0912345678", name="Nguyễn Văn An", citizen_id=AN
    )
    assert (timer.sender, timer.receiver) == ("switch", "switch")
    assert timer.message == TimerFired("registration:REG-1")
    assert timer.delay_ms == 10_000
    assert not_registered(node, PHONE)


def test_a_match_registers_the_alias_and_reports_registered_to_the_citizen_app(node: SwitchNode) -> None:
    ask(node, registration(alias=Alias(type=AliasType.MSISDN, value="+84 912 345 678")))
    report = to_citizen_app(verify(node, "REG-1", VerificationOutcome.MTCH, at=NOW + 300))

    assert report.original_request_id == "REG-1"
    assert report.alias == PHONE
    assert report.outcome == RegistrationOutcome.REGISTERED
    assert report.verification == VerificationOutcome.MTCH
    assert report.reason is None
    record = node.lookup_alias(PHONE)
    assert (record.key, record.citizen_id, record.agent, record.account) == (
        "msisdn:0912345678",
        AN,
        VIETTEL,
        "0912345678",
    )
    assert record.holder_name_masked == "N***** V** AN"
    assert record.registered_ms == NOW + 300
    [entry] = node.alias_history(PHONE)
    assert (entry["action"], entry["citizen_id"], entry["agent"], entry["at_ms"]) == (
        "registered",
        AN,
        VIETTEL,
        NOW + 300,
    )


def test_a_citizen_may_register_their_own_citizen_id_as_an_alias(node: SwitchNode) -> None:
    register(node, registration(alias=AN_ID, agent=VBSP, account="7501234567890"))
    record = node.lookup_alias(AN_ID)
    assert (record.type, record.agent, record.account) == (AliasType.CITIZEN_ID, VBSP, "7501234567890")


def test_a_close_match_reports_the_masked_name_and_registers_nothing(node: SwitchNode) -> None:
    ask(node, registration(name="Nguyễn An"))
    report = to_citizen_app(verify(node, "REG-1", VerificationOutcome.CMTC, masked="N***** V** AN"))

    assert report.outcome == RegistrationOutcome.CLOSE_MATCH
    assert report.verification == VerificationOutcome.CMTC
    assert report.holder_name_masked == "N***** V** AN"
    assert not_registered(node, PHONE)
    assert node.alias_history(PHONE) == []
    # the registration is over: the timer finds nothing left to refuse
    assert node.handle([Envelope("switch", "switch", TimerFired("registration:REG-1"))], NOW + 10_000) == []


def test_no_match_is_refused_with_the_participants_reason(node: SwitchNode) -> None:
    ask(node, registration(agent=BIDV, account="12010000123456"))
    report = to_citizen_app(verify(node, "REG-1", VerificationOutcome.NMTC, agent=BIDV, reason=StatusReason.AC04))
    assert report.outcome == RegistrationOutcome.REFUSED
    assert report.verification == VerificationOutcome.NMTC
    assert report.reason == StatusReason.AC04
    assert not_registered(node, PHONE)


def test_no_match_without_a_reason_is_refused_be01(node: SwitchNode) -> None:
    ask(node, registration())
    report = to_citizen_app(verify(node, "REG-1", VerificationOutcome.NMTC))
    assert (report.outcome, report.reason) == (RegistrationOutcome.REFUSED, StatusReason.BE01)


def test_a_participant_that_does_not_answer_in_time_gets_the_registration_refused_ab05(node: SwitchNode) -> None:
    ask(node, registration())
    report = to_citizen_app(node.handle([Envelope("switch", "switch", TimerFired("registration:REG-1"))], NOW + 10_000))
    assert report.outcome == RegistrationOutcome.REFUSED
    assert report.reason == StatusReason.AB05
    assert report.alias == PHONE

    assert verify(node, "REG-1", VerificationOutcome.MTCH, at=NOW + 12_000) == []  # too late
    assert not_registered(node, PHONE)


def test_an_unreachable_participant_gets_the_registration_refused_ab08(node: SwitchNode) -> None:
    [question, _timer] = ask(node, registration())
    report = to_citizen_app(node.handle([Envelope("switch", "switch", Undeliverable(VIETTEL, question.message))], NOW))
    assert (report.outcome, report.reason) == (RegistrationOutcome.REFUSED, StatusReason.AB08)
    assert node.handle([Envelope("switch", "switch", TimerFired("registration:REG-1"))], NOW + 10_000) == []
    assert not_registered(node, PHONE)


def test_the_same_request_sent_again_while_it_is_verified_asks_the_participant_once(node: SwitchNode) -> None:
    ask(node, registration())
    assert ask(node, registration(), at=NOW + 100) == []
    to_citizen_app(verify(node, "REG-1", VerificationOutcome.MTCH))
    assert len(node.alias_history(PHONE)) == 1


# --- refusals before verification ----------------------------------------------------------------


@pytest.mark.parametrize(
    "citizen_id",
    ["003090012345", "001227012345"],
    ids=["province code 003 does not exist", "born in 2027, after today"],
)
def test_a_citizen_id_that_breaks_the_cccd_rules_is_refused_ff01_without_asking_anyone(
    node: SwitchNode, citizen_id: str
) -> None:
    report = to_citizen_app(ask(node, registration(citizen_id=citizen_id)))
    assert report.outcome == RegistrationOutcome.REFUSED
    assert report.reason == StatusReason.FF01
    assert report.original_request_id == "REG-1"
    assert not_registered(node, PHONE)


def test_a_citizen_id_alias_for_someone_elses_id_is_refused_be01(node: SwitchNode) -> None:
    someone_else = Alias(type=AliasType.CITIZEN_ID, value=HOA)
    report = to_citizen_app(ask(node, registration(alias=someone_else, agent=VCB, account="0011001234567")))
    assert (report.outcome, report.reason) == (RegistrationOutcome.REFUSED, StatusReason.BE01)
    assert not_registered(node, someone_else)


def test_an_unknown_participant_is_refused_rc04(node: SwitchNode) -> None:
    report = to_citizen_app(ask(node, registration(agent="970499")))
    assert (report.outcome, report.reason) == (RegistrationOutcome.REFUSED, StatusReason.RC04)


def test_a_suspended_participant_is_refused_rr04(node: SwitchNode) -> None:
    node.set_status(VIETTEL, ParticipantStatus.SUSPENDED)
    report = to_citizen_app(ask(node, registration()))
    assert (report.outcome, report.reason) == (RegistrationOutcome.REFUSED, StatusReason.RR04)


def test_a_mobile_number_held_by_another_citizen_is_refused_dupl(node: SwitchNode) -> None:
    register(node, registration())
    report = to_citizen_app(
        ask(node, registration("REG-2", name="Phạm Thị Hoa", citizen_id=HOA, agent=VCB, account="0011009876543"))
    )
    assert (report.outcome, report.reason) == (RegistrationOutcome.REFUSED, StatusReason.DUPL)
    assert node.lookup_alias(PHONE).citizen_id == AN


def test_two_citizens_asking_for_one_mobile_number_at_once_cannot_both_hold_it(node: SwitchNode) -> None:
    ask(node, registration("REG-AN"))
    ask(node, registration("REG-HOA", name="Phạm Thị Hoa", citizen_id=HOA, agent=VCB, account="0011009876543"))
    first = to_citizen_app(verify(node, "REG-AN", VerificationOutcome.MTCH, at=NOW + 300))
    assert first.outcome == RegistrationOutcome.REGISTERED

    second = to_citizen_app(verify(node, "REG-HOA", VerificationOutcome.MTCH, agent=VCB, at=NOW + 400))
    assert second.outcome == RegistrationOutcome.REFUSED
    assert second.reason == StatusReason.DUPL
    assert node.lookup_alias(PHONE).citizen_id == AN  # one number, one person


# --- who may answer a verification ---------------------------------------------------------------


def test_a_verification_report_sent_by_another_participant_is_ignored(node: SwitchNode) -> None:
    ask(node, registration(alias=AN_ID, agent=VCB, account="0011001234567"))
    # BIDV answers in Vietcombank's name
    assert verify(node, "REG-1", VerificationOutcome.MTCH, agent=VCB, sender=BIDV) == []
    assert not_registered(node, AN_ID)

    report = to_citizen_app(verify(node, "REG-1", VerificationOutcome.NMTC, agent=VCB, reason=StatusReason.AC01))
    assert report.reason == StatusReason.AC01


def test_an_answer_naming_another_agent_does_not_end_the_registration(node: SwitchNode) -> None:
    ask(node, registration(alias=AN_ID, agent=VCB, account="0011001234567"))
    assert verify(node, "REG-1", VerificationOutcome.NMTC, agent=BIDV) == []

    report = to_citizen_app(verify(node, "REG-1", VerificationOutcome.MTCH, agent=VCB, at=NOW + 500))
    assert report.outcome == RegistrationOutcome.REGISTERED
    assert node.lookup_alias(AN_ID).agent == VCB


# --- changing and removing -----------------------------------------------------------------------


def test_registering_again_moves_the_alias_to_the_new_account_and_keeps_the_history(node: SwitchNode) -> None:
    register(node, registration(), at=NOW)
    register(node, registration("REG-2", agent=BIDV, account="12010000123456"), at=NOW + 60_000)

    record = node.lookup_alias(PHONE)
    assert (record.citizen_id, record.agent, record.account) == (AN, BIDV, "12010000123456")
    history = node.alias_history(PHONE)
    assert [(h["action"], h["agent"], h["account"], h["at_ms"]) for h in history] == [
        ("registered", VIETTEL, "0912345678", NOW + 300),
        ("changed", BIDV, "12010000123456", NOW + 60_300),
    ]


def remove(node: SwitchNode, alias: Alias, citizen_id: str, request_id: str = "DEL-1") -> AliasRegistrationReport:
    removal = AliasRemoval(request_id=request_id, alias=alias, citizen_id=citizen_id)
    return to_citizen_app(node.handle([Envelope("vneid", "switch", removal)], NOW + 90_000))


def test_the_owner_can_remove_their_alias_and_the_history_records_it(node: SwitchNode) -> None:
    register(node, registration())
    report = remove(node, PHONE, AN)
    assert report.outcome == RegistrationOutcome.REMOVED
    assert report.original_request_id == "DEL-1"
    assert not_registered(node, PHONE)
    assert [h["action"] for h in node.alias_history(PHONE)] == ["registered", "removed"]
    assert node.alias_history(PHONE)[-1]["at_ms"] == NOW + 90_000

    # the number is free again, for anyone
    register(node, registration("REG-2", name="Lê Quang Minh", citizen_id=MINH, agent=VCB, account="0011005555555"))
    assert node.lookup_alias(PHONE).citizen_id == MINH


def test_someone_else_cannot_remove_an_alias(node: SwitchNode) -> None:
    register(node, registration())
    report = remove(node, PHONE, HOA)
    assert (report.outcome, report.reason) == (RegistrationOutcome.REFUSED, StatusReason.BE01)
    assert node.lookup_alias(PHONE).citizen_id == AN
    assert len(node.alias_history(PHONE)) == 1


def test_removing_an_alias_nobody_registered_is_refused_be23(node: SwitchNode) -> None:
    report = remove(node, PHONE, AN)
    assert (report.outcome, report.reason) == (RegistrationOutcome.REFUSED, StatusReason.BE23)
    assert node.alias_history(PHONE) == []


def test_looking_up_an_unknown_alias_raises_alias_not_found(node: SwitchNode) -> None:
    with pytest.raises(AliasNotFound) as raised:
        node.lookup_alias(PHONE)
    assert raised.value.field == "alias"
    assert raised.value.reason == StatusReason.BE23
    assert "0912345678" in raised.value.rule
