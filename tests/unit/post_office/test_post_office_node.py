"""post_office.node: the post office on its own database and ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cash_list_data import BEN_NGHE, DAY_MS, DEADLINE_MS, OPENS_MS, TRUC_BACH, cash_list, claim_for, daughter_of, line
from sqlalchemy import Engine

from ledger import LedgerInvariantViolation
from post_office.core import Visit
from post_office.errors import (
    AlreadyFunded,
    AlreadyPaid,
    CashListExists,
    CashListNotFound,
    DeadlinePassed,
    FundingAmountWrong,
    IdentityMismatch,
    NotFunded,
    NotOnCashList,
    PostOfficeError,
    ReturnAmountWrong,
)
from post_office.node import AccountKind, PostOfficeNode, account_id
from post_office.schemas import CashList, CashPayoutKnobs, Funding, PayoutState, Tally

REQUEST = "PR-2026-12-HN-001"


@pytest.fixture
def post_office(engine: Engine) -> Iterator[PostOfficeNode]:
    node = PostOfficeNode("Vietnam Post", engine)
    node.setup()
    yield node
    node.check_invariants()


def funding(cash: CashList, amount_vnd: int | None = None) -> Funding:
    return Funding(
        request_id=cash.request_id,
        commune_code=cash.commune_code,
        funding_id="KBNN-20261201-01",
        amount_vnd=cash.total_vnd if amount_vnd is None else amount_vnd,
    )


def received_and_funded(node: PostOfficeNode, size: int = 5, commune: tuple[str, str, str] = TRUC_BACH) -> CashList:
    cash = cash_list(size, commune)
    node.receive_cash_list(cash, OPENS_MS)
    node.fund(funding(cash), OPENS_MS)
    return cash


def ledger_vnd(node: PostOfficeNode, cash: CashList) -> dict[str, int]:
    with node.engine.begin() as conn:
        ids = {kind: account_id(kind, cash.request_id, cash.commune_code) for kind in (1, 2, 3, 4)}
        accounts = node.ledger.lookup_accounts(conn, ids.values())
    return {
        "funded": accounts[ids[AccountKind.TREASURY]].credits_posted,
        "held": accounts[ids[AccountKind.CASH]].debits_posted - accounts[ids[AccountKind.CASH]].credits_posted,
        "paid": accounts[ids[AccountKind.PAID]].debits_posted,
        "returned": accounts[ids[AccountKind.RETURNED]].debits_posted,
    }


def test_a_funded_list_holds_its_total_in_cash_for_the_commune(post_office: PostOfficeNode) -> None:
    cash = received_and_funded(post_office)
    assert ledger_vnd(post_office, cash) == {"funded": cash.total_vnd, "held": cash.total_vnd, "paid": 0, "returned": 0}
    assert post_office.by_state(REQUEST, TRUC_BACH[0]).awaiting == Tally(count=5, amount_vnd=cash.total_vnd)


def test_a_payout_moves_cash_in_hand_to_paid_out_and_records_who_collected(post_office: PostOfficeNode) -> None:
    cash = received_and_funded(post_office)
    first, second = cash.lines[0], cash.lines[1]
    post_office.pay(REQUEST, TRUC_BACH[0], claim_for(first), OPENS_MS + DAY_MS)
    post_office.pay(REQUEST, TRUC_BACH[0], claim_for(second, daughter_of(second)), OPENS_MS + 2 * DAY_MS)
    paid = first.amount_vnd + second.amount_vnd
    assert ledger_vnd(post_office, cash) == {
        "funded": cash.total_vnd, "held": cash.total_vnd - paid, "paid": paid, "returned": 0,
    }  # fmt: skip
    payouts = post_office.payouts(REQUEST, TRUC_BACH[0])
    assert [p.state for p in payouts] == [PayoutState.PAID, PayoutState.PAID_TO_REPRESENTATIVE]
    assert payouts[1].representative == daughter_of(second)
    assert payouts[1].paid_ms == OPENS_MS + 2 * DAY_MS


def test_closing_and_returning_sends_back_exactly_what_nobody_claimed(post_office: PostOfficeNode) -> None:
    cash = received_and_funded(post_office)
    post_office.pay(REQUEST, TRUC_BACH[0], claim_for(cash.lines[0]), OPENS_MS + DAY_MS)
    closing = post_office.close(REQUEST, TRUC_BACH[0], DEADLINE_MS)
    unclaimed_vnd = cash.total_vnd - cash.lines[0].amount_vnd
    assert closing.unclaimed == Tally(count=4, amount_vnd=unclaimed_vnd)
    post_office.return_unclaimed(REQUEST, TRUC_BACH[0], unclaimed_vnd, DEADLINE_MS + DAY_MS)
    assert ledger_vnd(post_office, cash) == {
        "funded": cash.total_vnd, "held": 0, "paid": cash.lines[0].amount_vnd, "returned": unclaimed_vnd,
    }  # fmt: skip
    states = post_office.line_states(REQUEST, TRUC_BACH[0])
    assert sorted(states.values()) == sorted([PayoutState.PAID] + [PayoutState.RETURNED] * 4)
    totals = post_office.check_invariants()
    assert totals.funded == totals.paid + totals.paid_to_representative + totals.returned + totals.held


@dataclass(frozen=True)
class Snapshot:
    ledger: dict[str, int]
    states: dict[str, PayoutState]


def snapshot(node: PostOfficeNode, cash: CashList) -> Snapshot:
    return Snapshot(ledger_vnd(node, cash), node.line_states(cash.request_id, cash.commune_code))


def test_every_bad_input_is_refused_with_its_error_and_moves_nothing(post_office: PostOfficeNode) -> None:
    cash = received_and_funded(post_office)
    post_office.pay(REQUEST, TRUC_BACH[0], claim_for(cash.lines[0]), OPENS_MS + DAY_MS)
    before = snapshot(post_office, cash)
    stranger = line(3, commune=BEN_NGHE).model_copy(update={"line_id": "E2E00004999999"})
    attempts: list[tuple[type[PostOfficeError], object]] = [
        (NotOnCashList, lambda: post_office.pay(REQUEST, TRUC_BACH[0], claim_for(stranger), OPENS_MS)),
        (AlreadyPaid, lambda: post_office.pay(REQUEST, TRUC_BACH[0], claim_for(cash.lines[0]), OPENS_MS + DAY_MS)),
        (IdentityMismatch, lambda: post_office.pay(
            REQUEST, TRUC_BACH[0], claim_for(cash.lines[2]).model_copy(update={"line_id": cash.lines[1].line_id}),
            OPENS_MS)),
        (DeadlinePassed, lambda: post_office.pay(REQUEST, TRUC_BACH[0], claim_for(cash.lines[1]), DEADLINE_MS)),
        (AlreadyFunded, lambda: post_office.fund(funding(cash, amount_vnd=cash.total_vnd - 1), OPENS_MS)),
        (CashListExists, lambda: post_office.receive_cash_list(cash_list(4), OPENS_MS)),
        (CashListNotFound, lambda: post_office.close(REQUEST, BEN_NGHE[0], DEADLINE_MS)),
    ]  # fmt: skip
    for error, attempt in attempts:
        with pytest.raises(error):
            attempt()  # type: ignore[operator]
        assert snapshot(post_office, cash) == before, f"{error.__name__} moved something"


def test_a_return_larger_than_what_was_sent_is_refused_and_moves_nothing(post_office: PostOfficeNode) -> None:
    cash = received_and_funded(post_office, size=3)
    post_office.close(REQUEST, TRUC_BACH[0], DEADLINE_MS)
    before = snapshot(post_office, cash)
    with pytest.raises(ReturnAmountWrong, match="more than"):
        post_office.return_unclaimed(REQUEST, TRUC_BACH[0], cash.total_vnd + 1, DEADLINE_MS)
    assert snapshot(post_office, cash) == before


def test_nobody_is_paid_from_a_list_the_treasury_has_not_funded_nor_funded_short(post_office: PostOfficeNode) -> None:
    cash = cash_list(3)
    post_office.receive_cash_list(cash, OPENS_MS)
    with pytest.raises(FundingAmountWrong):
        post_office.fund(funding(cash, amount_vnd=cash.total_vnd - 500_000), OPENS_MS)
    with pytest.raises(NotFunded):
        post_office.pay(REQUEST, TRUC_BACH[0], claim_for(cash.lines[0]), OPENS_MS)
    assert post_office.check_invariants().not_funded == Tally(count=3, amount_vnd=cash.total_vnd)


def test_the_same_list_and_the_same_funding_delivered_again_change_nothing(post_office: PostOfficeNode) -> None:
    cash = received_and_funded(post_office)
    again = post_office.receive_cash_list(cash, OPENS_MS + 1)
    post_office.fund(funding(cash), OPENS_MS + 1)
    assert again == post_office.status(REQUEST, TRUC_BACH[0])
    assert ledger_vnd(post_office, cash)["funded"] == cash.total_vnd


def test_a_batch_of_visits_pays_each_once_and_refuses_the_second_visit_for_the_same_person(
    post_office: PostOfficeNode,
) -> None:
    cash = received_and_funded(post_office)
    first = cash.lines[0]
    visits = [Visit(OPENS_MS + DAY_MS, claim_for(first)), Visit(OPENS_MS + DAY_MS + 1, claim_for(first))]
    outcomes = post_office.pay_visits(REQUEST, TRUC_BACH[0], visits)
    assert not isinstance(outcomes[0], PostOfficeError)
    assert isinstance(outcomes[1], AlreadyPaid)
    assert ledger_vnd(post_office, cash)["paid"] == first.amount_vnd


def test_two_communes_keep_their_own_cash_and_the_post_office_adds_them_up(post_office: PostOfficeNode) -> None:
    hanoi = received_and_funded(post_office, 4, TRUC_BACH)
    saigon = received_and_funded(post_office, 6, BEN_NGHE)
    post_office.pay(REQUEST, BEN_NGHE[0], claim_for(saigon.lines[0]), OPENS_MS + DAY_MS)
    assert ledger_vnd(post_office, hanoi)["paid"] == 0
    totals = post_office.check_invariants()
    assert totals.lists == 2
    assert totals.funded == Tally(count=10, amount_vnd=hanoi.total_vnd + saigon.total_vnd)
    assert totals.paid == Tally(count=1, amount_vnd=saigon.lines[0].amount_vnd)


def test_a_simulated_collection_pays_about_the_share_collected_and_the_rest_is_returned(
    post_office: PostOfficeNode,
) -> None:
    cash = received_and_funded(post_office, size=120)

    class Clock:
        now_ms = OPENS_MS

    knobs = CashPayoutKnobs(share_collected=0.9, days_to_collect=7, representative_share=0.2)
    report = post_office.simulate_collection(REQUEST, TRUC_BACH[0], knobs, random.Random(2026), Clock())
    assert report.refused == [] and len(report.paid) == report.visits
    assert 95 <= report.visits <= 119
    assert any(p.state == PayoutState.PAID_TO_REPRESENTATIVE for p in report.paid)
    closing = post_office.close(REQUEST, TRUC_BACH[0], DEADLINE_MS)
    assert closing.unclaimed.count == 120 - report.visits
    post_office.return_unclaimed(REQUEST, TRUC_BACH[0], closing.unclaimed.amount_vnd, DEADLINE_MS)
    paid_vnd = sum(p.amount_vnd for p in report.paid)
    assert ledger_vnd(post_office, cash) == {
        "funded": cash.total_vnd, "held": 0, "paid": paid_vnd, "returned": cash.total_vnd - paid_vnd,
    }  # fmt: skip


def test_a_ledger_that_disagrees_with_the_lines_is_caught_before_the_next_operation(
    post_office: PostOfficeNode,
) -> None:
    cash = received_and_funded(post_office, size=2)
    with post_office.engine.begin() as conn:  # a payout recorded without its money moving: a bug
        from post_office import repository
        from post_office.schemas import Payout

        repository.record_payouts(conn, [Payout(request_id=REQUEST, commune_code=TRUC_BACH[0],
            line_id=cash.lines[0].line_id, amount_vnd=cash.lines[0].amount_vnd, state=PayoutState.PAID,
            paid_ms=OPENS_MS)])  # fmt: skip
    with pytest.raises(AssertionError, match="the ledger says"):
        post_office.pay(REQUEST, TRUC_BACH[0], claim_for(cash.lines[1]), OPENS_MS + DAY_MS)
    with pytest.raises((AssertionError, LedgerInvariantViolation)):
        post_office.check_invariants()
    with post_office.engine.begin() as conn:  # put it back, so the fixture's final check passes
        from sqlalchemy import update

        conn.execute(update(repository.LINES).values(state=PayoutState.AWAITING.value))
