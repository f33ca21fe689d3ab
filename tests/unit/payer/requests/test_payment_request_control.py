"""The Treasury controls (maker–checker): a filed request is reviewed against the list as it is now
and the budgets, returned with every reason that applies or approved by a second person, corrected
and filed again as a new version; an approved request never changes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from payment_request_data import (
    AMPLE_BUDGETS_VND,
    MOLISA_OFFICER,
    NOW_MS,
    OTHER_MOLISA_OFFICER,
    TREASURY_APPROVER,
    TREASURY_PREPARER,
    line,
    payment_list,
)

from payer.requests import core
from payer.requests.errors import (
    AlreadyApproved,
    InputInvalid,
    MakerCannotCheck,
    NotApproved,
    NotFiled,
    NotReturned,
    ReviewNotApproving,
    RoleRefused,
    VersionsExhausted,
)
from payer.requests.schemas import (
    VERSIONS_PER_REQUEST_MAX,
    Finding,
    Officer,
    PaymentRequest,
    RequestState,
    ReturnReason,
    Role,
    Totals,
)
from switch.scheme.codes import Program
from switch.scheme.summary import Cell

LINES = [line(1, Program.MERIT_PERSON), line(2), line(3, Program.ELDERLY), line(4, Program.DISABILITY)]
REQUEST_ID = "MOLISA-2026-05-001"
# The same person as the approver, acting as a MOLISA officer on another day.
APPROVER_AS_MOLISA = Officer(officer_id=TREASURY_APPROVER.officer_id, name="Lê Thị Hoa", role=Role.MOLISA_OFFICER)
CHECKING_PREPARER = Officer(officer_id="kbnn.vu.thi.hanh", name="Vũ Thị Hạnh", role=Role.TREASURY_PREPARER)


def filed(by: Officer = TREASURY_PREPARER, prepared_by: Officer = MOLISA_OFFICER, **kwargs) -> PaymentRequest:
    return core.file(payment_list(LINES, prepared_by), REQUEST_ID, by, NOW_MS, **kwargs)


def approved() -> PaymentRequest:
    request = filed()
    return core.approve(request, core.review(request, LINES, AMPLE_BUDGETS_VND, TREASURY_APPROVER), NOW_MS + 1)


def returned() -> PaymentRequest:
    request = filed()
    reason = Finding(reason=ReturnReason.OTHER, field="lines", detail="the commune's signed list is missing")
    return core.return_request(request, [reason], CHECKING_PREPARER, NOW_MS + 1)


def reasons(findings: tuple[Finding, ...]) -> list[tuple[ReturnReason, str]]:
    return [(f.reason, f.field) for f in findings]


# --- filing --------------------------------------------------------------------------------------------


def test_a_filed_request_is_version_one_with_the_lists_totals_digest_and_who_prepared_and_filed_it() -> None:
    request = filed()
    assert (request.request_id, request.cycle, request.version, request.state) == (
        REQUEST_ID,
        "2026-05",
        1,
        RequestState.FILED,
    )
    assert request.current.digest == core.digest(LINES)
    assert request.current.totals == core.totals(LINES)
    assert (request.current.prepared_by, request.current.filed_by, request.current.filed_ms) == (
        MOLISA_OFFICER,
        TREASURY_PREPARER,
        NOW_MS,
    )
    assert request.makers == {MOLISA_OFFICER.officer_id, TREASURY_PREPARER.officer_id}


def test_a_treasury_approver_does_not_file_a_request() -> None:
    with pytest.raises(RoleRefused, match=r"filed_by.role: treasury_approver is not a role that files"):
        filed(by=TREASURY_APPROVER)


def test_a_list_with_no_lines_is_refused() -> None:
    with pytest.raises(InputInvalid, match=r"lines: a payment list pays at least one person"):
        core.file(payment_list([]), REQUEST_ID, MOLISA_OFFICER, NOW_MS)


def test_a_person_twice_under_one_program_is_refused_naming_the_line() -> None:
    with pytest.raises(InputInvalid, match=r"lines\[2\]\.citizen_id: this person is already on the list"):
        core.file(payment_list([line(1), line(2), line(1)]), REQUEST_ID, MOLISA_OFFICER, NOW_MS)


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        (replace(line(1), amount_vnd=0), "amount_vnd"),
        (replace(line(1), amount_vnd=100_000_001), "amount_vnd"),
        (replace(line(1), province_code="079" if line(1).province_code != "079" else "001"), "province_code"),
        (replace(line(1), citizen_id="00109001234"), "citizen_id"),
        (replace(line(1), name=""), "name"),
        (replace(line(1), name="Nguyễn Văn\nAn"), "name"),
    ],
)
def test_a_line_breaking_a_rule_is_refused_naming_its_field(broken, field: str) -> None:
    with pytest.raises(InputInvalid, match=rf"lines\[1\]\.{field}: "):
        core.file(payment_list([line(2), broken]), REQUEST_ID, MOLISA_OFFICER, NOW_MS)


def test_a_stated_digest_that_is_not_the_lists_is_refused_as_a_damaged_list() -> None:
    with pytest.raises(InputInvalid, match=r"digest: .* is not the digest of the lines filed"):
        filed(stated_digest=core.digest(LINES[:3]))
    assert filed(stated_digest=core.digest(LINES)).current.digest == core.digest(LINES)


def test_stated_totals_with_a_province_that_does_not_exist_are_refused() -> None:
    totals = core.totals(LINES)
    wrong = Totals(by_program=totals.by_program, by_province={"999": totals.grand}, grand=totals.grand)
    with pytest.raises(InputInvalid, match=r"totals.by_province: \['999'\] are not CCCD province codes"):
        filed(stated_totals=wrong)


def test_a_request_id_with_spaces_is_refused() -> None:
    with pytest.raises(InputInvalid, match=r"request_id: must be 1 to 27"):
        core.file(payment_list(LINES), "MOLISA 2026 05", MOLISA_OFFICER, NOW_MS)


def test_a_request_id_too_long_to_name_its_payment_orders_messages_is_refused_at_filing() -> None:
    """28 characters would leave no room for "-V12-P20" within ISO 20022's 35."""
    with pytest.raises(InputInvalid, match=r"request_id: must be 1 to 27"):
        core.file(payment_list(LINES), "MOLISA-2026-05-HCM-Q1-000001", MOLISA_OFFICER, NOW_MS)


