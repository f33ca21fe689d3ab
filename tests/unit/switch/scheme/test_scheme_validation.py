"""parse_message: bad input gets an error naming the field, the rule and the ISO reason code."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from switch.scheme.codes import StatusReason
from switch.scheme.messages import AMOUNT_VND_MAX, CreditTransfer
from switch.scheme.validation import FieldProblem, MessageInvalid, parse_message

CH20, FF01 = StatusReason.CH20, StatusReason.FF01


def a_transfer(**overrides: Any) -> dict[str, Any]:
    """A person-to-person payment from a Vietcombank customer to a Viettel Money wallet, by phone number."""
    raw: dict[str, Any] = {
        "message_id": "VCB-MSG-20250701-000017",
        "end_to_end_id": "E2E-20250701-000017",
        "transaction_id": "VCB20250701000017",
        "amount_vnd": 2_789_000,
        "debtor": {"name": "Phạm Quốc Việt", "citizen_id": "001095012345"},
        "debtor_account": "0011004123456",
        "debtor_agent": "970436",
        "creditor": {"name": "Lê Hoàng Yến"},
        "creditor_alias": {"type": "msisdn", "value": "0981234567"},
        "purpose": "CASH",
    }
    raw.update(overrides)
    return raw


def refusal(raw: Any) -> MessageInvalid:
    with pytest.raises(MessageInvalid) as caught:
        parse_message(CreditTransfer, raw)
    return caught.value


def the_only_problem(error: MessageInvalid) -> FieldProblem:
    assert len(error.problems) == 1, error.problems
    return error.problems[0]


def test_a_valid_transfer_parses_into_a_credit_transfer() -> None:
    transfer = parse_message(CreditTransfer, a_transfer())
    assert isinstance(transfer, CreditTransfer)
    assert transfer.amount_vnd == 2_789_000


# --- amounts -------------------------------------------------------------------------------------


def test_a_fractional_amount_is_refused_as_ch20_naming_amount_vnd() -> None:
    error = refusal(a_transfer(amount_vnd=1000.5))
    assert error.reason is CH20
    problem = the_only_problem(error)
    assert problem.field == "amount_vnd"
    assert problem.reason is CH20
    assert "decimals" in problem.rule


def test_a_fractional_amount_written_as_text_is_refused_as_ch20() -> None:
    error = refusal(a_transfer(amount_vnd="1000.5"))
    assert error.reason is CH20
    assert the_only_problem(error).field == "amount_vnd"


@pytest.mark.parametrize(
    "amount",
    [0, -5, "1000", True, False, 1e16, 1000.0, None, [1000], AMOUNT_VND_MAX + 1],
    ids=["zero", "negative", "text", "true", "false", "1e16", "whole-float", "null", "list", "too-large"],
)
def test_an_amount_that_is_not_a_positive_whole_number_is_refused_as_ff01(amount: Any) -> None:
    error = refusal(a_transfer(amount_vnd=amount))
    assert error.reason is FF01
    problem = the_only_problem(error)
    assert problem.field == "amount_vnd"
    assert problem.reason is FF01
    assert problem.rule


def test_a_boolean_amount_is_refused_with_a_rule_that_says_so() -> None:
    assert "boolean" in the_only_problem(refusal(a_transfer(amount_vnd=True))).rule


def test_a_zero_amount_is_refused_with_a_rule_that_says_it_must_be_positive() -> None:
    assert "greater than 0" in the_only_problem(refusal(a_transfer(amount_vnd=0))).rule


@pytest.mark.parametrize(
    "amount",
    ["1.000.000", "abc.def", float("inf"), float("nan")],
    ids=["vietnamese-thousands-grouping", "not-a-number", "infinity", "nan"],
)
def test_an_amount_that_is_not_a_number_with_decimals_is_refused_as_ff01_not_ch20(amount: Any) -> None:
    # CH20 means "decimals not allowed for the currency": it fits 1000.5, not text or infinity.
    error = refusal(a_transfer(amount_vnd=amount))
    assert error.reason is FF01
    assert the_only_problem(error).field == "amount_vnd"


fractional_floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer())


@given(fractional_floats)
@example(0.5)
@example(-0.5)
@example(999_999.99)
@example(5e-324)
def test_any_float_with_a_fractional_part_is_refused_as_ch20_and_nothing_else(amount: float) -> None:
    error = refusal(a_transfer(amount_vnd=amount))
    assert error.reason is CH20
    assert [(p.field, p.reason) for p in error.problems] == [("amount_vnd", CH20)]


@given(st.integers(min_value=1, max_value=AMOUNT_VND_MAX))
def test_any_whole_amount_from_one_dong_to_the_maximum_is_accepted(amount: int) -> None:
    assert parse_message(CreditTransfer, a_transfer(amount_vnd=amount)).amount_vnd == amount


@given(st.integers(max_value=0))
def test_any_amount_of_zero_or_less_is_refused_as_ff01(amount: int) -> None:
    error = refusal(a_transfer(amount_vnd=amount))
    assert [(p.field, p.reason) for p in error.problems] == [("amount_vnd", FF01)]


def test_decimals_together_with_another_fault_are_reported_as_ff01_listing_both() -> None:
    error = refusal(a_transfer(amount_vnd=1000.5, debtor_agent="97043X"))
    assert error.reason is FF01
    assert sorted((p.field, p.reason) for p in error.problems) == [("amount_vnd", CH20), ("debtor_agent", FF01)]


# --- texts and identifiers -----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["message_id", "end_to_end_id", "transaction_id"])
def test_an_id_of_thirty_six_characters_is_refused_as_ff01_naming_the_id(field: str) -> None:
    error = refusal(a_transfer(**{field: "X" * 36}))
    assert error.reason is FF01
    problem = the_only_problem(error)
    assert problem.field == field
    assert "35" in problem.rule


@pytest.mark.parametrize("field", ["message_id", "transaction_id"])
def test_an_empty_id_is_refused_naming_the_id(field: str) -> None:
    assert the_only_problem(refusal(a_transfer(**{field: ""}))).field == field


def test_a_debtor_name_of_141_characters_is_refused_naming_debtor_name() -> None:
    name = ("Nguyễn Thị Hương Giang " * 7)[:141]
    assert len(name) == 141
    error = refusal(a_transfer(debtor={"name": name}))
    problem = the_only_problem(error)
    assert problem.field == "debtor.name"
    assert "140" in problem.rule
    assert error.reason is FF01


def test_a_remittance_information_of_141_characters_is_refused() -> None:
    text = ("Trợ cấp xã hội tháng 7/2025 " * 6)[:141]
    assert len(text) == 141
    error = refusal(a_transfer(remittance_information=text))
    assert the_only_problem(error).field == "remittance_information"


@pytest.mark.parametrize("field", ["debtor_agent", "creditor_agent"])
@pytest.mark.parametrize("bad_bin", ["97043X", "97043", "9704360", "９７０４３６"])
def test_a_bin_that_is_not_six_digits_is_refused_naming_the_field_and_the_rule(field: str, bad_bin: str) -> None:
    raw = a_transfer(creditor_account="2150123456", creditor_agent="970418")
    raw[field] = bad_bin
    error = refusal(raw)
    problem = the_only_problem(error)
    assert problem.field == field
    assert problem.rule == "must be a 6-digit bank identification number"
    assert error.reason is FF01


def test_a_bin_with_a_trailing_newline_is_refused() -> None:
    problem = the_only_problem(refusal(a_transfer(debtor_agent="970436\n")))
    assert problem.field == "debtor_agent"


def test_a_debtor_account_with_punctuation_is_refused_naming_the_rule() -> None:
    problem = the_only_problem(refusal(a_transfer(debtor_account="001-100-4123456")))
    assert problem.field == "debtor_account"
    assert problem.rule == "must be 6 to 19 letters or digits"


def test_a_creditor_citizen_id_that_is_not_twelve_digits_is_refused() -> None:
    problem = the_only_problem(refusal(a_transfer(creditor={"name": "Lê Hoàng Yến", "citizen_id": "07930100432X"})))
    assert problem.field == "creditor.citizen_id"


def test_a_creditor_citizen_id_in_full_width_digits_is_refused() -> None:
    problem = the_only_problem(
        refusal(a_transfer(creditor={"name": "Lê Hoàng Yến", "citizen_id": "０７９３０１００４３２１"}))
    )
    assert problem.field == "creditor.citizen_id"


def test_an_unknown_extra_field_is_refused_naming_it() -> None:
    error = refusal(a_transfer(ghi_chu="chuyển tiền nhanh"))
    problem = the_only_problem(error)
    assert problem.field == "ghi_chu"
    assert "not permitted" in problem.rule
    assert error.reason is FF01


def test_an_unknown_extra_field_inside_a_party_is_refused_naming_its_path() -> None:
    problem = the_only_problem(refusal(a_transfer(debtor={"name": "Phạm Quốc Việt", "address": "Hà Nội"})))
    assert problem.field == "debtor.address"


@pytest.mark.parametrize("currency", ["USD", "vnd", "VNĐ", ""])
def test_a_currency_other_than_vnd_is_refused_naming_currency(currency: str) -> None:
    error = refusal(a_transfer(currency=currency))
    problem = the_only_problem(error)
    assert problem.field == "currency"
    assert "VND" in problem.rule
    assert error.reason is FF01


def test_an_unknown_purpose_code_is_refused_naming_purpose() -> None:
    assert the_only_problem(refusal(a_transfer(purpose="GIFT"))).field == "purpose"


def test_a_missing_required_field_is_refused_naming_it() -> None:
    raw = a_transfer()
    del raw["debtor_account"]
    problem = the_only_problem(refusal(raw))
    assert problem.field == "debtor_account"
    assert "required" in problem.rule.lower()


# --- the creditor's address ----------------------------------------------------------------------


def test_a_transfer_without_alias_or_account_is_refused_with_a_rule_naming_both_ways() -> None:
    raw = a_transfer()
    del raw["creditor_alias"]
    error = refusal(raw)
    problem = the_only_problem(error)
    assert problem.field == "(message)"
    assert "creditor_alias" in problem.rule
    assert "creditor_account" in problem.rule
    assert "creditor_agent" in problem.rule
    assert error.reason is FF01


@pytest.mark.parametrize(
    "address",
    [{"creditor_account": "2150123456"}, {"creditor_agent": "970418"}],
    ids=["account-without-agent", "agent-without-account"],
)
def test_half_an_account_address_without_an_alias_is_refused(address: dict[str, str]) -> None:
    raw = a_transfer(**address)
    del raw["creditor_alias"]
    assert "creditor_alias" in the_only_problem(refusal(raw)).rule


def test_an_alias_phone_number_is_normalised_to_the_zero_prefixed_form() -> None:
    transfer = parse_message(CreditTransfer, a_transfer(creditor_alias={"type": "msisdn", "value": "+84 98 123 4567"}))
    assert transfer.creditor_alias is not None
    assert transfer.creditor_alias.value == "0981234567"


def test_an_alias_phone_number_with_an_unused_prefix_is_refused_naming_the_alias_and_prefix() -> None:
    error = refusal(a_transfer(creditor_alias={"type": "msisdn", "value": "0123456789"}))
    problem = the_only_problem(error)
    assert problem.field == "creditor_alias"
    assert "012" in problem.rule
    assert error.reason is FF01


def test_an_alias_citizen_id_of_eleven_digits_is_refused_naming_the_alias() -> None:
    problem = the_only_problem(refusal(a_transfer(creditor_alias={"type": "citizen_id", "value": "07930100432"})))
    assert problem.field == "creditor_alias"
    assert "12 digits" in problem.rule


def test_an_alias_of_an_unknown_type_is_refused_naming_alias_type() -> None:
    problem = the_only_problem(refusal(a_transfer(creditor_alias={"type": "email", "value": "duc@example.vn"})))
    assert problem.field == "creditor_alias.type"


# --- MessageInvalid ------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, [], "pacs.008", 42])
def test_something_that_is_not_an_object_is_refused_as_a_whole_message(raw: Any) -> None:
    error = refusal(raw)
    assert the_only_problem(error).field == "(message)"
    assert error.reason is FF01


def test_every_problem_is_listed_with_its_own_field() -> None:
    error = refusal(a_transfer(transaction_id="", debtor_agent="97043X", currency="USD", amount_vnd=-1))
    assert sorted(p.field for p in error.problems) == ["amount_vnd", "currency", "debtor_agent", "transaction_id"]
    assert all(p.reason is FF01 for p in error.problems)


def test_the_error_message_names_the_field_the_rule_and_the_code() -> None:
    error = refusal(a_transfer(debtor_agent="97043X"))
    assert isinstance(error, ValueError)
    assert str(error) == "debtor_agent: must be a 6-digit bank identification number (FF01)"


def test_a_refusal_is_a_value_error_carrying_frozen_problems() -> None:
    problem = the_only_problem(refusal(a_transfer(amount_vnd=1000.5)))
    with pytest.raises(AttributeError):
        problem.reason = FF01  # type: ignore[misc]


def test_a_message_invalid_built_from_only_decimal_problems_is_ch20() -> None:
    error = MessageInvalid([FieldProblem("amount_vnd", "VND has no minor unit", CH20)])
    assert error.reason is CH20
    assert "amount_vnd" in str(error)
    assert "CH20" in str(error)


def test_a_message_invalid_mixing_reasons_is_ff01() -> None:
    error = MessageInvalid(
        [FieldProblem("amount_vnd", "decimals", CH20), FieldProblem("debtor_agent", "must be 6 digits", FF01)]
    )
    assert error.reason is FF01


def test_refusing_a_message_leaves_the_raw_input_unchanged() -> None:
    raw = a_transfer(amount_vnd=1000.5, creditor_alias={"type": "msisdn", "value": "+84 98 123 4567"})
    before = repr(raw)
    refusal(raw)
    assert repr(raw) == before
