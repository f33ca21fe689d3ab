"""Status, reason and outcome codes: their string values are part of the public contract."""

from __future__ import annotations

import pytest

from switch.scheme.codes import REASON_DESCRIPTIONS, StatusReason, TransactionStatus, VerificationOutcome


def test_the_status_reasons_are_exactly_the_published_iso_codes() -> None:
    assert [reason.value for reason in StatusReason] == [
        "AC01",
        "AC04",
        "AC06",
        "AM02",
        "AM04",
        "AB05",
        "AB08",
        "BE01",
        "BE16",
        "BE23",
        "CH20",
        "DUPL",
        "FF01",
        "MD07",
        "NOOR",
        "RC04",
        "RR04",
    ]


def test_the_transaction_statuses_are_exactly_the_published_iso_codes() -> None:
    assert [status.value for status in TransactionStatus] == ["ACTC", "ACSP", "ACSC", "RJCT", "PDNG"]


def test_the_verification_outcomes_are_exactly_the_epc_codes() -> None:
    assert [outcome.value for outcome in VerificationOutcome] == ["MTCH", "CMTC", "NMTC"]


@pytest.mark.parametrize("reason", list(StatusReason))
def test_every_status_reason_compares_equal_to_its_own_code_string(reason: StatusReason) -> None:
    assert reason == reason.name
    assert str(reason) == reason.name
    assert StatusReason(reason.name) is reason


@pytest.mark.parametrize("reason", list(StatusReason))
def test_every_status_reason_has_a_non_empty_description(reason: StatusReason) -> None:
    assert isinstance(reason.description, str)
    assert reason.description.strip()


def test_the_description_table_covers_every_reason_and_nothing_else() -> None:
    assert set(REASON_DESCRIPTIONS) == set(StatusReason)


def test_a_few_descriptions_say_what_the_code_means() -> None:
    assert "closed" in StatusReason.AC04.description
    assert "insufficient funds" in StatusReason.AM04.description
    assert "VND" in StatusReason.CH20.description
    assert "format" in StatusReason.FF01.description


@pytest.mark.parametrize(
    ("status", "final"),
    [
        (TransactionStatus.ACTC, False),
        (TransactionStatus.ACSP, False),
        (TransactionStatus.ACSC, True),
        (TransactionStatus.RJCT, True),
        (TransactionStatus.PDNG, False),
    ],
)
def test_only_settled_and_rejected_are_final_statuses(status: TransactionStatus, final: bool) -> None:
    assert status.is_final is final


def test_an_unknown_reason_code_is_not_a_status_reason() -> None:
    with pytest.raises(ValueError):
        StatusReason("XX99")
