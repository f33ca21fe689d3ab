"""banks.node: a bank on its own ledger, driven directly with the messages the switch would send."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banks import repository
from banks.node import ParticipantNode
from banks.schemas import AccountStatus, Behaviour, Customer, PaymentOrder
from ledger.storage import open_engine
from switch.scheme import grouping
from switch.scheme.codes import AliasType, Purpose, StatusReason, TransactionStatus, VerificationOutcome
from switch.scheme.messages import (
    TRANSACTIONS_PER_MESSAGE_MAX,
    Alias,
    CreditTransfer,
    CreditTransferMessage,
    Party,
    StatusReport,
    StatusReportMessage,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.transport import Envelope, Undeliverable

BIDV = "970418"
VIETCOMBANK = "970436"
NOW = 1_796_083_200_000  # 1 December 2026
DAY_MS = 86_400_000

AN = Customer("12010000123456", "LE VAN AN", "048070012345")
HONG = Customer("12010000234567", "NGUYEN THI HONG", "079185012345")
BINH = Customer("12010000345678", "TRAN VAN BINH", "001090012345", status=AccountStatus.CLOSED)
MAI = Customer("12010000456789", "PHAM THI MAI", "036195001234", status=AccountStatus.BLOCKED)
DUC = Customer("12010000567890", "HOANG VAN DUC", "040060001234", status=AccountStatus.DORMANT)
UNKNOWN_ACCOUNT = "12019999999999"
HONG_OPENING_VND = 2_000_000


def open_node(behaviour: Behaviour | None = None, seed: int = 1) -> ParticipantNode:
    node = ParticipantNode(BIDV, "BIDV", open_engine("sqlite://"), behaviour=behaviour, seed=seed)
    node.setup()
    node.open_accounts([(AN, 0), (HONG, HONG_OPENING_VND), (BINH, 0), (MAI, 0), (DUC, 0)], NOW)
    return node


@pytest.fixture
def node() -> Iterator[ParticipantNode]:
    node = open_node()
    yield node
    node.check_invariants()


def credit_transfer(
    tx: str = "VCB20261201000001",
    amount_vnd: int = 500_000,
    account: str = AN.account,
    name: str | None = None,
    citizen_id: str | None = None,
) -> CreditTransfer:
    return CreditTransfer(
        message_id=f"M{tx}",
        end_to_end_id=f"E{tx}",
        transaction_id=tx,
        amount_vnd=amount_vnd,
        debtor=Party(name="VO THI LAN", citizen_id="001185004321"),
        debtor_account="0011001234567",
        debtor_agent=VIETCOMBANK,
        creditor=Party(name=name, citizen_id=citizen_id),
        creditor_account=account,
        creditor_agent=BIDV,
        purpose=Purpose.SSBE,
    )


def final_report(
    tx: str,
    status: TransactionStatus,
    reason: StatusReason | None = None,
    debtor_agent: str = VIETCOMBANK,
    creditor_agent: str = BIDV,
    amount_vnd: int | None = None,
) -> StatusReport:
    return StatusReport(
        original_message_id=f"M{tx}",
        original_end_to_end_id=f"E{tx}",
        original_transaction_id=tx,
        debtor_agent=debtor_agent,
        transaction_status=status,
        status_reason=reason,
        creditor_agent=creditor_agent,
        amount_vnd=amount_vnd,
    )


def sent(out: list[Envelope]) -> list[Envelope]:
    """What the node sends to others: its own reminders (the status sweep timer) are left out."""
    return [e for e in out if e.receiver != e.sender]


def from_switch(node: ParticipantNode, *messages: object, now_ms: int = NOW) -> list[Envelope]:
    return sent(node.handle([Envelope("switch", BIDV, m) for m in messages], now_ms))  # type: ignore[arg-type]


def from_customers(node: ParticipantNode, *orders: PaymentOrder, now_ms: int = NOW) -> list[Envelope]:
    return sent(node.handle([Envelope("customers", BIDV, o) for o in orders], now_ms))


def reports(out: Sequence[Envelope]) -> list[StatusReport]:
    """The status reports sent, each on its own, whether it went alone or in a message of many."""
    assert all(e.sender == BIDV and e.receiver == "switch" for e in out)
    messages = [e.message for e in grouping.opened(out)]
    assert all(isinstance(m, StatusReport) for m in messages)
    return messages  # type: ignore[return-value]


def balance(node: ParticipantNode, account: str) -> int:
    return node.balances()[f"c:{account}"].balance_vnd


def pending_credit(node: ParticipantNode, account: str) -> int:
    return node.balances()[f"c:{account}"].credits_pending


def order(
    order_id: str = "BIDV20261201000001",
    amount_vnd: int = 300_000,
    debtor_account: str = HONG.account,
) -> PaymentOrder:
    return PaymentOrder(
        order_id=order_id,
        debtor_account=debtor_account,
        amount_vnd=amount_vnd,
        creditor_agent=VIETCOMBANK,
        creditor_account="0011001234567",
        creditor_name="VO THI LAN",
        remittance_information="TRA TIEN THUE NHA THANG 12",
    )


def outbound_row(node: ParticipantNode, order_id: str) -> dict[str, object]:
    with node.engine.begin() as conn:
        return repository.load_outbound(conn, [order_id])[order_id]


# --- inbound transfers ----------------------------------------------------------------------


def test_an_inbound_transfer_is_accepted_and_credited_pending_until_the_switch_settles_it(
    node: ParticipantNode,
) -> None:
    out = from_switch(node, credit_transfer(amount_vnd=500_000, name="LE VAN AN", citizen_id="048070012345"))

    [answer] = out
    assert (answer.sender, answer.receiver) == (BIDV, "switch")
    assert answer.delay_ms >= 1
    assert answer.message == StatusReport(
        original_message_id="MVCB20261201000001",
        original_end_to_end_id="EVCB20261201000001",
        original_transaction_id="VCB20261201000001",
        debtor_agent=VIETCOMBANK,
        transaction_status=TransactionStatus.ACSP,
        creditor_agent=BIDV,
    )
    assert balance(node, AN.account) == 0
    assert pending_credit(node, AN.account) == 500_000
    assert node.balances()["settlement"].debits_pending == 500_000
    assert node.inbound_counts() == {"credited": (1, 500_000)}


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        (UNKNOWN_ACCOUNT, StatusReason.AC01),
        (BINH.account, StatusReason.AC04),
        (MAI.account, StatusReason.AC06),
    ],
)
def test_a_transfer_to_an_unknown_closed_or_blocked_account_is_rejected_and_not_credited(
    node: ParticipantNode, account: str, reason: StatusReason
) -> None:
    [answer] = reports(from_switch(node, credit_transfer(account=account)))

    assert (answer.transaction_status, answer.status_reason) == (TransactionStatus.RJCT, reason)
    assert all(
        a.credits_pending == a.credits_posted == 0 for k, a in node.balances().items() if k != "c:" + HONG.account
    )
    assert node.inbound_counts() == {"rejected": (1, 500_000)}


def test_a_dormant_account_still_receives(node: ParticipantNode) -> None:
    [answer] = reports(from_switch(node, credit_transfer(account=DUC.account, name="HOANG VAN DUC")))

    assert answer.transaction_status == TransactionStatus.ACSP
    assert pending_credit(node, DUC.account) == 500_000


def test_a_transfer_naming_someone_else_is_rejected_as_be01(node: ParticipantNode) -> None:
    [answer] = reports(from_switch(node, credit_transfer(name="NGUYEN THI HONG")))

    assert (answer.transaction_status, answer.status_reason) == (TransactionStatus.RJCT, StatusReason.BE01)
    assert pending_credit(node, AN.account) == 0


def test_a_repeated_delivery_changes_nothing_and_gives_the_same_answer(node: ParticipantNode) -> None:
    first = reports(from_switch(node, credit_transfer()))
    balances, counts = node.balances(), node.inbound_counts()

    again = reports(from_switch(node, credit_transfer(), now_ms=NOW + 5_000))

    assert again == first
    assert node.balances() == balances
    assert node.inbound_counts() == counts == {"credited": (1, 500_000)}


def test_two_copies_of_a_transfer_in_one_inbox_are_credited_once_and_answered_alike(node: ParticipantNode) -> None:
    out = from_switch(node, credit_transfer(), credit_transfer())
    first, second = reports(out)

    assert [type(e.message) for e in out] == [StatusReportMessage]  # both answers in one pacs.002

    assert first == second
    assert first.transaction_status == TransactionStatus.ACSP
    assert pending_credit(node, AN.account) == 500_000
    assert node.inbound_counts() == {"credited": (1, 500_000)}


def test_a_repeated_delivery_of_a_rejected_transfer_is_rejected_again_for_the_same_reason(
    node: ParticipantNode,
) -> None:
    first = reports(from_switch(node, credit_transfer(account=BINH.account)))
    again = reports(from_switch(node, credit_transfer(account=BINH.account)))

    assert again == first
    assert first[0].status_reason == StatusReason.AC04
    assert node.inbound_counts() == {"rejected": (1, 500_000)}


def test_the_same_transaction_id_from_another_bank_is_another_transfer(node: ParticipantNode) -> None:
    from_switch(node, credit_transfer(tx="20261201000001"))
    other_bank = credit_transfer(tx="20261201000001").model_copy(update={"debtor_agent": "970415"})

    [answer] = reports(from_switch(node, other_bank))

    assert answer.transaction_status == TransactionStatus.ACSP
    assert pending_credit(node, AN.account) == 1_000_000


def test_the_switchs_acsc_posts_the_credit_to_the_customer(node: ParticipantNode) -> None:
    from_switch(node, credit_transfer(amount_vnd=500_000))

    out = from_switch(node, final_report("VCB20261201000001", TransactionStatus.ACSC, amount_vnd=500_000))

    assert out == []
    assert balance(node, AN.account) == 500_000
    assert pending_credit(node, AN.account) == 0
    assert node.balances()["settlement"].debits_posted == 500_000
    assert node.inbound_counts() == {"settled": (1, 500_000)}


def test_a_repeated_acsc_changes_nothing(node: ParticipantNode) -> None:
    from_switch(node, credit_transfer())
    acsc = final_report("VCB20261201000001", TransactionStatus.ACSC)
    from_switch(node, acsc)
    balances = node.balances()

    from_switch(node, acsc, acsc)

    assert node.balances() == balances
    assert node.inbound_counts() == {"settled": (1, 500_000)}


def test_the_switchs_rjct_voids_the_credit_and_the_customer_balance_returns(node: ParticipantNode) -> None:
    from_switch(node, credit_transfer(amount_vnd=500_000))

    from_switch(node, final_report("VCB20261201000001", TransactionStatus.RJCT, StatusReason.AB05))

    assert balance(node, AN.account) == 0
    assert pending_credit(node, AN.account) == 0
    assert node.balances()["settlement"].debits_pending == 0
    assert node.inbound_counts() == {"reversed": (1, 500_000)}


def test_a_voided_credit_is_not_credited_again_by_a_later_delivery(node: ParticipantNode) -> None:
    from_switch(node, credit_transfer())
    from_switch(node, final_report("VCB20261201000001", TransactionStatus.RJCT, StatusReason.AB05))

    [answer] = reports(from_switch(node, credit_transfer()))

    assert answer.transaction_status == TransactionStatus.RJCT
    assert pending_credit(node, AN.account) == balance(node, AN.account) == 0


def test_a_final_report_after_another_final_report_changes_nothing(node: ParticipantNode) -> None:
    from_switch(node, credit_transfer())
    from_switch(node, final_report("VCB20261201000001", TransactionStatus.ACSC))

    from_switch(node, final_report("VCB20261201000001", TransactionStatus.RJCT, StatusReason.AB05))

    assert balance(node, AN.account) == 500_000
    assert node.inbound_counts() == {"settled": (1, 500_000)}


def test_a_rjct_that_arrives_before_its_transfer_leaves_a_tombstone_so_the_transfer_is_refused(
    node: ParticipantNode,
) -> None:
    assert from_switch(node, final_report("VCB20261201000001", TransactionStatus.RJCT, StatusReason.AB05)) == []

    [answer] = reports(from_switch(node, credit_transfer(), now_ms=NOW + 2_000))

    assert answer.transaction_status == TransactionStatus.RJCT
    assert pending_credit(node, AN.account) == balance(node, AN.account) == 0
    assert set(node.inbound_counts()) == {"rejected"}


def test_a_pending_status_report_from_the_switch_finishes_nothing(node: ParticipantNode) -> None:
    from_switch(node, credit_transfer())

    from_switch(node, final_report("VCB20261201000001", TransactionStatus.PDNG))

    assert pending_credit(node, AN.account) == 500_000
    assert node.inbound_counts() == {"credited": (1, 500_000)}


def test_a_report_about_another_banks_credit_is_ignored(node: ParticipantNode) -> None:
    from_switch(node, credit_transfer())

    from_switch(node, final_report("VCB20261201000001", TransactionStatus.RJCT, creditor_agent="970415"))

    assert pending_credit(node, AN.account) == 500_000
    assert node.inbound_counts() == {"credited": (1, 500_000)}


# --- behaviour knobs ------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [StatusReason.AC06, StatusReason.AC04])
def test_a_node_with_reject_rate_one_rejects_every_valid_credit_with_its_reject_reason(reason: StatusReason) -> None:
    node = open_node(Behaviour(reject_rate=1.0, reject_reason=reason))

    out = from_switch(node, *(credit_transfer(tx=f"VCB2026120100000{i}") for i in range(5)))
    answers = reports(out)

    assert {(a.transaction_status, a.status_reason) for a in answers} == {(TransactionStatus.RJCT, reason)}
    assert len(answers) == 5
    assert [type(e.message) for e in out] == [StatusReportMessage]  # what came together is answered together
    assert pending_credit(node, AN.account) == 0
    node.check_invariants()


def test_a_faulty_node_still_gives_the_real_reason_for_an_unknown_account() -> None:
    node = open_node(Behaviour(reject_rate=1.0, reject_reason=StatusReason.AC06))

    [answer] = reports(from_switch(node, credit_transfer(account=UNKNOWN_ACCOUNT)))

    assert answer.status_reason == StatusReason.AC01
    node.check_invariants()


def test_a_node_with_timeout_rate_one_answers_late_but_still_credits() -> None:
    node = open_node(Behaviour(latency_ms=100, timeout_rate=1.0, late_answer_ms=30_000))

    out = from_switch(node, *(credit_transfer(tx=f"VCB2026120100000{i}", amount_vnd=100_000) for i in range(5)))

    assert all(30_000 + 50 <= e.delay_ms <= 30_000 + 150 for e in out)
    answers = reports(out)
    assert {a.transaction_status for a in answers} == {TransactionStatus.ACSP}
    assert len(answers) == 5
    assert [type(e.message) for e in out] == [StatusReportMessage]  # all late alike: they still travel together
    assert pending_credit(node, AN.account) == 500_000
    node.check_invariants()


@pytest.mark.parametrize("latency_ms", [0, 1, 20, 1_000])
def test_the_answer_delay_stays_within_half_and_one_and_a_half_times_the_latency(latency_ms: int) -> None:
    node = open_node(Behaviour(latency_ms=latency_ms))

    # one draw a batch (a batch's answers go as one message), so forty batches of one make forty draws
    out = [
        e
        for i in range(40)
        for e in from_switch(node, credit_transfer(tx=f"VCB202612010000{i:02}", amount_vnd=10_000), now_ms=NOW + i)
    ]

    assert len(out) == 40
    low, high = max(1, latency_ms // 2), max(1, latency_ms * 3 // 2)
    assert all(low <= e.delay_ms <= high for e in out), [e.delay_ms for e in out]
    node.check_invariants()


def _answers_of(seed: int) -> list[tuple[object, int]]:
    node = open_node(Behaviour(latency_ms=50, reject_rate=0.5, timeout_rate=0.3), seed=seed)
    transfers = [credit_transfer(tx=f"VCB202612010000{i:02}", amount_vnd=10_000 + i) for i in range(40)]
    out = from_switch(node, *transfers[:20]) + from_switch(node, *transfers[20:])
    node.check_invariants()
    return [(e.message, e.delay_ms) for e in out]


def test_the_same_seed_gives_the_same_answers_and_delays() -> None:
    assert _answers_of(seed=7) == _answers_of(seed=7)
    assert _answers_of(seed=7) != _answers_of(seed=8)


def test_the_node_is_offline_when_its_behaviour_says_so() -> None:
    node = open_node(Behaviour(offline=True))
    assert node.offline
    node.set_behaviour(Behaviour())
    assert not node.offline


# --- verification ---------------------------------------------------------------------------


def test_a_verification_request_is_answered_with_the_outcome_and_the_masked_name(node: ParticipantNode) -> None:
    out = from_switch(
        node,
        VerificationRequest(verification_id="V1", agent=BIDV, account=HONG.account, name="NGUYEN HONG"),
        VerificationRequest(verification_id="V2", agent=BIDV, account=DUC.account, name="HOANG VAN DUC"),
        VerificationRequest(verification_id="V3", agent=BIDV, account=AN.account, name="Lê Văn An"),
    )

    assert [(e.receiver, e.message) for e in out] == [
        ("switch", VerificationReport(original_verification_id="V1", agent=BIDV, outcome=VerificationOutcome.CMTC,
                                      holder_name_masked="N***** T** HONG")),
        ("switch", VerificationReport(original_verification_id="V2", agent=BIDV, outcome=VerificationOutcome.NMTC,
                                      reason=StatusReason.AC06)),
        ("switch", VerificationReport(original_verification_id="V3", agent=BIDV, outcome=VerificationOutcome.MTCH)),
    ]  # fmt: skip
    assert all(e.delay_ms >= 1 for e in out)


# --- payments -------------------------------------------------------------------------------


def test_a_payment_order_holds_the_amount_and_sends_a_credit_transfer_to_the_switch(node: ParticipantNode) -> None:
    [sent] = from_customers(node, order(amount_vnd=300_000))

    assert (sent.sender, sent.receiver) == (BIDV, "switch")
    transfer = sent.message
    assert isinstance(transfer, CreditTransfer)
    assert transfer.transaction_id == "BIDV20261201000001"
    assert transfer.amount_vnd == 300_000
    assert (transfer.debtor_agent, transfer.debtor_account) == (BIDV, HONG.account)
    assert transfer.debtor == Party(name="NGUYEN THI HONG", citizen_id="079185012345")
    assert (transfer.creditor_agent, transfer.creditor_account) == (VIETCOMBANK, "0011001234567")
    assert transfer.creditor.name == "VO THI LAN"
    hong = node.balances()[f"c:{HONG.account}"]
    assert (hong.balance_vnd, hong.available_vnd) == (HONG_OPENING_VND, HONG_OPENING_VND - 300_000)
    assert node.outbound_counts() == {"pending": (1, 300_000)}


def test_a_payment_to_an_alias_carries_the_alias(node: ParticipantNode) -> None:
    alias_order = PaymentOrder(
        order_id="BIDV20261201000002",
        debtor_account=HONG.account,
        amount_vnd=100_000,
        creditor_alias=Alias(type=AliasType.MSISDN, value="+84 961 234 567"),
    )

    [sent] = from_customers(node, alias_order)

    assert isinstance(sent.message, CreditTransfer)
    assert sent.message.creditor_alias == Alias(type=AliasType.MSISDN, value="0961234567")


def test_the_switchs_acsc_settles_the_payment(node: ParticipantNode) -> None:
    from_customers(node, order(amount_vnd=300_000))

    from_switch(node, final_report("BIDV20261201000001", TransactionStatus.ACSC, debtor_agent=BIDV,
                                   creditor_agent=VIETCOMBANK))  # fmt: skip

    hong = node.balances()[f"c:{HONG.account}"]
    assert (hong.balance_vnd, hong.debits_pending) == (HONG_OPENING_VND - 300_000, 0)
    assert node.balances()["settlement"].credits_posted == 300_000
    assert node.outbound_counts() == {"settled": (1, 300_000)}


def test_the_switchs_rjct_voids_the_payment_and_keeps_its_reason(node: ParticipantNode) -> None:
    from_customers(node, order(amount_vnd=300_000))

    from_switch(node, final_report("BIDV20261201000001", TransactionStatus.RJCT, StatusReason.AC04,
                                   debtor_agent=BIDV, creditor_agent=VIETCOMBANK))  # fmt: skip

    hong = node.balances()[f"c:{HONG.account}"]
    assert (hong.balance_vnd, hong.available_vnd) == (HONG_OPENING_VND, HONG_OPENING_VND)
    assert node.outbound_counts() == {"rejected": (1, 300_000)}
    assert outbound_row(node, "BIDV20261201000001")["reason"] == "AC04"


def test_a_payment_above_the_available_balance_is_refused_locally_as_am04_without_a_message(
    node: ParticipantNode,
) -> None:
    assert from_customers(node, order(amount_vnd=HONG_OPENING_VND + 1)) == []

    assert node.outbound_counts() == {"rejected": (1, HONG_OPENING_VND + 1)}
    assert outbound_row(node, "BIDV20261201000001")["reason"] == "AM04"
    hong = node.balances()[f"c:{HONG.account}"]
    assert (hong.balance_vnd, hong.debits_pending) == (HONG_OPENING_VND, 0)


def test_two_payments_in_one_batch_are_held_in_order_and_the_one_that_does_not_fit_is_am04(
    node: ParticipantNode,
) -> None:
    out = from_customers(node, order("BIDV20261201000001", 1_500_000), order("BIDV20261201000002", 1_000_000))

    assert [e.message.transaction_id for e in out] == ["BIDV20261201000001"]  # type: ignore[union-attr]
    assert outbound_row(node, "BIDV20261201000002")["reason"] == "AM04"
    assert node.balances()[f"c:{HONG.account}"].available_vnd == 500_000


@pytest.mark.parametrize(
    ("account", "reason"),
    [(BINH.account, "AC04"), (MAI.account, "AC06"), (UNKNOWN_ACCOUNT, "AC01")],
)
def test_a_payment_from_a_closed_blocked_or_unknown_account_is_refused_without_a_message(
    node: ParticipantNode, account: str, reason: str
) -> None:
    assert from_customers(node, order(amount_vnd=1, debtor_account=account)) == []

    assert outbound_row(node, "BIDV20261201000001")["reason"] == reason
    assert node.outbound_counts() == {"rejected": (1, 1)}


def test_the_same_order_id_twice_pays_once(node: ParticipantNode) -> None:
    first = from_customers(node, order(amount_vnd=300_000))
    second = from_customers(node, order(amount_vnd=300_000), now_ms=NOW + 1_000)

    assert len(first) == 1
    assert second == []
    assert node.balances()[f"c:{HONG.account}"].debits_pending == 300_000
    assert node.outbound_counts() == {"pending": (1, 300_000)}


def test_the_same_order_id_twice_in_one_batch_pays_once(node: ParticipantNode) -> None:
    out = from_customers(node, order(amount_vnd=300_000), order(amount_vnd=300_000))

    assert len(out) == 1
    assert node.balances()[f"c:{HONG.account}"].debits_pending == 300_000


def test_an_undeliverable_credit_transfer_voids_the_hold_as_ab08(node: ParticipantNode) -> None:
    [sent] = from_customers(node, order(amount_vnd=300_000))

    node.handle([Envelope("switch", BIDV, Undeliverable("switch", sent.message))], NOW + 10)

    hong = node.balances()[f"c:{HONG.account}"]
    assert (hong.balance_vnd, hong.available_vnd) == (HONG_OPENING_VND, HONG_OPENING_VND)
    assert node.outbound_counts() == {"rejected": (1, 300_000)}
    assert outbound_row(node, "BIDV20261201000001")["reason"] == "AB08"


def test_a_late_report_after_the_payment_is_final_changes_nothing(node: ParticipantNode) -> None:
    from_customers(node, order(amount_vnd=300_000))
    from_switch(node, final_report("BIDV20261201000001", TransactionStatus.ACSC, debtor_agent=BIDV))

    from_switch(node, final_report("BIDV20261201000001", TransactionStatus.RJCT, StatusReason.AB05, debtor_agent=BIDV))

    assert balance(node, HONG.account) == HONG_OPENING_VND - 300_000
    assert node.outbound_counts() == {"settled": (1, 300_000)}


def test_a_payment_order_without_a_creditor_address_is_refused_and_changes_nothing(node: ParticipantNode) -> None:
    balances = node.balances()

    with pytest.raises(ValueError, match="creditor"):
        from_customers(node, PaymentOrder(order_id="BIDV20261201000009", debtor_account=HONG.account,
                                          amount_vnd=100_000))  # fmt: skip

    assert node.balances() == balances
    assert node.outbound_counts() == {}


def test_a_payment_between_two_customers_of_the_bank_through_the_switch_moves_the_money_once(
    node: ParticipantNode,
) -> None:
    on_us = PaymentOrder(order_id="BIDV20261201000003", debtor_account=HONG.account, amount_vnd=400_000,
                         creditor_agent=BIDV, creditor_account=AN.account, creditor_name="LE VAN AN")  # fmt: skip
    [sent] = from_customers(node, on_us)
    assert isinstance(sent.message, CreditTransfer)
    # the switch forwards the transfer back to us, and then tells both sides it settled
    [accepted] = reports(from_switch(node, sent.message))
    assert accepted.transaction_status == TransactionStatus.ACSP
    settled = final_report("BIDV20261201000003", TransactionStatus.ACSC, debtor_agent=BIDV, creditor_agent=BIDV)

    from_switch(node, settled, settled)

    assert balance(node, HONG.account) == HONG_OPENING_VND - 400_000
    assert balance(node, AN.account) == 400_000
    settlement = node.balances()["settlement"]
    assert settlement.debits_posted == settlement.credits_posted == 400_000
    assert node.outbound_counts() == {"settled": (1, 400_000)}
    assert node.inbound_counts() == {"settled": (1, 400_000)}


# --- admin ----------------------------------------------------------------------------------


def test_opening_deposits_come_from_the_reserves(node: ParticipantNode) -> None:
    assert balance(node, HONG.account) == HONG_OPENING_VND
    assert node.balances()["reserves"].debits_posted == HONG_OPENING_VND


def test_a_blocked_account_refuses_credits_once_the_bank_blocks_it(node: ParticipantNode) -> None:
    node.set_account_status(AN.account, AccountStatus.BLOCKED)

    [answer] = reports(from_switch(node, credit_transfer()))

    assert answer.status_reason == StatusReason.AC06


def test_setting_the_status_of_an_account_that_is_not_ours_is_an_error(node: ParticipantNode) -> None:
    with pytest.raises(KeyError, match=UNKNOWN_ACCOUNT):
        node.set_account_status(UNKNOWN_ACCOUNT, AccountStatus.CLOSED)


def test_funding_moves_money_from_the_reserves_to_the_settlement_account(node: ParticipantNode) -> None:
    node.record_funding(50_000_000, NOW)
    node.record_funding(20_000_000, NOW)

    assert node.balances()["settlement"].debits_posted == 70_000_000
    assert node.balances()["reserves"].credits_posted == 70_000_000


def test_opening_too_many_accounts_in_one_call_is_refused_and_opens_none(node: ParticipantNode) -> None:
    many = [(Customer(f"1202{i:010}", "LE VAN AN", "048070012345"), 0) for i in range(100_001)]

    with pytest.raises(ValueError, match="customers"):
        node.open_accounts(many, NOW)

    assert len(node.customers()) == 5


def test_more_orders_than_one_ledger_batch_holds_are_taken_in_slices_and_all_paid(node: ParticipantNode) -> None:
    orders = [order(f"BIDV2026120{i:07}", amount_vnd=1) for i in range(8_191)]

    out = from_customers(node, *orders)

    sent = [t for e in out for t in grouping.transactions_in(e.message)]
    assert [t.transaction_id for t in sent] == [o.order_id for o in orders]
    # each slice's payments leave as messages of at most a thousand, each transaction carrying its id
    messages = [e.message for e in out if isinstance(e.message, CreditTransferMessage)]
    assert [len(m.transactions) for m in messages] == [TRANSACTIONS_PER_MESSAGE_MAX] * 8 + [190]
    assert all(t.message_id == m.message_id for m in messages for t in m.transactions)
    assert len({m.message_id for m in messages}) == len(messages)
    assert node.outbound_counts() == {"pending": (8_191, 8_191)}


def test_more_payments_than_one_ledger_batch_bouncing_together_are_all_voided_ab08(node: ParticipantNode) -> None:
    orders = [order(f"BIDV2026120{i:07}", amount_vnd=1) for i in range(9_000)]
    out = from_customers(node, *orders)
    messages = [e.message for e in out if isinstance(e.message, CreditTransferMessage)]
    assert sum(len(m.transactions) for m in messages) == 9_000

    # the switch was down: every message comes back at once, more transactions than one ledger batch
    node.handle([Envelope("switch", BIDV, Undeliverable("switch", m)) for m in messages], NOW + 10)

    assert node.outbound_counts() == {"rejected": (9_000, 9_000)}
    assert outbound_row(node, orders[-1].order_id)["reason"] == StatusReason.AB08.value
    assert balance(node, HONG.account) == HONG_OPENING_VND
    node.check_invariants()


def test_a_credit_the_switch_never_sent_closes_when_the_switch_answers_noor(node: ParticipantNode) -> None:
    """A validly signed credit nobody cleared (a forged call) is credited pending like any other; the
    bank's status sweep asks the switch, which knows nothing of it and answers RJCT NOOR: the credit
    is voided, the customer's balance is as before and nothing stays open (issue 14 item 6)."""
    forged = credit_transfer("VCB-FORGED-1", amount_vnd=9_000_000)
    from_switch(node, forged)
    assert pending_credit(node, AN.account) == 9_000_000

    noor = StatusReport(
        original_message_id=forged.transaction_id, original_end_to_end_id=forged.transaction_id,
        original_transaction_id=forged.transaction_id, debtor_agent=VIETCOMBANK,
        transaction_status=TransactionStatus.RJCT, status_reason=StatusReason.NOOR,
    )  # fmt: skip
    from_switch(node, noor, now_ms=NOW + 20_000)

    assert pending_credit(node, AN.account) == 0 and balance(node, AN.account) == 0
    assert node.inbound_counts() == {"reversed": (1, 9_000_000)}
    assert node.books()["open_items"] == 0
    node.check_invariants()


