"""Scheme messages (pydantic models) and what a transport carries between nodes."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from switch.scheme.codes import (
    AliasType,
    Purpose,
    RegistrationOutcome,
    StatusReason,
    TransactionStatus,
    VerificationOutcome,
)
from switch.scheme.messages import (
    AMOUNT_VND_MAX,
    Alias,
    AliasRegistration,
    AliasRegistrationReport,
    AliasRemoval,
    CreditTransfer,
    Party,
    StatusReport,
    StatusRequest,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.transport import (
    CITIZEN_APP_ADDRESS,
    SWITCH_ADDRESS,
    Envelope,
    RawMessage,
    TimerFired,
    Undeliverable,
)
from switch.scheme.validation import MessageInvalid, parse_message

VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VBSP, VIETTEL_MONEY = (
    "970436",
    "970418",
    "970415",
    "970405",
    "999888",
    "971005",
)


def a_transfer(**overrides: Any) -> dict[str, Any]:
    """A monthly social-assistance payment from the State Treasury's account at Vietcombank to a phone number."""
    raw: dict[str, Any] = {
        "message_id": "MOLISA-2025-07-000001",
        "end_to_end_id": "BTXH-001095012345-202507",
        "transaction_id": "VCB20250701000001",
        "amount_vnd": 750_000,
        "debtor": {"name": "Kho bạc Nhà nước Hà Nội"},
        "debtor_account": "0011004123456",
        "debtor_agent": VIETCOMBANK,
        "creditor": {"name": "Nguyễn Văn Đức", "citizen_id": "001095012345"},
        "creditor_alias": {"type": "msisdn", "value": "0961234567"},
        "purpose": "SSBE",
        "remittance_information": "Trợ cấp xã hội tháng 7/2025",
    }
    raw.update(overrides)
    return raw


def a_status_report(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "original_message_id": "MOLISA-2025-07-000001",
        "original_end_to_end_id": "BTXH-001095012345-202507",
        "original_transaction_id": "VCB20250701000001",
        "debtor_agent": VIETCOMBANK,
        "transaction_status": "RJCT",
        "status_reason": "AC04",
        "creditor_agent": BIDV,
        "amount_vnd": 750_000,
        "additional_information": "account 2150123456 closed on 2025-06-30",
    }
    raw.update(overrides)
    return raw


def a_verification_request(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "verification_id": "VER-20250701-0001",
        "agent": AGRIBANK,
        "account": "1500205123456",
        "name": "Đặng Thị Ánh",
        "citizen_id": "048188123456",
    }
    raw.update(overrides)
    return raw


def an_alias_registration(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "request_id": "VNEID-REG-000042",
        "alias": {"type": "citizen_id", "value": "079301004321"},
        "name": "Trần Thị Thu Hương",
        "citizen_id": "079301004321",
        "agent": VIETTEL_MONEY,
        "account": "0961234567",
    }
    raw.update(overrides)
    return raw


def fields_of(error: MessageInvalid) -> list[str]:
    return [problem.field for problem in error.problems]


# --- CreditTransfer ------------------------------------------------------------------------------


def test_a_well_formed_credit_transfer_to_a_phone_number_parses_with_its_values() -> None:
    transfer = parse_message(CreditTransfer, a_transfer())
    assert transfer.amount_vnd == 750_000
    assert transfer.currency == "VND"
    assert transfer.debtor_agent == VIETCOMBANK
    assert transfer.debtor.name == "Kho bạc Nhà nước Hà Nội"
    assert transfer.creditor.name == "Nguyễn Văn Đức"
    assert transfer.creditor_alias == Alias(type=AliasType.MSISDN, value="0961234567")
    assert transfer.purpose is Purpose.SSBE
    assert transfer.remittance_information == "Trợ cấp xã hội tháng 7/2025"


def test_a_credit_transfer_to_a_citizen_id_alias_parses() -> None:
    transfer = parse_message(CreditTransfer, a_transfer(creditor_alias={"type": "citizen_id", "value": "079301004321"}))
    assert transfer.creditor_alias is not None
    assert transfer.creditor_alias.type is AliasType.CITIZEN_ID
    assert transfer.creditor_alias.key == "citizen_id:079301004321"