# --- review: approve -----------------------------------------------------------------------------------


def test_an_unchanged_list_within_budget_is_approved_by_a_second_person() -> None:
    request = approved()
    assert request.state == RequestState.APPROVED
    assert (request.current.decided_by, request.current.decided_ms) == (TREASURY_APPROVER, NOW_MS + 1)
    core.check_payable(request)


def test_the_lines_may_come_in_any_order_at_review() -> None:
    request = filed()
    assert core.review(request, list(reversed(LINES)), AMPLE_BUDGETS_VND, TREASURY_APPROVER).approves


def test_nothing_is_paid_before_approval() -> None:
    with pytest.raises(NotApproved, match=r"state: version 1 is filed: nothing is paid before approval"):
        core.check_payable(filed())


def test_whoever_filed_the_request_never_checks_it() -> None:
    request = filed(by=OTHER_MOLISA_OFFICER)
    checker_too = Officer(officer_id=OTHER_MOLISA_OFFICER.officer_id, name="Phạm Văn Đức", role=Role.TREASURY_APPROVER)
    with pytest.raises(MakerCannotCheck, match=r"officer: molisa.pham.van.duc prepared or filed this request"):
        core.review(request, LINES, AMPLE_BUDGETS_VND, checker_too)


def test_whoever_prepared_the_list_never_approves_it_even_in_another_role() -> None:
    request = filed(prepared_by=APPROVER_AS_MOLISA)
    with pytest.raises(MakerCannotCheck):
        core.review(request, LINES, AMPLE_BUDGETS_VND, TREASURY_APPROVER)
    forged = core.Review(REQUEST_ID, 1, TREASURY_APPROVER, core.digest(LINES), core.totals(LINES), ())
    with pytest.raises(MakerCannotCheck):
        core.approve(request, forged, NOW_MS)


def test_whoever_prepared_an_earlier_version_never_approves_a_later_one() -> None:
    first = core.file(payment_list(LINES, APPROVER_AS_MOLISA), REQUEST_ID, TREASURY_PREPARER, NOW_MS)
    reason = Finding(reason=ReturnReason.OTHER, field="lines", detail="a commune is missing")
    back = core.return_request(first, [reason], CHECKING_PREPARER, NOW_MS + 1)
    again = core.correct(back, payment_list(LINES, MOLISA_OFFICER), MOLISA_OFFICER, NOW_MS + 2)
    with pytest.raises(MakerCannotCheck):
        core.review(again, LINES, AMPLE_BUDGETS_VND, TREASURY_APPROVER)


def test_a_treasury_preparer_checks_and_returns_but_never_approves() -> None:
    request = filed(by=MOLISA_OFFICER)
    review = core.review(request, LINES, AMPLE_BUDGETS_VND, CHECKING_PREPARER)
    assert review.approves
    with pytest.raises(RoleRefused, match=r"approved_by.role: treasury_preparer is not a role that approves"):
        core.approve(request, review, NOW_MS)