def test_a_stray_noor_after_a_credit_settled_changes_nothing(
    node: ParticipantNode,
) -> None:
    transfer = credit_transfer("VCB-REAL-1")
    from_switch(node, transfer)
    from_switch(node, final_report("VCB-REAL-1", TransactionStatus.ACSC))
    assert balance(node, AN.account) == 500_000  # settled: a later stray NOOR changes nothing
    stray = StatusReport(
        original_message_id="x", original_end_to_end_id="x", original_transaction_id="VCB-REAL-1",
        debtor_agent=VIETCOMBANK, transaction_status=TransactionStatus.RJCT, status_reason=StatusReason.NOOR,
    )  # fmt: skip
    from_switch(node, stray, now_ms=NOW + 20_000)
    assert balance(node, AN.account) == 500_000
    node.check_invariants()


# --- property: the ledger follows the switch's final reports ----------------------------------

PROPERTY_ACCOUNTS = [AN.account, HONG.account, BINH.account, DUC.account, UNKNOWN_ACCOUNT]
REFUSED = {BINH.account, UNKNOWN_ACCOUNT}

transfer_pool = st.lists(
    st.tuples(st.sampled_from(PROPERTY_ACCOUNTS), st.integers(min_value=1, max_value=5_000_000)),
    min_size=1,
    max_size=6,
)
step = st.tuples(st.sampled_from(["deliver", "ACSC", "RJCT"]), st.integers(min_value=0, max_value=5))
inboxes = st.lists(st.lists(step, min_size=1, max_size=4), max_size=12)


