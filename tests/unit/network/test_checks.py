"""network.checks: the invariants checked after every run, and that each breach is named.

Every test builds a small in-memory network (Vietcombank and BIDV), lets Nguyễn Văn Đức pay Lê Văn
An once, and then, in most tests, tampers with one database the way a bug would.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from banks.node import RESERVES, SETTLEMENT, customer_account
from banks.schemas import Customer, PaymentOrder
from ledger import Transfer, TransferResult
from network.checks import check_invariants
from network.participants import DEFAULT_PARTICIPANTS
from network.sandbox import Sandbox
from network.storage import Storage

VIETCOMBANK, BIDV = "970436", "970418"
DUC = "0011001234567"  # Vietcombank, NGUYEN VAN DUC, opens with 10,000,000 VND
AN = "12010000123456"  # BIDV, LE VAN AN, opens with 1,000,000 VND
OPENING_VND = 11_000_000
PAID_VND = 250_000


def two_customers() -> Sandbox:
    sandbox = Sandbox(Storage(), participants=[p for p in DEFAULT_PARTICIPANTS if p.bin in (VIETCOMBANK, BIDV)])
    sandbox.open_accounts(VIETCOMBANK, [(Customer(DUC, "NGUYEN VAN DUC", "001090012345"), 10_000_000)])
    sandbox.open_accounts(BIDV, [(Customer(AN, "LE VAN AN", "048070012345"), 1_000_000)])
    return sandbox


def pay_an(sandbox: Sandbox, order_id: str = "P-1", amount_vnd: int = PAID_VND, account: str = AN) -> None:
    order = PaymentOrder(
        order_id=order_id, debtor_account=DUC, amount_vnd=amount_vnd, creditor_agent=BIDV, creditor_account=account
    )
    sandbox.pay(VIETCOMBANK, [order])


@pytest.fixture
def paid() -> Sandbox:
    """Đức has paid An 250,000 VND and the network is quiet."""
    sandbox = two_customers()
    pay_an(sandbox)
    sandbox.run()
    return sandbox


def post(sandbox: Sandbox, bin_code: str, transfer: Transfer) -> None:
    """A posted ledger transfer that no message caused: what a bug in a node would do."""
    node = sandbox.nodes[bin_code]
    with node.engine.begin() as conn:
        assert node.ledger.create_transfers(conn, [transfer], sandbox.now_ms) == [TransferResult.OK]


def execute(sandbox: Sandbox, bin_code: str | None, sql: str, **params: object) -> None:
    engine = sandbox.switch.engine if bin_code is None else sandbox.nodes[bin_code].engine
    with engine.begin() as conn:
        assert conn.execute(text(sql), params).rowcount == 1


def failures_about(sandbox: Sandbox, invariant: str) -> list[str]:
    return [f for f in check_invariants(sandbox).failures if f.startswith(invariant)]


# --- all hold ------------------------------------------------------------------------------------


def test_after_one_settled_payment_every_invariant_holds(paid: Sandbox) -> None:
    report = check_invariants(paid)

    assert report.ok, report.failures
    assert report.failures == []
    assert (report.settled_count, report.settled_vnd) == (1, PAID_VND)
    assert report.customer_money_vnd == report.opening_deposits_vnd == OPENING_VND


def test_a_network_where_nothing_happened_holds_every_invariant_with_zero_figures() -> None:
    report = check_invariants(Sandbox(Storage(), participants=DEFAULT_PARTICIPANTS[:2]))

    assert report.ok
    assert (report.settled_count, report.settled_vnd, report.customer_money_vnd, report.opening_deposits_vnd) == (
        0,
        0,
        0,
        0,
    )


def test_a_payment_the_creditors_bank_refused_leaves_every_invariant_holding() -> None:
    sandbox = two_customers()
    pay_an(sandbox, "P-AC01", account="12010000999999")  # no such account at BIDV
    sandbox.run()

    report = check_invariants(sandbox)

    assert report.ok, report.failures
    assert (report.settled_count, report.customer_money_vnd) == (0, OPENING_VND)


# --- money made or lost -------------------------------------------------------------------------


def test_money_credited_to_a_customer_from_nowhere_breaks_conservation(paid: Sandbox) -> None:
    post(paid, BIDV, Transfer("bug:1", RESERVES, customer_account(AN), 1_000))

    report = check_invariants(paid)

    assert report.failures == [f"conservation: customers hold {OPENING_VND + 1_000} VND, they were given {OPENING_VND}"]
    assert report.customer_money_vnd == OPENING_VND + 1_000
    assert not report.ok


def test_a_settlement_account_that_no_longer_mirrors_the_switch_position_breaks_conservation(paid: Sandbox) -> None:
    held = paid.switch.positions()[BIDV].liquidity_vnd
    post(paid, BIDV, Transfer("bug:2", SETTLEMENT, RESERVES, 5_000))

    assert failures_about(paid, "conservation") == [
        f"conservation: {BIDV} books {held + 5_000} VND at the switch, which holds {held}"
    ]


def test_a_balance_changed_behind_the_ledgers_back_unbalances_that_ledger(paid: Sandbox) -> None:
    execute(
        paid,
        BIDV,
        "UPDATE ledger_account SET credits_posted = credits_posted + 1000 WHERE id = :id",
        id=customer_account(AN),
    )

    failures = check_invariants(paid).failures

    assert any(f.startswith(f"ledger of {BIDV}: ledger does not balance") for f in failures), failures
    assert f"conservation: customers hold {OPENING_VND + 1_000} VND, they were given {OPENING_VND}" in failures
    assert not any(f.startswith(f"ledger of {VIETCOMBANK}") for f in failures)


def test_a_transfer_row_written_without_its_balances_is_caught_by_the_ledger_check(paid: Sandbox) -> None:
    execute(
        paid,
        VIETCOMBANK,
        "INSERT INTO ledger_transfer (id, debit_account_id, credit_account_id, amount_vnd, kind, pending_id,"
        " pending_status, code, timestamp_ms) VALUES ('bug:3', 'reserves', :c, 7000, 0, NULL, 0, 0, 0)",
        c=customer_account(DUC),
    )

    failures = failures_about(paid, f"ledger of {VIETCOMBANK}")

    assert len(failures) == 1 and "disagree with transfers" in failures[0]


def test_a_tampered_switch_ledger_is_reported_as_the_switch_ledger(paid: Sandbox) -> None:
    execute(
        paid,
        None,
        "UPDATE ledger_account SET debits_posted = debits_posted + 1 WHERE id = "
        "(SELECT id FROM ledger_account ORDER BY id LIMIT 1)",
    )

    failures = check_invariants(paid).failures

    assert any(f.startswith("switch ledger: ledger does not balance") for f in failures), failures


# --- paid once and final states ------------------------------------------------------------------------


def test_a_creditor_bank_that_books_more_than_the_switch_settled_breaks_paid_once(paid: Sandbox) -> None:
    execute(paid, BIDV, "UPDATE node_inbound SET amount_vnd = amount_vnd * 2 WHERE status = 'settled'")

    assert failures_about(paid, "paid once") == [
        f"paid once: creditors credited (1, {2 * PAID_VND}), the switch settled (1, {PAID_VND})"
    ]


def test_a_debtor_bank_that_lost_its_settled_payment_breaks_paid_once(paid: Sandbox) -> None:
    execute(paid, VIETCOMBANK, "UPDATE node_outbound SET status = 'rejected' WHERE transaction_id = 'P-1'")

    assert failures_about(paid, "paid once") == [f"paid once: debtors paid (0, 0), the switch settled (1, {PAID_VND})"]


def test_a_payment_in_flight_fails_quiescence_and_final_states_until_the_network_is_quiet() -> None:
    sandbox = two_customers()
    pay_an(sandbox)
    sandbox.run(until_ms=sandbox.now_ms + 10)  # the credit has reached BIDV; its answer has not come back

    report = check_invariants(sandbox)

    assert not report.ok
    quiescence = [f for f in report.failures if f.startswith("quiescence")]
    assert quiescence == [f"quiescence: {sandbox.network.pending()} messages still in flight"]
    assert sandbox.network.pending() > 0
    final = [f for f in report.failures if f.startswith("final state")]
    assert "final state: 1 transfers still PDNG at the switch" in final
    assert f"final state: {VIETCOMBANK} holds payments never answered: (1, {PAID_VND})" in final
    assert f"final state: {BIDV} holds credits never confirmed: (1, {PAID_VND})" in final
    assert f"final state: {PAID_VND} VND still reserved for {VIETCOMBANK}" in final

    sandbox.run()

    assert check_invariants(sandbox).ok


def test_every_broken_invariant_is_reported_not_only_the_first(paid: Sandbox) -> None:
    post(paid, BIDV, Transfer("bug:4", RESERVES, customer_account(AN), 1_000))
    post(paid, VIETCOMBANK, Transfer("bug:5", SETTLEMENT, RESERVES, 1_000))
    pay_an(paid, "P-2")

    failures = check_invariants(paid).failures

    assert {f.split(":")[0] for f in failures} == {"quiescence", "conservation"}
    assert len([f for f in failures if f.startswith("conservation")]) == 2