def test_a_credit_transfer_to_an_account_at_a_named_bank_parses_without_an_alias() -> None:
    raw = a_transfer(creditor_account="2150123456", creditor_agent=BIDV)
    del raw["creditor_alias"]
    transfer = parse_message(CreditTransfer, raw)
    assert transfer.creditor_alias is None
    assert (transfer.creditor_account, transfer.creditor_agent) == ("2150123456", BIDV)


@pytest.mark.parametrize("bin_", [VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VBSP, VIETTEL_MONEY])
def test_every_real_participant_bin_is_a_valid_debtor_agent(bin_: str) -> None:
    assert parse_message(CreditTransfer, a_transfer(debtor_agent=bin_)).debtor_agent == bin_


def test_the_optional_fields_take_their_defaults() -> None:
    raw = a_transfer()
    for optional in ("creditor", "purpose", "remittance_information"):
        del raw[optional]
    transfer = parse_message(CreditTransfer, raw)
    assert transfer.currency == "VND"
    assert transfer.purpose is Purpose.OTHR
    assert transfer.creditor == Party()
    assert transfer.remittance_information is None
    assert transfer.creditor_account is None
    assert transfer.creditor_agent is None


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("+84 961 234 567", "0961234567"),
        ("84961234567", "0961234567"),
        ("096.123.4567", "0961234567"),
        ("091 234 5678", "0912345678"),
    ],
)
def test_a_phone_number_alias_is_stored_in_its_zero_prefixed_form(written: str, number: str) -> None:
    transfer = parse_message(CreditTransfer, a_transfer(creditor_alias={"type": "msisdn", "value": written}))
    assert transfer.creditor_alias is not None
    assert transfer.creditor_alias.value == number
    assert transfer.creditor_alias.key == f"msisdn:{number}"


def test_a_parsed_transfer_dumps_to_a_dict_that_parses_back_to_the_same_transfer() -> None:
    transfer = parse_message(CreditTransfer, a_transfer(creditor_alias={"type": "msisdn", "value": "+84961234567"}))
    assert parse_message(CreditTransfer, transfer.model_dump(mode="json")) == transfer


def test_the_largest_allowed_amount_is_accepted_and_one_more_is_not() -> None:
    assert parse_message(CreditTransfer, a_transfer(amount_vnd=AMOUNT_VND_MAX)).amount_vnd == AMOUNT_VND_MAX
    with pytest.raises(MessageInvalid) as caught:
        parse_message(CreditTransfer, a_transfer(amount_vnd=AMOUNT_VND_MAX + 1))
    assert fields_of(caught.value) == ["amount_vnd"]


def test_ids_of_exactly_thirty_five_characters_are_accepted() -> None:
    transfer = parse_message(CreditTransfer, a_transfer(transaction_id="T" * 35, message_id="M" * 35))
    assert len(transfer.transaction_id) == 35


def test_a_name_of_exactly_one_hundred_forty_characters_is_accepted() -> None:
    name = ("Nguyễn Thị " * 13 + "Hương Giang")[:140]
    assert len(name) == 140
    assert parse_message(CreditTransfer, a_transfer(debtor={"name": name})).debtor.name == name


# --- the other messages --------------------------------------------------------------------------


def test_a_well_formed_status_report_parses() -> None:
    report = parse_message(StatusReport, a_status_report())
    assert report.transaction_status is TransactionStatus.RJCT
    assert report.status_reason is StatusReason.AC04
    assert report.creditor_agent == BIDV


def test_a_settled_status_report_needs_no_reason() -> None:
    raw = a_status_report(transaction_status="ACSC", settled_at_ms=1_751_328_000_000)
    del raw["status_reason"]
    report = parse_message(StatusReport, raw)
    assert report.transaction_status.is_final
    assert report.status_reason is None