def test_a_molisa_officer_never_checks_a_request() -> None:
    with pytest.raises(RoleRefused, match=r"officer.role: molisa_officer is not a role that checks"):
        core.review(filed(), LINES, AMPLE_BUDGETS_VND, OTHER_MOLISA_OFFICER)


def test_a_second_approval_is_refused() -> None:
    request = approved()
    second = Officer(officer_id="kbnn.do.van.minh", name="Đỗ Văn Minh", role=Role.TREASURY_APPROVER)
    with pytest.raises(AlreadyApproved, match=r"state: version 1 was approved by kbnn.le.thi.hoa"):
        core.review(request, LINES, AMPLE_BUDGETS_VND, second)
    forged = core.Review(REQUEST_ID, 1, second, core.digest(LINES), core.totals(LINES), ())
    with pytest.raises(AlreadyApproved):
        core.approve(request, forged, NOW_MS + 2)


def test_an_approved_request_is_never_returned_corrected_or_changed() -> None:
    request = approved()
    reason = Finding(reason=ReturnReason.OTHER, field="lines", detail="second thoughts")
    with pytest.raises(AlreadyApproved):
        core.return_request(request, [reason], CHECKING_PREPARER, NOW_MS + 2)
    with pytest.raises(AlreadyApproved):
        core.correct(request, payment_list(LINES[:2]), MOLISA_OFFICER, NOW_MS + 2)
    with pytest.raises(AlreadyApproved):
        core.check_lines_may_change(request)


def test_an_approval_needs_a_review_of_this_version_without_findings() -> None:
    request = filed()
    review = core.review(request, LINES[:3], AMPLE_BUDGETS_VND, TREASURY_APPROVER)
    with pytest.raises(ReviewNotApproving, match=r"review: the review found 4 reasons to return the request"):
        core.approve(request, review, NOW_MS)
    clean = core.review(request, LINES, AMPLE_BUDGETS_VND, TREASURY_APPROVER)
    with pytest.raises(ReviewNotApproving, match=r"the review is of MOLISA-2026-05-001 version 2"):
        core.approve(request, replace(clean, version=2), NOW_MS)


# --- review: return with every reason --------------------------------------------------------------------


def test_a_list_changed_after_filing_is_returned_for_its_digest_and_its_totals() -> None:
    request = filed()
    changed = [*LINES[:3], replace(LINES[3], amount_vnd=LINES[3].amount_vnd + 500_000)]
    review = core.review(request, changed, AMPLE_BUDGETS_VND, TREASURY_APPROVER)
    province = LINES[3].province_code
    assert reasons(review.findings) == [
        (ReturnReason.LIST_CHANGED_AFTER_FILING, "digest"),
        (ReturnReason.TOTALS_DO_NOT_ADD_UP, "totals.grand"),
        (ReturnReason.TOTALS_DO_NOT_ADD_UP, "totals.by_program.disability"),
        (ReturnReason.TOTALS_DO_NOT_ADD_UP, f"totals.by_province.{province}"),
    ]
    assert review.findings[0].detail == f"filed {core.digest(LINES)}, the list now {core.digest(changed)}"


def test_a_name_changed_after_filing_changes_the_digest_but_no_total() -> None:
    request = filed()
    changed = [replace(LINES[0], name="Nguyễn Văn Bình"), *LINES[1:]]
    review = core.review(request, changed, AMPLE_BUDGETS_VND, TREASURY_APPROVER)
    assert reasons(review.findings) == [(ReturnReason.LIST_CHANGED_AFTER_FILING, "digest")]


def test_totals_that_do_not_add_up_are_returned_naming_each_total_and_the_figures() -> None:
    actual = core.totals(LINES)
    merit = actual.by_program[Program.MERIT_PERSON]
    stated = Totals(
        by_program={**actual.by_program, Program.MERIT_PERSON: Cell(count=1, amount_vnd=merit.amount_vnd + 1_000)},
        by_province=actual.by_province,
        grand=actual.grand,
    )
    request = filed(stated_totals=stated)
    review = core.review(request, LINES, AMPLE_BUDGETS_VND, TREASURY_APPROVER)
    assert reasons(review.findings) == [
        (ReturnReason.TOTALS_DO_NOT_ADD_UP, "totals.by_program.merit_person"),
        (ReturnReason.TOTALS_DO_NOT_ADD_UP, "totals.by_program"),
    ]
    assert review.findings[0].detail == (
        f"filed 1 lines, {merit.amount_vnd + 1_000:,} VND; the list adds up to 1 lines, {merit.amount_vnd:,} VND"
    )