@settings(max_examples=40)
@given(pool=transfer_pool, script=inboxes)
def test_customer_balances_always_equal_the_settled_credits_whatever_the_switch_delivers_and_reports(
    pool: list[tuple[str, int]], script: list[list[tuple[str, int]]]
) -> None:
    node = open_node()
    opening = {a: (HONG_OPENING_VND if a == HONG.account else 0) for a in PROPERTY_ACCOUNTS}
    state: dict[int, str] = {}  # transfer index -> credited / settled / reversed / rejected

    for number, inbox in enumerate(script):
        messages: list[object] = []
        for kind, index in inbox:
            index %= len(pool)
            tx = f"VCB2026120100{index:04}"
            if kind == "deliver":
                messages.append(credit_transfer(tx=tx, account=pool[index][0], amount_vnd=pool[index][1]))
            else:
                reason = StatusReason.AB05 if kind == "RJCT" else None
                messages.append(final_report(tx, TransactionStatus(kind), reason, amount_vnd=pool[index][1]))

        answers = reports(from_switch(node, *messages, now_ms=NOW + number * 1_000))

        # the model: the node reads the switch's reports of an inbox before its transfers
        for kind, index in inbox:
            index %= len(pool)
            if kind == "ACSC" and state.get(index) == "credited":
                state[index] = "settled"
            elif kind == "RJCT" and state.get(index) == "credited":
                state[index] = "reversed"
            elif kind == "RJCT" and index not in state:
                state[index] = "rejected"  # the tombstone
        expected_answers = []
        for kind, index in inbox:
            index %= len(pool)
            if kind != "deliver":
                continue
            if index not in state:
                state[index] = "rejected" if pool[index][0] in REFUSED else "credited"
            refused = state[index] in ("rejected", "reversed")
            expected_answers.append(TransactionStatus.RJCT if refused else TransactionStatus.ACSP)
        assert [a.transaction_status for a in answers] == expected_answers

    balances = node.balances()
    for account in (a for a in PROPERTY_ACCOUNTS if a != UNKNOWN_ACCOUNT):
        settled = sum(pool[i][1] for i, s in state.items() if s == "settled" and pool[i][0] == account)
        credited = sum(pool[i][1] for i, s in state.items() if s == "credited" and pool[i][0] == account)
        ledger_account = balances[f"c:{account}"]
        assert ledger_account.balance_vnd == opening[account] + settled
        assert ledger_account.credits_pending == credited
    all_settled = sum(pool[i][1] for i, s in state.items() if s == "settled")
    all_credited = sum(pool[i][1] for i, s in state.items() if s == "credited")
    assert (balances["settlement"].debits_posted, balances["settlement"].debits_pending) == (all_settled, all_credited)
    counts = {s: sum(1 for v in state.values() if v == s) for s in set(state.values())}
    assert {s: n for s, (n, _amount) in node.inbound_counts().items()} == counts
    node.check_invariants()