@pytest.mark.parametrize(("field", "bad_bin"), [("debtor_agent", "97O436"), ("creditor_agent", "97041")])
def test_a_status_report_with_a_bad_bin_is_refused_naming_the_field(field: str, bad_bin: str) -> None:
    with pytest.raises(MessageInvalid) as caught:
        parse_message(StatusReport, a_status_report(**{field: bad_bin}))
    assert fields_of(caught.value) == [field]
    assert caught.value.reason is StatusReason.FF01


def test_a_status_report_with_an_unknown_reason_code_is_refused() -> None:
    with pytest.raises(MessageInvalid) as caught:
        parse_message(StatusReport, a_status_report(status_reason="XX99"))
    assert fields_of(caught.value) == ["status_reason"]


def test_a_status_report_with_an_unknown_status_is_refused() -> None:
    with pytest.raises(MessageInvalid) as caught:
        parse_message(StatusReport, a_status_report(transaction_status="DONE"))
    assert fields_of(caught.value) == ["transaction_status"]


def test_a_status_request_parses_and_refuses_a_bad_bin() -> None:
    raw = {"message_id": "REQ-1", "original_transaction_id": "VCB20250701000001", "debtor_agent": VIETINBANK}
    assert parse_message(StatusRequest, raw).debtor_agent == VIETINBANK
    with pytest.raises(MessageInvalid) as caught:
        parse_message(StatusRequest, {**raw, "debtor_agent": "970-15"})
    assert fields_of(caught.value) == ["debtor_agent"]


def test_a_well_formed_verification_request_parses() -> None:
    request = parse_message(VerificationRequest, a_verification_request())
    assert request.agent == AGRIBANK
    assert request.name == "Đặng Thị Ánh"
    assert request.citizen_id == "048188123456"


@pytest.mark.parametrize("bad_bin", ["9704", "97040A", "", "9704050"])
def test_a_verification_request_with_a_bad_bin_is_refused(bad_bin: str) -> None:
    with pytest.raises(MessageInvalid) as caught:
        parse_message(VerificationRequest, a_verification_request(agent=bad_bin))
    assert fields_of(caught.value) == ["agent"]
    assert caught.value.reason is StatusReason.FF01


def test_a_verification_request_with_an_eleven_digit_citizen_id_is_refused() -> None:
    with pytest.raises(MessageInvalid) as caught:
        parse_message(VerificationRequest, a_verification_request(citizen_id="04818812345"))
    assert fields_of(caught.value) == ["citizen_id"]


def test_a_verification_report_carries_the_outcome_and_masked_name() -> None:
    report = VerificationReport(
        original_verification_id="VER-20250701-0001",
        agent=AGRIBANK,
        outcome=VerificationOutcome.CMTC,
        holder_name_masked="D*** T** ANH",
    )
    assert report.outcome is VerificationOutcome.CMTC
    assert report.reason is None


def test_a_well_formed_alias_registration_parses() -> None:
    registration = parse_message(AliasRegistration, an_alias_registration())
    assert registration.alias.key == "citizen_id:079301004321"
    assert registration.agent == VIETTEL_MONEY
    assert registration.name == "Trần Thị Thu Hương"


@pytest.mark.parametrize("bad_bin", ["97100", "971OO5", "9710050"])
def test_an_alias_registration_with_a_bad_bin_is_refused(bad_bin: str) -> None:
    with pytest.raises(MessageInvalid) as caught:
        parse_message(AliasRegistration, an_alias_registration(agent=bad_bin))
    assert fields_of(caught.value) == ["agent"]


def test_an_alias_registration_without_a_citizen_id_is_refused() -> None:
    raw = an_alias_registration()
    del raw["citizen_id"]
    with pytest.raises(MessageInvalid) as caught:
        parse_message(AliasRegistration, raw)
    assert fields_of(caught.value) == ["citizen_id"]


def test_an_alias_removal_and_its_report_parse() -> None:
    removal = parse_message(
        AliasRemoval,
        {
            "request_id": "VNEID-DEL-000007",
            "alias": {"type": "msisdn", "value": "+84 98 765 4321"},
            "citizen_id": "001095012345",
        },
    )
    assert removal.alias.value == "0987654321"
    report = AliasRegistrationReport(
        original_request_id="VNEID-DEL-000007", alias=removal.alias, outcome=RegistrationOutcome.REMOVED
    )
    assert report.outcome is RegistrationOutcome.REMOVED