def test_a_program_over_its_budget_and_a_program_without_one_are_both_returned() -> None:
    budgets = {**AMPLE_BUDGETS_VND, Program.MERIT_PERSON: 1_000_000}
    del budgets[Program.ELDERLY]
    review = core.review(filed(), LINES, budgets, TREASURY_APPROVER)
    assert reasons(review.findings) == [
        (ReturnReason.NO_BUDGET, "budgets_vnd_by_program.elderly"),
        (ReturnReason.OVER_BUDGET, "budgets_vnd_by_program.merit_person"),
    ]
    assert "is over its budget of 1,000,000 VND" in review.findings[1].detail


def test_a_budget_that_is_not_a_whole_number_of_vnd_is_refused() -> None:
    with pytest.raises(InputInvalid, match=r"budgets_vnd_by_program.elderly: must be a whole number of VND"):
        core.review(filed(), LINES, {Program.ELDERLY: 1.5}, TREASURY_APPROVER)  # type: ignore[dict-item]


def test_decide_returns_a_request_with_findings_with_all_of_them() -> None:
    request = filed()
    review = core.review(request, LINES[:3], {}, TREASURY_APPROVER)
    decided = core.decide(request, review, NOW_MS + 5)
    assert decided.state == RequestState.RETURNED
    assert decided.current.findings == review.findings
    assert decided.current.decided_by == TREASURY_APPROVER


def test_a_return_needs_a_reason() -> None:
    with pytest.raises(InputInvalid, match=r"findings: a request is returned with at least one reason"):
        core.return_request(filed(), [], TREASURY_APPROVER, NOW_MS)


def test_every_return_reason_says_what_it_means() -> None:
    assert all(reason.meaning for reason in ReturnReason)
    assert "digest" in ReturnReason.LIST_CHANGED_AFTER_FILING.meaning


# --- correction ----------------------------------------------------------------------------------------


def test_a_returned_request_is_corrected_as_a_new_version_with_its_own_digest() -> None:
    corrected_lines = LINES[:3]
    again = core.correct(returned(), payment_list(corrected_lines), MOLISA_OFFICER, NOW_MS + 2)
    assert [v.state for v in again.versions] == [RequestState.RETURNED, RequestState.FILED]
    assert again.version == 2
    assert again.current.digest == core.digest(corrected_lines) != again.versions[0].digest
    assert again.versions[0].findings[0].detail == "the commune's signed list is missing"
    approved_now = core.decide(again, core.review(again, corrected_lines, AMPLE_BUDGETS_VND, TREASURY_APPROVER), 9)
    assert approved_now.state == RequestState.APPROVED
    assert core.invariant_problems(approved_now) == []


def test_a_request_still_filed_is_not_corrected_but_returned_first() -> None:
    with pytest.raises(NotReturned, match=r"state: version 1 is filed: only a returned request is corrected"):
        core.correct(filed(), payment_list(LINES[:2]), MOLISA_OFFICER, NOW_MS)


def test_a_returned_version_is_not_checked_again() -> None:
    with pytest.raises(NotFiled, match=r"state: version 1 is returned: only a filed version is checked"):
        core.review(returned(), LINES, AMPLE_BUDGETS_VND, TREASURY_APPROVER)
    with pytest.raises(NotFiled):
        core.check_lines_may_change(returned())


def test_a_correction_keeps_the_cycle() -> None:
    other_cycle = replace(payment_list(LINES), cycle="2026-06")
    with pytest.raises(InputInvalid, match=r"cycle: 2026-06 is not the request's cycle, 2026-05"):
        core.correct(returned(), other_cycle, MOLISA_OFFICER, NOW_MS)


def test_a_request_is_filed_at_most_twelve_times() -> None:
    request = filed()
    reason = Finding(reason=ReturnReason.OTHER, field="lines", detail="again")
    for attempt in range(VERSIONS_PER_REQUEST_MAX):
        request = core.return_request(request, [reason], TREASURY_APPROVER, NOW_MS + attempt)
        if attempt < VERSIONS_PER_REQUEST_MAX - 1:
            request = core.correct(request, payment_list(LINES), MOLISA_OFFICER, NOW_MS + attempt)
    assert len(request.versions) == VERSIONS_PER_REQUEST_MAX
    with pytest.raises(VersionsExhausted, match=r"version: a request is filed at most 12 times"):
        core.correct(request, payment_list(LINES), MOLISA_OFFICER, NOW_MS)
