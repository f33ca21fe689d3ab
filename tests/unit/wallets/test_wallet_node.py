"""wallets.node: the participant node keyed by mobile number, with monthly inflow and balance caps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banks.schemas import AccountStatus, Customer, Limits, PaymentOrder
from ledger.storage import open_engine
from switch.scheme import grouping
from switch.scheme.codes import Purpose, StatusReason, TransactionStatus
from switch.scheme.messages import CreditTransfer, Party, StatusReport
from switch.scheme.transport import Envelope
from wallets.node import (
    BALANCE_CAP_VND,
    MONTHLY_INFLOW_CAP_VND,
    PILOT_2021_MONTHLY_INFLOW_CAP_VND,
    WalletNode,
    new_wallet,
    wallet_limits,
)

VIETTEL_MONEY = "971005"
VIETCOMBANK = "970436"
NOW = 1_796_083_200_000  # 1 December 2026, 07:00 in Vietnam
DAY_MS = 86_400_000
NEXT_MONTH = NOW + 31 * DAY_MS
VIETNAM_MIDNIGHT = NOW - 7 * 3_600_000  # 1 December 2026, 00:00 in Vietnam (30 November, 17:00 UTC)

HONG_MSISDN = "0961234567"
AN_MSISDN = "0987654321"


def open_wallet_node(limits: Limits | None = None, hong_opening_vnd: int = 0) -> WalletNode:
    node = WalletNode(VIETTEL_MONEY, "Viettel Money", open_engine("sqlite://"), limits=limits, seed=1)
    node.setup()
    node.open_accounts(
        [
            (new_wallet(HONG_MSISDN, "NGUYEN THI HONG", "079185012345", kyc_level=2), hong_opening_vnd),
            (new_wallet(AN_MSISDN, "LE VAN AN", "048070012345"), 0),
        ],
        NOW,
    )
    return node


@pytest.fixture
def pilot() -> Iterator[WalletNode]:
    """A provider under the 2021 pilot limits: 10,000,000 VND a month into a wallet."""
    node = open_wallet_node(wallet_limits(pilot_2021=True))
    yield node
    node.check_invariants()


def credit_transfer(tx: str, amount_vnd: int, msisdn: str = HONG_MSISDN) -> CreditTransfer:
    return CreditTransfer(
        message_id=f"M{tx}",
        end_to_end_id=f"E{tx}",
        transaction_id=tx,
        amount_vnd=amount_vnd,
        debtor=Party(name="KHO BAC NHA NUOC"),
        debtor_account="0011001234567",
        debtor_agent=VIETCOMBANK,
        creditor=Party(citizen_id="079185012345" if msisdn == HONG_MSISDN else "048070012345"),
        creditor_account=msisdn,
        creditor_agent=VIETTEL_MONEY,
        purpose=Purpose.SSBE,
    )


def final_report(tx: str, status: TransactionStatus, amount_vnd: int | None = None) -> StatusReport:
    return StatusReport(
        original_message_id=f"M{tx}",
        original_end_to_end_id=f"E{tx}",
        original_transaction_id=tx,
        debtor_agent=VIETCOMBANK,
        transaction_status=status,
        status_reason=StatusReason.AB05 if status == TransactionStatus.RJCT else None,
        creditor_agent=VIETTEL_MONEY,
        amount_vnd=amount_vnd,
    )


def answers(node: WalletNode, *messages: object, now_ms: int = NOW) -> list[tuple[TransactionStatus, str | None]]:
    out = node.handle([Envelope("switch", VIETTEL_MONEY, m) for m in messages], now_ms)  # type: ignore[arg-type]
    out = [e for e in out if e.receiver != e.sender]  # the node's own status sweep timer is not an answer
    # the answers of one inbox leave together, as one pacs.002, when there are several
    assert len(out) <= 1, out
    result = []
    for envelope in grouping.opened(out):
        assert isinstance(envelope.message, StatusReport)
        report = envelope.message
        result.append((report.transaction_status, report.status_reason.value if report.status_reason else None))
    return result


ACSP = (TransactionStatus.ACSP, None)
AM02 = (TransactionStatus.RJCT, "AM02")


def wallet(node: WalletNode, msisdn: str = HONG_MSISDN) -> Customer:
    return next(c for c in node.customers() if c.account == msisdn)


# --- opening wallets ------------------------------------------------------------------------


def test_a_new_wallet_is_keyed_by_the_normalised_mobile_number() -> None:
    customer = new_wallet("+84 961 234 567", "NGUYEN THI HONG", "079185012345", kyc_level=2)

    assert customer.account == customer.phone == "0961234567"
    assert (customer.kyc_level, customer.status) == (2, AccountStatus.ACTIVE)
    assert (customer.inflow_month, customer.inflow_vnd) == ("", 0)


@pytest.mark.parametrize("msisdn", ["096123456", "09612345678", "0121234567", "0611234567", "abcdefghij", ""])
def test_a_new_wallet_refuses_a_number_that_is_not_a_vietnamese_mobile_number(msisdn: str) -> None:
    with pytest.raises(ValueError, match="msisdn"):
        new_wallet(msisdn, "NGUYEN THI HONG", "079185012345")


@pytest.mark.parametrize("kyc_level", [0, 3, -1])
def test_a_new_wallet_refuses_an_unknown_kyc_level(kyc_level: int) -> None:
    with pytest.raises(ValueError, match="kyc_level"):
        new_wallet(HONG_MSISDN, "NGUYEN THI HONG", "079185012345", kyc_level=kyc_level)


@pytest.mark.parametrize("account", ["12010000123456", "+84961234567", "84961234567"])
def test_a_wallet_provider_refuses_to_open_an_account_that_is_not_a_mobile_number(account: str) -> None:
    node = WalletNode(VIETTEL_MONEY, "Viettel Money", open_engine("sqlite://"))
    node.setup()
    valid = new_wallet(AN_MSISDN, "LE VAN AN", "048070012345")

    with pytest.raises(ValueError, match="account"):
        node.open_accounts([(valid, 0), (Customer(account, "NGUYEN THI HONG", "079185012345"), 0)], NOW)

    assert node.customers() == []
    node.check_invariants()


def test_a_wallet_provider_has_the_2026_limits_unless_told_otherwise() -> None:
    node = WalletNode(VIETTEL_MONEY, "Viettel Money", open_engine("sqlite://"))

    assert node.limits == wallet_limits() == Limits(MONTHLY_INFLOW_CAP_VND, BALANCE_CAP_VND)
    assert MONTHLY_INFLOW_CAP_VND == BALANCE_CAP_VND == 100_000_000


def test_the_2021_pilot_limits_allow_ten_million_a_month() -> None:
    assert wallet_limits(pilot_2021=True) == Limits(10_000_000, 100_000_000)
    assert PILOT_2021_MONTHLY_INFLOW_CAP_VND == 10_000_000


# --- the monthly inflow cap -----------------------------------------------------------------


def test_under_the_pilot_a_transfer_that_would_exceed_the_month_is_refused_but_accepted_next_month(
    pilot: WalletNode,
) -> None:
    assert answers(pilot, credit_transfer("T1", 6_000_000)) == [ACSP]
    answers(pilot, final_report("T1", TransactionStatus.ACSC))

    assert answers(pilot, credit_transfer("T2", 5_000_000), now_ms=NOW + DAY_MS) == [AM02]
    assert answers(pilot, credit_transfer("T3", 5_000_000), now_ms=NEXT_MONTH) == [ACSP]

    assert (wallet(pilot).inflow_month, wallet(pilot).inflow_vnd) == ("2027-01", 5_000_000)
    assert pilot.balances()[f"c:{HONG_MSISDN}"].balance_vnd == 6_000_000


def test_a_wallet_may_receive_exactly_its_monthly_cap(pilot: WalletNode) -> None:
    assert answers(pilot, credit_transfer("T1", 6_000_000)) == [ACSP]
    assert answers(pilot, credit_transfer("T2", 4_000_000)) == [ACSP]
    assert answers(pilot, credit_transfer("T3", 1)) == [AM02]


def test_the_cap_counts_the_earlier_credits_of_the_same_inbox(pilot: WalletNode) -> None:
    assert answers(pilot, credit_transfer("T1", 6_000_000), credit_transfer("T2", 6_000_000)) == [ACSP, AM02]
    assert wallet(pilot).inflow_vnd == 6_000_000


def test_each_wallet_has_its_own_monthly_cap(pilot: WalletNode) -> None:
    assert answers(pilot, credit_transfer("T1", 10_000_000), credit_transfer("T2", 10_000_000, AN_MSISDN)) == [
        ACSP,
        ACSP,
    ]


def test_a_refused_transfer_does_not_use_up_the_month(pilot: WalletNode) -> None:
    assert answers(pilot, credit_transfer("T1", 10_000_001)) == [AM02]
    assert answers(pilot, credit_transfer("T2", 10_000_000)) == [ACSP]


def test_a_voided_credit_gives_its_inflow_back(pilot: WalletNode) -> None:
    assert answers(pilot, credit_transfer("T1", 6_000_000)) == [ACSP]

    answers(pilot, final_report("T1", TransactionStatus.RJCT), now_ms=NOW + 30_000)

    assert wallet(pilot).inflow_vnd == 0
    assert answers(pilot, credit_transfer("T2", 9_000_000), now_ms=NOW + 40_000) == [ACSP]


def test_a_repeated_delivery_does_not_count_twice_against_the_month(pilot: WalletNode) -> None:
    assert answers(pilot, credit_transfer("T1", 6_000_000), credit_transfer("T1", 6_000_000)) == [ACSP, ACSP]
    assert answers(pilot, credit_transfer("T1", 6_000_000)) == [ACSP]

    assert wallet(pilot).inflow_vnd == 6_000_000
    assert answers(pilot, credit_transfer("T2", 4_000_000)) == [ACSP]


def test_the_month_turns_at_midnight_in_vietnam(pilot: WalletNode) -> None:
    assert answers(pilot, credit_transfer("T1", 10_000_000), now_ms=VIETNAM_MIDNIGHT - 1) == [ACSP]
    assert wallet(pilot).inflow_month == "2026-11"

    assert answers(pilot, credit_transfer("T2", 10_000_000), now_ms=VIETNAM_MIDNIGHT) == [ACSP]
    assert (wallet(pilot).inflow_month, wallet(pilot).inflow_vnd) == ("2026-12", 10_000_000)


def test_voiding_last_months_credit_gives_nothing_back_from_this_months_inflow(pilot: WalletNode) -> None:
    # 30 November, 23:59:50 in Vietnam: a credit the switch will give up on (its answer is late)
    assert answers(pilot, credit_transfer("T1", 6_000_000), now_ms=VIETNAM_MIDNIGHT - 10_000) == [ACSP]
    # 1 December: a new month, 9,000,000 of this month's 10,000,000 received
    assert answers(pilot, credit_transfer("T2", 9_000_000), now_ms=VIETNAM_MIDNIGHT + 5_000) == [ACSP]
    # the switch voids November's credit: December's inflow is still 9,000,000
    answers(pilot, final_report("T1", TransactionStatus.RJCT), now_ms=VIETNAM_MIDNIGHT + 20_000)

    assert wallet(pilot).inflow_vnd == 9_000_000
    assert answers(pilot, credit_transfer("T3", 5_000_000), now_ms=VIETNAM_MIDNIGHT + 30_000) == [AM02]


# --- the balance cap ------------------------------------------------------------------------


def test_a_transfer_that_would_take_the_wallet_above_its_balance_cap_is_refused() -> None:
    node = open_wallet_node(hong_opening_vnd=99_500_000)

    assert answers(node, credit_transfer("T1", 500_001)) == [AM02]
    assert answers(node, credit_transfer("T2", 500_000)) == [ACSP]
    node.check_invariants()


def test_pending_credits_count_against_the_balance_cap() -> None:
    node = open_wallet_node(hong_opening_vnd=99_500_000)

    assert answers(node, credit_transfer("T1", 300_000), credit_transfer("T2", 300_000)) == [ACSP, AM02]
    assert answers(node, credit_transfer("T3", 300_000)) == [AM02]
    node.check_invariants()


def test_money_spent_from_the_wallet_makes_room_under_the_balance_cap() -> None:
    node = open_wallet_node(hong_opening_vnd=100_000_000)
    pay = PaymentOrder(
        order_id="VTM20261201000001",
        debtor_account=HONG_MSISDN,
        amount_vnd=1_000_000,
        creditor_agent=VIETCOMBANK,
        creditor_account="0011001234567",
    )
    [sent] = [e for e in node.handle([Envelope("customers", VIETTEL_MONEY, pay)], NOW) if e.receiver != e.sender]
    assert isinstance(sent.message, CreditTransfer)
    assert sent.message.debtor_agent == VIETTEL_MONEY
    settled = StatusReport(
        original_message_id=pay.order_id,
        original_end_to_end_id=pay.order_id,
        original_transaction_id=pay.order_id,
        debtor_agent=VIETTEL_MONEY,
        transaction_status=TransactionStatus.ACSC,
        creditor_agent=VIETCOMBANK,
    )
    node.handle([Envelope("switch", VIETTEL_MONEY, settled)], NOW + 1_000)

    assert answers(node, credit_transfer("T1", 1_000_000), now_ms=NOW + 2_000) == [ACSP]
    node.check_invariants()


# --- property: the month's inflow is what was credited and not voided -----------------------

steps = st.lists(
    st.tuples(
        st.sampled_from(["deliver", "ACSC", "RJCT"]),
        st.integers(min_value=0, max_value=7),
        st.sampled_from([HONG_MSISDN, AN_MSISDN]),
        st.integers(min_value=1, max_value=6_000_000),
    ),
    max_size=20,
)


@settings(max_examples=30)
@given(script=steps)
def test_a_wallets_monthly_inflow_is_its_credits_not_voided_and_never_above_the_cap(
    script: list[tuple[str, int, str, int]],
) -> None:
    node = open_wallet_node(wallet_limits(pilot_2021=True))
    transfers: dict[int, tuple[str, int]] = {}  # the first delivery of an id fixes its content
    for number, (kind, index, msisdn, amount) in enumerate(script):
        tx = f"T{index}"
        now_ms = NOW + number * 1_000
        if kind == "deliver":
            msisdn, amount = transfers.setdefault(index, (msisdn, amount))
            answers(node, credit_transfer(tx, amount, msisdn), now_ms=now_ms)
        else:
            answers(node, final_report(tx, TransactionStatus(kind)), now_ms=now_ms)

    counts = node.inbound_counts()
    held = counts.get("credited", (0, 0))[1] + counts.get("settled", (0, 0))[1]
    customers = node.customers()
    assert sum(c.inflow_vnd for c in customers) == held
    for customer in customers:
        assert customer.inflow_vnd <= PILOT_2021_MONTHLY_INFLOW_CAP_VND
        ledger_account = node.balances()[f"c:{customer.account}"]
        assert ledger_account.balance_vnd + ledger_account.credits_pending == customer.inflow_vnd
    node.check_invariants()