# --- Alias ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0123456789", "091234567", "0912345678901"])
def test_a_phone_alias_that_is_not_a_vietnamese_mobile_number_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        Alias(type=AliasType.MSISDN, value=value)


@pytest.mark.parametrize("value", ["07930100432", "07930100432X", "0793 0100 4321"])
def test_a_citizen_id_alias_that_is_not_twelve_digits_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        Alias(type=AliasType.CITIZEN_ID, value=value)


def test_a_citizen_id_alias_written_in_full_width_digits_is_refused() -> None:
    # Party.citizen_id accepts ASCII digits only; the alias must not let other Unicode digits through.
    with pytest.raises(ValidationError):
        Alias(type=AliasType.CITIZEN_ID, value="０７９３０１００４３２１")


# --- frozen --------------------------------------------------------------------------------------


def test_a_parsed_credit_transfer_cannot_be_changed() -> None:
    transfer = parse_message(CreditTransfer, a_transfer())
    with pytest.raises(ValidationError):
        transfer.amount_vnd = 1
    with pytest.raises(ValidationError):
        transfer.debtor.name = "Người khác"
    assert transfer.creditor_alias is not None
    with pytest.raises(ValidationError):
        transfer.creditor_alias.value = "0987654321"
    assert transfer.amount_vnd == 750_000


@pytest.mark.parametrize(
    ("model", "raw", "field"),
    [
        (StatusReport, a_status_report(), "transaction_status"),
        (VerificationRequest, a_verification_request(), "name"),
        (AliasRegistration, an_alias_registration(), "agent"),
    ],
)
def test_every_parsed_message_is_frozen(model: type[BaseModel], raw: dict[str, Any], field: str) -> None:
    message = parse_message(model, raw)
    with pytest.raises(ValidationError):
        setattr(message, field, "ACSC")


def test_two_equal_transfers_hash_alike_so_they_can_key_an_idempotency_table() -> None:
    first = parse_message(CreditTransfer, a_transfer())
    second = parse_message(CreditTransfer, a_transfer())
    assert first == second
    assert hash(first) == hash(second)


# --- transport -----------------------------------------------------------------------------------


def test_an_envelope_leaves_without_delay_by_default() -> None:
    transfer = parse_message(CreditTransfer, a_transfer())
    envelope = Envelope(sender=VIETCOMBANK, receiver=SWITCH_ADDRESS, message=transfer)
    assert envelope.delay_ms == 0
    assert envelope.message is transfer
    assert (envelope.sender, envelope.receiver) == ("970436", "switch")


def test_an_envelope_is_immutable() -> None:
    envelope = Envelope(sender=CITIZEN_APP_ADDRESS, receiver=SWITCH_ADDRESS, message=TimerFired(key="t"))
    with pytest.raises(AttributeError):
        envelope.delay_ms = 5  # type: ignore[misc]


def test_a_raw_message_holds_its_payload_unvalidated() -> None:
    payload = a_transfer(amount_vnd=1000.5)
    raw = RawMessage(kind="pacs.008", payload=payload)
    assert raw.kind == "pacs.008"
    assert raw.payload is payload
    with pytest.raises(MessageInvalid):
        parse_message(CreditTransfer, raw.payload)


def test_a_timer_and_an_undeliverable_notice_carry_what_they_were_given() -> None:
    report = parse_message(StatusReport, a_status_report())
    notice = Undeliverable(receiver=BIDV, message=report)
    assert notice.receiver == BIDV
    assert notice.message is report
    assert TimerFired(key="timeout:VCB20250701000001") == TimerFired(key="timeout:VCB20250701000001")


def test_the_well_known_addresses_are_stable() -> None:
    assert SWITCH_ADDRESS == "switch"
    assert CITIZEN_APP_ADDRESS == "vneid"
