"""post_office.core: the decisions of the post office's counter, without a database."""

from __future__ import annotations

import random

import pytest
from cash_list_data import (
    BEN_NGHE,
    DAY_MS,
    DEADLINE_MS,
    OPENS_MS,
    PHUC_XA,
    TRUC_BACH,
    cash_list,
    claim_for,
    daughter_of,
    line,
)
from pydantic import ValidationError

from payer.requests.schemas import LINE_AMOUNT_VND_MAX as PAYER_LINE_AMOUNT_VND_MAX
from post_office import core
from post_office.errors import (
    AlreadyClosed,
    AlreadyFunded,
    AlreadyPaid,
    AlreadyReturned,
    CashListExists,
    CashListInvalid,
    CollectionOpen,
    DeadlinePassed,
    FundingAmountWrong,
    IdentityMismatch,
    NotClosed,
    NotFunded,
    NotOnCashList,
    RepresentativeInvalid,
    ReturnAmountWrong,
)
from post_office.schemas import (
    LINE_AMOUNT_VND_MAX,
    CashList,
    CashListLine,
    CashPayoutKnobs,
    CashReason,
    Funding,
    ListStatus,
    PayoutClaim,
    PayoutState,
    Representative,
    cash_reason_for,
)
from switch.scheme.codes import Program, StatusReason


def funded(status: ListStatus) -> ListStatus:
    decided = core.decide_funding(status, funding_for(status))
    assert decided is not None
    return decided


def funding_for(status: ListStatus, amount_vnd: int | None = None, funding_id: str = "KBNN-20261201-01") -> Funding:
    return Funding(
        request_id=status.request_id,
        commune_code=status.commune_code,
        funding_id=funding_id,
        amount_vnd=status.total.amount_vnd if amount_vnd is None else amount_vnd,
    )


def with_lines(lines: tuple[CashListLine, ...], total_vnd: int | None = None) -> CashList:
    base = cash_list()
    total = sum(item.amount_vnd for item in lines) if total_vnd is None else total_vnd
    return base.model_copy(update={"lines": lines, "total_vnd": total})


# --- accepting a list ---------------------------------------------------------------------------


def test_a_commune_list_whose_lines_add_up_is_accepted_with_its_count_and_total() -> None:
    status = core.accept(cash_list(5))
    assert status.total.count == 5
    assert status.total.amount_vnd == sum(item.amount_vnd for item in cash_list(5).lines)
    assert not status.is_funded and status.closed_ms is None


def test_a_list_whose_stated_total_differs_from_its_lines_is_refused_naming_the_total() -> None:
    lines = cash_list(3).lines
    with pytest.raises(CashListInvalid) as refused:
        core.accept(with_lines(lines, total_vnd=sum(item.amount_vnd for item in lines) + 1))
    assert refused.value.field == "total_vnd"


def test_a_line_twice_in_a_list_is_refused_naming_the_line() -> None:
    first = line(0)
    with pytest.raises(CashListInvalid) as refused:
        core.accept(with_lines((first, line(1), first)))
    assert refused.value.field == "lines[2].line_id"


def test_the_same_person_twice_for_one_program_is_refused_even_under_another_line_id() -> None:
    first = line(0)
    again = first.model_copy(update={"line_id": "E2E00004999999"})
    with pytest.raises(CashListInvalid) as refused:
        core.accept(with_lines((first, again)))
    assert refused.value.field == "lines[1].citizen_id"


def test_the_same_person_on_the_list_for_two_programs_is_two_lines() -> None:
    social = line(0)
    merit = social.model_copy(update={"line_id": "E2E00004999999", "program": Program.MERIT_PERSON})
    assert core.accept(with_lines((social, merit))).total.count == 2


def test_a_line_over_the_limit_is_refused_naming_its_amount() -> None:
    too_much = line(1, amount_vnd=LINE_AMOUNT_VND_MAX + 1)
    with pytest.raises(CashListInvalid) as refused:
        core.accept(with_lines((line(0), too_much)))
    assert refused.value.field == "lines[1].amount_vnd"


def test_the_line_limit_is_the_payers_payment_list_limit() -> None:
    assert LINE_AMOUNT_VND_MAX == PAYER_LINE_AMOUNT_VND_MAX


