"""`SchemeMessage.unchecked`: the hot path's constructor gives the same message validation would."""

from __future__ import annotations

import pytest

from switch.scheme.codes import AliasType, Purpose, StatusReason, TransactionStatus
from switch.scheme.messages import Alias, CreditTransfer, Party, StatusReport


def test_a_message_built_unchecked_equals_the_validated_one_and_serializes_the_same() -> None:
    values = {
        "message_id": "PR0000001",
        "end_to_end_id": "202612MP00000001",
        "transaction_id": "PR0000001-000001-1",
        "amount_vnd": 2_789_000,
        "currency": "VND",
        "debtor": {"name": "Kho bạc Nhà nước", "citizen_id": None},
        "debtor_account": "1200100000001",
        "debtor_agent": "999999",
        "creditor": {"name": "Nguyễn Thị Hoa", "citizen_id": "001185012345"},
        "creditor_account": None,
        "creditor_alias": {"type": "citizen_id", "value": "001185012345"},
        "creditor_agent": None,
        "purpose": "SSBE",
        "remittance_information": "merit_person 2026-12",
    }
    validated = CreditTransfer.model_validate(values)
    unchecked = CreditTransfer.unchecked(
        **{
            **values,
            "debtor": Party.unchecked(name="Kho bạc Nhà nước", citizen_id=None),
            "creditor": Party.unchecked(name="Nguyễn Thị Hoa", citizen_id="001185012345"),
            "creditor_alias": Alias.unchecked(type=AliasType.CITIZEN_ID, value="001185012345"),
            "purpose": Purpose.SSBE,
        }
    )
    assert unchecked == validated
    assert unchecked.model_dump_json() == validated.model_dump_json()
    assert unchecked.creditor_alias is not None and unchecked.creditor_alias.key == "citizen_id:001185012345"


def test_an_unchecked_message_missing_a_field_is_a_programming_error_naming_it() -> None:
    with pytest.raises(AssertionError, match="missing \\['additional_information'\\]"):
        StatusReport.unchecked(
            original_message_id="M", original_end_to_end_id="E", original_transaction_id="T", debtor_agent="970436",
            transaction_status=TransactionStatus.RJCT, status_reason=StatusReason.AC04, creditor_agent="970418",
            amount_vnd=None, settled_at_ms=None,
        )  # fmt: skip


def test_an_unchecked_message_is_still_frozen() -> None:
    party = Party.unchecked(name="Trần Văn Đức", citizen_id=None)
    with pytest.raises(Exception, match="frozen"):
        party.name = "Trần Văn Tài"
