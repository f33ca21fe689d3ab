"""banks.core: the pure decisions of a participant node (credit or refuse, answer a verification)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from banks.core import decide_inbound, decide_outbound, decide_verification
from banks.schemas import AccountStatus, Customer, Limits
from switch.scheme.codes import Purpose, StatusReason, VerificationOutcome
from switch.scheme.messages import CreditTransfer, Party, VerificationRequest

BIDV = "970418"
VIETCOMBANK = "970436"
DECEMBER = "2026-12"
NOVEMBER = "2026-11"
NO_LIMITS = Limits()
PILOT_WALLET = Limits(monthly_inflow_cap_vnd=10_000_000, balance_cap_vnd=100_000_000)

HONG = Customer("12010000234567", "NGUYEN THI HONG", "079185012345")


def transfer(
    amount_vnd: int = 500_000,
    name: str | None = None,
    citizen_id: str | None = None,
    account: str = HONG.account,
) -> CreditTransfer:
    return CreditTransfer(
        message_id="VCB20261201000001",
        end_to_end_id="VCB20261201000001",
        transaction_id="VCB20261201000001",
        amount_vnd=amount_vnd,
        debtor=Party(name="TRAN VAN BINH", citizen_id="001090012345"),
        debtor_account="0011001234567",
        debtor_agent=VIETCOMBANK,
        creditor=Party(name=name, citizen_id=citizen_id),
        creditor_account=account,
        creditor_agent=BIDV,
        purpose=Purpose.SSBE,
    )


def hong(**changes: object) -> Customer:
    return replace(HONG, **changes)  # type: ignore[arg-type]


def verification(name: str = "NGUYEN THI HONG", citizen_id: str | None = None) -> VerificationRequest:
    return VerificationRequest(
        verification_id="VRF20261201000001", agent=BIDV, account=HONG.account, name=name, citizen_id=citizen_id
    )


# --- decide_inbound -------------------------------------------------------------------------


def test_a_transfer_to_an_active_account_with_the_right_name_and_id_is_credited() -> None:
    decision = decide_inbound(
        hong(), transfer(name="NGUYEN THI HONG", citizen_id="079185012345"), NO_LIMITS, DECEMBER, 0
    )
    assert decision is None


def test_a_transfer_without_creditor_name_or_id_is_credited_on_the_account_number_alone() -> None:
    assert decide_inbound(hong(), transfer(), NO_LIMITS, DECEMBER, 0) is None


def test_a_transfer_to_an_unknown_account_is_refused_as_ac01() -> None:
    assert decide_inbound(None, transfer(), NO_LIMITS, DECEMBER, 0) == StatusReason.AC01


@pytest.mark.parametrize(
    ("status", "reason"),
    [(AccountStatus.CLOSED, StatusReason.AC04), (AccountStatus.BLOCKED, StatusReason.AC06)],
)
def test_a_transfer_to_a_closed_or_blocked_account_is_refused_with_its_reason(
    status: AccountStatus, reason: StatusReason
) -> None:
    assert decide_inbound(hong(status=status), transfer(), NO_LIMITS, DECEMBER, 0) == reason


def test_the_account_status_is_checked_before_the_name_and_id() -> None:
    closed = hong(status=AccountStatus.CLOSED)
    assert decide_inbound(closed, transfer(name="TRAN VAN BINH"), NO_LIMITS, DECEMBER, 0) == StatusReason.AC04


def test_a_dormant_account_still_receives() -> None:
    dormant = hong(status=AccountStatus.DORMANT)
    assert decide_inbound(dormant, transfer(name="NGUYEN THI HONG"), NO_LIMITS, DECEMBER, 0) is None


def test_a_transfer_naming_another_citizen_id_is_refused_as_be01() -> None:
    other = transfer(name="NGUYEN THI HONG", citizen_id="001090012345")
    assert decide_inbound(hong(), other, NO_LIMITS, DECEMBER, 0) == StatusReason.BE01


def test_a_transfer_naming_someone_else_is_refused_as_be01() -> None:
    assert decide_inbound(hong(), transfer(name="TRAN VAN BINH"), NO_LIMITS, DECEMBER, 0) == StatusReason.BE01


@pytest.mark.parametrize(
    "name",
    [
        "NGUYEN HONG",  # the middle name left out
        "HONG NGUYEN THI",  # the same words in another order
        "NGUYEN THI HONH",  # one typing slip
    ],
)
def test_a_close_match_of_the_name_still_credits(name: str) -> None:
    assert decide_inbound(hong(), transfer(name=name), NO_LIMITS, DECEMBER, 0) is None


def test_a_name_with_diacritics_matches_the_name_as_the_bank_stores_it() -> None:
    assert decide_inbound(hong(), transfer(name="Nguyễn Thị Hồng"), NO_LIMITS, DECEMBER, 0) is None


def test_a_bank_account_without_limits_receives_any_amount() -> None:
    rich = hong(inflow_month=DECEMBER, inflow_vnd=10**12)
    assert decide_inbound(rich, transfer(amount_vnd=10**13), NO_LIMITS, DECEMBER, 10**12) is None


def test_a_wallet_may_receive_up_to_its_monthly_inflow_cap_exactly() -> None:
    wallet = hong(inflow_month=DECEMBER, inflow_vnd=9_500_000)
    assert decide_inbound(wallet, transfer(amount_vnd=500_000), PILOT_WALLET, DECEMBER, 0) is None


def test_a_transfer_that_would_exceed_the_monthly_inflow_cap_is_refused_as_am02() -> None:
    wallet = hong(inflow_month=DECEMBER, inflow_vnd=9_500_000)
    assert decide_inbound(wallet, transfer(amount_vnd=500_001), PILOT_WALLET, DECEMBER, 0) == StatusReason.AM02


def test_a_single_transfer_above_the_monthly_inflow_cap_is_refused_as_am02() -> None:
    assert decide_inbound(hong(), transfer(amount_vnd=10_000_001), PILOT_WALLET, DECEMBER, 0) == StatusReason.AM02


def test_last_months_inflow_does_not_count_against_this_month() -> None:
    wallet = hong(inflow_month=NOVEMBER, inflow_vnd=10_000_000)
    assert decide_inbound(wallet, transfer(amount_vnd=10_000_000), PILOT_WALLET, DECEMBER, 0) is None


def test_a_wallet_may_be_filled_up_to_its_balance_cap_exactly() -> None:
    assert decide_inbound(hong(), transfer(amount_vnd=200_000), PILOT_WALLET, DECEMBER, 99_800_000) is None


def test_a_transfer_that_would_exceed_the_balance_cap_is_refused_as_am02() -> None:
    decision = decide_inbound(hong(), transfer(amount_vnd=200_001), PILOT_WALLET, DECEMBER, 99_800_000)
    assert decision == StatusReason.AM02


def test_deciding_an_inbound_transfer_changes_nothing_in_the_customer() -> None:
    wallet = hong(inflow_month=NOVEMBER, inflow_vnd=3_000_000)
    before = replace(wallet)
    decide_inbound(wallet, transfer(amount_vnd=1_000_000), PILOT_WALLET, DECEMBER, 0)
    assert wallet == before


# --- decide_verification --------------------------------------------------------------------


def test_an_active_account_of_this_person_with_this_name_is_a_match() -> None:
    result = decide_verification(hong(), verification(citizen_id="079185012345"))
    assert result == (VerificationOutcome.MTCH, None, None)


def test_a_name_written_with_diacritics_is_a_match() -> None:
    assert decide_verification(hong(), verification(name="Nguyễn Thị Hồng")) == (VerificationOutcome.MTCH, None, None)


def test_a_close_match_returns_the_holders_masked_name_and_no_reason() -> None:
    outcome, reason, masked = decide_verification(hong(), verification(name="NGUYEN HONG"))
    assert (outcome, reason) == (VerificationOutcome.CMTC, None)
    assert masked == "N***** T** HONG"


def test_another_name_is_no_match_with_be01_and_reveals_nothing() -> None:
    assert decide_verification(hong(), verification(name="TRAN VAN BINH")) == (
        VerificationOutcome.NMTC,
        StatusReason.BE01,
        None,
    )


def test_another_citizen_id_is_no_match_with_be01_even_with_the_right_name() -> None:
    assert decide_verification(hong(), verification(citizen_id="001090012345")) == (
        VerificationOutcome.NMTC,
        StatusReason.BE01,
        None,
    )


def test_an_unknown_account_is_no_match_with_ac01() -> None:
    assert decide_verification(None, verification()) == (VerificationOutcome.NMTC, StatusReason.AC01, None)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (AccountStatus.CLOSED, StatusReason.AC04),
        (AccountStatus.BLOCKED, StatusReason.AC06),
        (AccountStatus.DORMANT, StatusReason.AC06),
    ],
)
def test_only_an_active_account_can_be_verified(status: AccountStatus, reason: StatusReason) -> None:
    assert decide_verification(hong(status=status), verification()) == (VerificationOutcome.NMTC, reason, None)


# --- decide_outbound ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "reason"),
    [
        (None, StatusReason.AC01),
        (hong(status=AccountStatus.CLOSED), StatusReason.AC04),
        (hong(status=AccountStatus.BLOCKED), StatusReason.AC06),
        (hong(status=AccountStatus.DORMANT), None),
        (hong(), None),
    ],
)
def test_a_customer_may_pay_unless_the_account_is_unknown_closed_or_blocked(
    customer: Customer | None, reason: StatusReason | None
) -> None:
    assert decide_outbound(customer) == reason