def test_a_line_of_another_commune_is_refused() -> None:
    with pytest.raises(CashListInvalid) as refused:
        core.accept(with_lines((line(0), line(1, commune=PHUC_XA))))
    assert refused.value.field == "lines[1].commune_code"


def test_the_same_list_received_again_is_the_list_already_held_and_another_is_refused() -> None:
    status = core.accept(cash_list(3))
    assert core.accept_again(status, cash_list(3)) == status
    with pytest.raises(CashListExists):
        core.accept_again(status, cash_list(4))


def test_the_digest_does_not_depend_on_the_order_of_the_lines() -> None:
    lines = cash_list(4).lines
    assert core.digest(with_lines(lines)) == core.digest(with_lines(tuple(reversed(lines))))
    assert core.digest(with_lines(lines)) != core.digest(with_lines(lines[:3]))


# --- lines and reasons --------------------------------------------------------------------------


def test_someone_not_yet_issued_a_citizen_id_is_on_the_list_with_the_document_they_show() -> None:
    item = line(3, reason=CashReason.NO_CITIZEN_ID_YET)
    assert item.citizen_id is None
    assert item.identity_number == item.identity_document


def test_a_line_without_a_citizen_id_needs_the_no_citizen_id_reason() -> None:
    fields = line(0, reason=CashReason.FRAIL_ELDERLY).model_dump()
    with pytest.raises(ValidationError, match="citizen_id"):
        CashListLine.model_validate(fields | {"citizen_id": None, "identity_document": "Giấy xác nhận số 4/XN-UBND"})


def test_a_switch_reason_keeps_its_iso_20022_code_and_the_others_have_none() -> None:
    fields = line(0, reason=CashReason.FRAIL_ELDERLY).model_dump()
    with pytest.raises(ValidationError, match="status_reason"):
        CashListLine.model_validate(fields | {"status_reason": StatusReason.BE23})
    with pytest.raises(ValidationError, match="status_reason"):
        CashListLine.model_validate(fields | {"reason": CashReason.NO_REGISTERED_ACCOUNT})


def test_the_switchs_reasons_map_to_cash_reasons_a_reader_understands() -> None:
    assert cash_reason_for(StatusReason.BE23) == CashReason.NO_REGISTERED_ACCOUNT
    assert cash_reason_for(StatusReason.AB05) == CashReason.PARTICIPANT_UNREACHABLE
    assert cash_reason_for(StatusReason.AB08) == CashReason.PARTICIPANT_UNREACHABLE
    assert cash_reason_for(StatusReason.AC04) == CashReason.ACCOUNT_REFUSED
    assert all(cash_reason_for(reason).from_switch for reason in StatusReason)


def test_every_cash_reason_has_a_plain_meaning() -> None:
    assert all(reason.meaning for reason in CashReason)


def test_a_commune_code_has_five_digits() -> None:
    with pytest.raises(ValidationError, match="commune_code"):
        CashListLine.model_validate(line(0).model_dump() | {"commune_code": "0004"})


# --- funding -----------------------------------------------------------------------------------


def test_the_treasury_funds_a_list_for_exactly_its_total() -> None:
    status = funded(core.accept(cash_list(3)))
    assert status.funded == status.total and status.is_funded


def test_a_funding_of_another_amount_is_refused() -> None:
    status = core.accept(cash_list(3))
    with pytest.raises(FundingAmountWrong) as refused:
        core.decide_funding(status, funding_for(status, amount_vnd=status.total.amount_vnd - 500_000))
    assert refused.value.field == "amount_vnd"


def test_the_same_funding_delivered_twice_changes_nothing_and_a_second_funding_is_refused() -> None:
    status = funded(core.accept(cash_list(3)))
    assert core.decide_funding(status, funding_for(status)) is None
    with pytest.raises(AlreadyFunded):
        core.decide_funding(status, funding_for(status, funding_id="KBNN-20261201-02"))


# --- paying -------------------------------------------------------------------------------------


def test_the_beneficiary_with_their_id_is_paid_the_amount_on_the_list() -> None:
    status = funded(core.accept(cash_list(3)))
    item = line(1)
    payout = core.decide_payout(status, item, PayoutState.AWAITING, claim_for(item), OPENS_MS + DAY_MS)
    assert payout.state == PayoutState.PAID
    assert payout.amount_vnd == item.amount_vnd and payout.representative is None


def test_a_representative_with_an_authorisation_is_paid_and_recorded_as_such() -> None:
    status = funded(core.accept(cash_list(3)))
    item = line(0)
    daughter = daughter_of(item)
    payout = core.decide_payout(status, item, PayoutState.AWAITING, claim_for(item, daughter), OPENS_MS + DAY_MS)
    assert payout.state == PayoutState.PAID_TO_REPRESENTATIVE
    assert payout.representative == daughter


def test_someone_not_on_the_list_is_refused() -> None:
    status = funded(core.accept(cash_list(3)))
    stranger = line(7, commune=BEN_NGHE)
    with pytest.raises(NotOnCashList) as refused:
        core.decide_payout(status, None, None, claim_for(stranger), OPENS_MS)
    assert refused.value.field == "line_id"


def test_a_person_already_paid_is_refused_the_second_time() -> None:
    status = funded(core.accept(cash_list(3)))
    item = line(0)
    for state in (PayoutState.PAID, PayoutState.PAID_TO_REPRESENTATIVE):
        with pytest.raises(AlreadyPaid):
            core.decide_payout(status, item, state, claim_for(item), OPENS_MS)


def test_an_id_that_is_not_the_beneficiarys_is_refused() -> None:
    status = funded(core.accept(cash_list(3)))
    item = line(0)
    with pytest.raises(IdentityMismatch) as refused:
        core.decide_payout(status, item, PayoutState.AWAITING, claim_for(line(1)).model_copy(
            update={"line_id": item.line_id}), OPENS_MS)  # fmt: skip
    assert refused.value.field == "presented_id"


def test_the_beneficiary_cannot_be_their_own_representative() -> None:
    status = funded(core.accept(cash_list(3)))
    item = line(0)
    assert item.citizen_id is not None
    themselves = Representative(citizen_id=item.citizen_id, name=item.name, authorisation_reference="Giấy ủy quyền")
    with pytest.raises(RepresentativeInvalid):
        core.decide_payout(status, item, PayoutState.AWAITING, claim_for(item, themselves), OPENS_MS)


def test_a_representative_without_an_authorisation_reference_is_not_a_representative() -> None:
    with pytest.raises(ValidationError, match="authorisation_reference"):
        Representative(citizen_id="001175777000", name="Nguyễn Thị Minh Châu", authorisation_reference="")


def test_nobody_is_paid_before_the_treasury_funds_the_list() -> None:
    status = core.accept(cash_list(3))
    with pytest.raises(NotFunded):
        core.decide_payout(status, line(0), PayoutState.AWAITING, claim_for(line(0)), OPENS_MS)


def test_nobody_is_paid_at_or_after_the_deadline() -> None:
    status = funded(core.accept(cash_list(3)))
    core.decide_payout(status, line(0), PayoutState.AWAITING, claim_for(line(0)), DEADLINE_MS - 1)
    with pytest.raises(DeadlinePassed):
        core.decide_payout(status, line(0), PayoutState.AWAITING, claim_for(line(0)), DEADLINE_MS)


def test_someone_without_a_citizen_id_is_paid_on_the_document_on_the_list() -> None:
    item = line(2, reason=CashReason.NO_CITIZEN_ID_YET)
    status = funded(core.accept(with_lines((line(0), item))))
    claim = PayoutClaim(line_id=item.line_id, presented_id=str(item.identity_document))
    assert core.decide_payout(status, item, PayoutState.AWAITING, claim, OPENS_MS).state == PayoutState.PAID


# --- closing and returning -----------------------------------------------------------------------


def test_closing_at_the_deadline_makes_everyone_who_did_not_come_unclaimed() -> None:
    status = funded(core.accept(cash_list(3)))
    closing = core.decide_close(status, {"E2E00004000002": 1_500_000, "E2E00004000000": 500_000}, DEADLINE_MS)
    assert closing.line_ids == ("E2E00004000000", "E2E00004000002")
    assert (closing.unclaimed.count, closing.unclaimed.amount_vnd) == (2, 2_000_000)


def test_a_list_is_not_closed_before_its_deadline_nor_twice_nor_unfunded() -> None:
    status = core.accept(cash_list(3))
    with pytest.raises(NotFunded):
        core.decide_close(status, {}, DEADLINE_MS)
    with pytest.raises(CollectionOpen):
        core.decide_close(funded(status), {}, DEADLINE_MS - 1)
    with pytest.raises(AlreadyClosed):
        core.decide_close(funded(status).model_copy(update={"closed_ms": DEADLINE_MS}), {}, DEADLINE_MS)


def test_the_unclaimed_money_goes_back_whole_and_a_larger_return_is_refused() -> None:
    closed = funded(core.accept(cash_list(3))).model_copy(update={"closed_ms": DEADLINE_MS})
    unclaimed = {"E2E00004000001": 1_000_000}
    with pytest.raises(ReturnAmountWrong, match="more than"):
        core.decide_return(closed, unclaimed, 1_000_001, DEADLINE_MS)
    with pytest.raises(ReturnAmountWrong):
        core.decide_return(closed, unclaimed, 999_999, DEADLINE_MS)
    returned = core.decide_return(closed, unclaimed, 1_000_000, DEADLINE_MS)
    assert returned.returned.amount_vnd == 1_000_000 and returned.line_ids == ("E2E00004000001",)


def test_nothing_is_returned_before_closing_nor_twice_nor_when_everyone_came() -> None:
    status = funded(core.accept(cash_list(3)))
    with pytest.raises(NotClosed):
        core.decide_return(status, {}, 1, DEADLINE_MS)
    closed = status.model_copy(update={"closed_ms": DEADLINE_MS})
    with pytest.raises(ReturnAmountWrong):
        core.decide_return(closed, {}, 0, DEADLINE_MS)
    with pytest.raises(AlreadyReturned):
        core.decide_return(closed.model_copy(update={"returned_ms": DEADLINE_MS}), {}, 0, DEADLINE_MS)


# --- knobs and the simulated collection ------------------------------------------------------------


def test_knobs_outside_their_limits_are_refused() -> None:
    with pytest.raises(ValidationError, match="share_collected"):
        CashPayoutKnobs(share_collected=1.5)
    with pytest.raises(ValidationError, match="days_to_collect"):
        CashPayoutKnobs(days_to_collect=0)
    with pytest.raises(ValidationError, match="days_to_collect"):
        CashPayoutKnobs(days_to_collect=61)


def test_a_collection_plan_is_the_same_for_the_same_seed() -> None:
    lines = cash_list(40).lines
    first = core.plan_collection(lines, CashPayoutKnobs(), random.Random(7), OPENS_MS, DEADLINE_MS)
    again = core.plan_collection(lines, CashPayoutKnobs(), random.Random(7), OPENS_MS, DEADLINE_MS)
    assert first == again


def test_a_collection_plan_puts_every_visit_in_the_window_and_in_time_order() -> None:
    lines = cash_list(200, commune=PHUC_XA).lines
    knobs = CashPayoutKnobs(share_collected=0.8, days_to_collect=5, representative_share=0.25)
    visits = core.plan_collection(lines, knobs, random.Random(11), OPENS_MS, DEADLINE_MS)
    assert all(OPENS_MS <= visit.at_ms < OPENS_MS + 5 * DAY_MS for visit in visits)
    assert [visit.at_ms for visit in visits] == sorted(visit.at_ms for visit in visits)
    assert len({visit.claim.line_id for visit in visits}) == len(visits)
    assert 120 <= len(visits) <= 190  # about 80% of 200
    representatives = [visit.claim.representative for visit in visits if visit.claim.representative]
    assert 0 < len(representatives) < len(visits)
    by_line = {item.line_id: item for item in lines}
    assert all(r.citizen_id != by_line[v.claim.line_id].citizen_id for v in visits if (r := v.claim.representative))


def test_nobody_comes_when_the_share_collected_is_zero_and_everyone_when_it_is_one() -> None:
    lines = cash_list(30, commune=TRUC_BACH).lines
    nobody, everyone = (
        core.plan_collection(lines, CashPayoutKnobs(share_collected=share), random.Random(1), OPENS_MS, DEADLINE_MS)
        for share in (0.0, 1.0)
    )
    assert nobody == [] and len(everyone) == 30
