"""The payer node, on an SQLite file and on PostgreSQL: each step of a payment request is one
transaction that makes the change and appends its audit entry; a refused action changes nothing and
adds exactly one REFUSED entry naming the action, the field and the rule; after the whole story
(prepared, filed, a list changed after filing and returned for it, corrected, approved) the chain
verifies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from payer.audit import repository as audit_repository
from payer.audit.schemas import AuditAction, AuditEntry
from payer.node import PayerAction, PayerNode, budgets_for_rolls, budgets_vnd
from payer.registry import Person, PopulationRegistry, citizen_id_for
from payer.requests import core, repository
from payer.requests.errors import (
    AlreadyApproved,
    Conflict,
    InputInvalid,
    MakerCannotCheck,
    NotApproved,
    NotFound,
    NotReturned,
    RequestError,
    RequestExists,
    RequestNotFound,
    ReviewNotApproving,
    RoleRefused,
)
from payer.requests.schemas import (
    ExclusionReason,
    Finding,
    Officer,
    PaymentListLine,
    PaymentRequest,
    RequestState,
    ReturnReason,
    Role,
    ServingBank,
)
from payer.rolls import Beneficiary
from switch.scheme.codes import Program
from switch.scheme.disbursement import ITEMS_PER_FILE_MAX
from switch.scheme.pain import parse_pain001

CYCLE = "2026-12"
NOW_MS = 1_796_058_000_000  # 2026-12-01 00:00 in Hanoi
REQUEST_ID = "MOLISA-2026-12-HN-0001"
MOLISA = Officer(officer_id="molisa.nguyen.thi.lan", name="Nguyễn Thị Lan", role=Role.MOLISA_OFFICER)
PREPARER = Officer(officer_id="kbnn.tran.van.duc", name="Trần Văn Đức", role=Role.TREASURY_PREPARER)
APPROVER = Officer(officer_id="kbnn.le.hoang.yen", name="Lê Hoàng Yến", role=Role.TREASURY_APPROVER)
# The MOLISA officer holds an approver's key too: maker–checker compares people, not keys.
MOLISA_AS_APPROVER = Officer(officer_id=MOLISA.officer_id, name=MOLISA.name, role=Role.TREASURY_APPROVER)

PEOPLE_NAMES = (
    ("Phạm Quốc Bảo", False), ("Đặng Thu Hà", True), ("Vũ Minh Khôi", False), ("Hoàng Thị Mai", True),
    ("Bùi Văn Sơn", False), ("Ngô Thị Ngọc", True), ("Đỗ Văn Phúc", False), ("Lý Thị Quỳnh", True),
)  # fmt: skip


def people() -> list[Person]:
    found = []
    for serial, (name, female) in enumerate(PEOPLE_NAMES, start=1):
        born = date(1940 + serial, serial, 10 + serial)
        found.append(Person(citizen_id_for("001", born, female, 200_000 + serial), name, born, "001", female, ""))
    return found


def registry_and_rolls() -> tuple[PopulationRegistry, list[Beneficiary]]:
    """Eight people of Hà Nội on the rolls; one has died, one is written under another's name, and a
    ninth has no citizen id on the roll: six are paid."""
    everyone = people()
    registry = PopulationRegistry(everyone)
    registry.record_death(everyone[7].citizen_id)
    programs = [Program.ELDERLY, Program.SOCIAL_ASSISTANCE, Program.MERIT_PERSON, Program.DISABILITY]
    rolls = [
        Beneficiary(person.citizen_id, person.name, programs[index % 4], 10 if index % 4 != 3 else 20)
        for index, person in enumerate(everyone)
    ]
    rolls[5] = Beneficiary(everyone[5].citizen_id, "Trương Văn Tuấn", rolls[5].program, rolls[5].coefficient_tenths)
    rolls.append(Beneficiary("", "Mai Thị Yến", Program.ELDERLY, 10))
    return registry, rolls


@pytest.fixture
def node(engine: Engine) -> PayerNode:
    registry, rolls = registry_and_rolls()
    payer = PayerNode(engine, registry, rolls)
    payer.setup()
    return payer


def entries(node: PayerNode) -> list[AuditEntry]:
    with node.engine.connect() as conn:
        return audit_repository.page(conn, 0, 1_000)


def actions(node: PayerNode) -> list[tuple[str, str, str]]:
    return [(entry.action, entry.subject, entry.actor) for entry in entries(node)]


def lines_of(node: PayerNode, version: int) -> list[PaymentListLine]:
    return node.lines_page(REQUEST_ID, version)


def filed(node: PayerNode) -> PaymentRequest:
    return node.file(REQUEST_ID, CYCLE, MOLISA, NOW_MS).request


def returned_for(node: PayerNode, findings: list[Finding], version: int = 1) -> PaymentRequest:
    return node.return_request(REQUEST_ID, version, findings, PREPARER, NOW_MS + 2_000)


def test_the_rolls_are_checked_against_the_registry_and_the_list_is_filed_as_two_steps(node: PayerNode) -> None:
    filing = node.file(REQUEST_ID, CYCLE, MOLISA, NOW_MS)
    assert filing.new and filing.request.state == RequestState.FILED
    paid = lines_of(node, 1)
    assert len(paid) == 6
    prepared, filed_entry = entries(node)
    assert (prepared.action, filed_entry.action) == (AuditAction.PREPARED, AuditAction.FILED)
    assert prepared.subject == filed_entry.subject == f"{REQUEST_ID}/v1"
    assert prepared.actor == MOLISA.officer_id and prepared.role == Role.MOLISA_OFFICER.value
    assert prepared.details["excluded"] == {
        ExclusionReason.DECEASED.value: 1, ExclusionReason.IDENTITY_MISMATCH.value: 1,
        ExclusionReason.NO_CITIZEN_ID.value: 1,
    }  # fmt: skip
    assert filed_entry.details["digest"] == core.digest(paid) == filing.request.current.digest
    assert filed_entry.details["amount_vnd"] == sum(line.amount_vnd for line in paid)
    assert filed_entry.details["officer_name"] == "Nguyễn Thị Lan"


def test_the_whole_story_is_one_entry_a_step_and_the_chain_verifies(node: PayerNode) -> None:
    filed(node)
    first = lines_of(node, 1)[0]
    node.change_line(REQUEST_ID, 1, PaymentListLine(**{**_fields(first), "amount_vnd": 5_000_000}), MOLISA, NOW_MS + 1)
    assert len(entries(node)) == 2, "a change after filing is no step of the trail: the digest shows it"
    review = node.review(REQUEST_ID, 1, PREPARER, NOW_MS + 1_000)
    assert [f.reason for f in review.findings][:1] == [ReturnReason.LIST_CHANGED_AFTER_FILING]
    assert len(entries(node)) == 2, "a review changes nothing and records nothing"
    returned_for(node, list(review.findings))
    node.correct(REQUEST_ID, 1, MOLISA, NOW_MS + 3_000)
    approved = node.approve(REQUEST_ID, 2, APPROVER, NOW_MS + 4_000)
    assert [v.state for v in approved.versions] == [RequestState.RETURNED, RequestState.APPROVED]
    assert actions(node) == [
        ("prepared", f"{REQUEST_ID}/v1", MOLISA.officer_id), ("filed", f"{REQUEST_ID}/v1", MOLISA.officer_id),
        ("returned", f"{REQUEST_ID}/v1", PREPARER.officer_id), ("prepared", f"{REQUEST_ID}/v2", MOLISA.officer_id),
        ("filed", f"{REQUEST_ID}/v2", MOLISA.officer_id), ("approved", f"{REQUEST_ID}/v2", APPROVER.officer_id),
    ]  # fmt: skip
    returned_entry = entries(node)[2]
    assert ReturnReason.LIST_CHANGED_AFTER_FILING.value in returned_entry.details["reasons"]
    assert [e.sequence for e in node.timeline(REQUEST_ID)] == [1, 2, 3, 4, 5, 6]
    report = node.verify_audit()
    assert report.ok and report.entries == 6 and report.head is not None and report.head.sequence == 6


def test_a_list_given_as_lines_is_filed_as_one_step_with_the_totals_and_digest_stated(node: PayerNode) -> None:
    node.file(REQUEST_ID, CYCLE, MOLISA, NOW_MS)
    given = lines_of(node, 1)
    other_id = "MOLISA-2026-12-HN-0002"
    node.file(other_id, CYCLE, MOLISA, NOW_MS + 1, given, core.totals(given), core.digest(given))
    assert [entry.action for entry in node.timeline(other_id)] == [AuditAction.FILED]


def test_filing_the_same_list_again_answers_the_request_and_records_nothing(node: PayerNode) -> None:
    first = node.file(REQUEST_ID, CYCLE, MOLISA, NOW_MS)
    again = node.file(REQUEST_ID, CYCLE, MOLISA, NOW_MS + 60_000)
    assert not again.new and again.request == first.request
    assert len(entries(node)) == 2


# --- refusals ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A refused action, what it is refused as, and what the node must look like before it."""

    before: Callable[[PayerNode], Any]
    act: Callable[[PayerNode], Any]
    error: type[RequestError]
    action: PayerAction
    field: str


def _fields(line: PaymentListLine) -> dict[str, Any]:
    return {
        "citizen_id": line.citizen_id, "name": line.name, "province_code": line.province_code,
        "program": line.program, "amount_vnd": line.amount_vnd,
    }  # fmt: skip


def _approved(node: PayerNode) -> None:
    filed(node)
    node.approve(REQUEST_ID, 1, APPROVER, NOW_MS + 1_000)


def _returned(node: PayerNode) -> None:
    filed(node)
    returned_for(node, [Finding(reason=ReturnReason.OTHER, field="lines", detail="xã Tây Tựu is missing")])


def _first_line_at(amount_vnd: int) -> Callable[[PayerNode], Any]:
    def act(node: PayerNode) -> None:
        first = lines_of(node, 1)[0]
        node.change_line(REQUEST_ID, 1, PaymentListLine(**{**_fields(first), "amount_vnd": amount_vnd}), MOLISA, NOW_MS)

    return act


def _negative_line(node: PayerNode) -> None:
    given = [*lines_of(node, 1)]
    given[0] = PaymentListLine(**{**_fields(given[0]), "amount_vnd": -500_000})
    node.file("MOLISA-2026-12-HN-0002", CYCLE, MOLISA, NOW_MS, given)


def _another_list_under_the_same_id(node: PayerNode) -> None:
    node.file(REQUEST_ID, CYCLE, MOLISA, NOW_MS, lines_of(node, 1)[:2])


REFUSALS = {
    "an approval by the preparer": Refusal(
        filed, lambda n: n.approve(REQUEST_ID, 1, PREPARER, NOW_MS + 9), RoleRefused, PayerAction.APPROVE,
        "officer.role",
    ),
    "an approval by the person who filed it, with an approver's key": Refusal(
        filed, lambda n: n.approve(REQUEST_ID, 1, MOLISA_AS_APPROVER, NOW_MS + 9), MakerCannotCheck,
        PayerAction.APPROVE, "officer",
    ),
    "a second approval": Refusal(
        _approved, lambda n: n.approve(REQUEST_ID, 1, APPROVER, NOW_MS + 9), AlreadyApproved, PayerAction.APPROVE,
        "state",
    ),
    "an approval of a list changed after filing": Refusal(
        lambda n: (filed(n), _first_line_at(4_000_000)(n)), lambda n: n.approve(REQUEST_ID, 1, APPROVER, NOW_MS + 9),
        ReviewNotApproving, PayerAction.APPROVE, "review",
    ),
    "an approval of a version that is not the current one": Refusal(
        filed, lambda n: n.approve(REQUEST_ID, 2, APPROVER, NOW_MS + 9), Conflict, PayerAction.APPROVE, "version",
    ),
    "a line changed after approval": Refusal(
        _approved, _first_line_at(1_000_000), AlreadyApproved, PayerAction.CHANGE_LINE, "state",
    ),
    "a line changed by the Treasury": Refusal(
        filed,
        lambda n: n.change_line(REQUEST_ID, 1, lines_of(n, 1)[0], PREPARER, NOW_MS), RoleRefused,
        PayerAction.CHANGE_LINE, "by.role",
    ),
    "a review by MOLISA": Refusal(
        filed, lambda n: n.review(REQUEST_ID, 1, MOLISA, NOW_MS), RoleRefused, PayerAction.REVIEW, "officer.role",
    ),
    "a return without a reason": Refusal(
        filed, lambda n: returned_for(n, []), InputInvalid, PayerAction.RETURN, "findings",
    ),
    "a correction of a request that was never returned": Refusal(
        filed, lambda n: n.correct(REQUEST_ID, 1, MOLISA, NOW_MS), NotReturned, PayerAction.CORRECT, "state",
    ),
    "a correction by the Treasury's preparer": Refusal(
        _returned, lambda n: n.correct(REQUEST_ID, 1, PREPARER, NOW_MS), RoleRefused, PayerAction.CORRECT,
        "prepared_by.role",
    ),
    "a list with a negative amount": Refusal(
        filed, _negative_line, InputInvalid, PayerAction.FILE, "lines[0].amount_vnd",
    ),
    "another list under an id already filed": Refusal(
        filed, _another_list_under_the_same_id, RequestExists, PayerAction.FILE, "request_id",
    ),
    "a return of a request never filed": Refusal(
        lambda n: None, lambda n: returned_for(n, [Finding(reason=ReturnReason.OTHER, field="lines", detail="x")]),
        RequestNotFound, PayerAction.RETURN, "request_id",
    ),
}  # fmt: skip


def state_of(node: PayerNode) -> tuple[Any, ...]:
    """Everything the node holds about the request: its versions, every version's lines."""
    with node.engine.connect() as conn:
        request = repository.find_request(conn, REQUEST_ID)
        versions = request.versions if request else ()
        lines = [repository.load_lines(conn, REQUEST_ID, v.version) for v in versions]
        others = repository.request_ids(conn)
    return request, lines, others


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_refused_action_changes_nothing_and_adds_exactly_one_refused_entry(node: PayerNode, name: str) -> None:
    refusal = REFUSALS[name]
    refusal.before(node)
    held, trail = state_of(node), entries(node)
    with pytest.raises(refusal.error) as raised:
        refusal.act(node)
    assert state_of(node) == held
    after = entries(node)
    assert after[: len(trail)] == trail and len(after) == len(trail) + 1
    refused = after[-1]
    assert refused.action == AuditAction.REFUSED
    assert refused.subject.startswith(f"{REQUEST_ID}/v") or refused.subject.startswith("MOLISA-2026-12-HN-0002/v")
    assert refused.details["refused"] == refusal.action.value
    assert (refused.details["field"], refused.details["rule"]) == (raised.value.field, raised.value.rule)
    assert refused.details["field"] == refusal.field
    assert node.verify_audit().ok


def test_a_refusal_of_a_request_id_that_is_no_id_is_recorded_under_no_request(node: PayerNode) -> None:
    with pytest.raises(InputInvalid):
        node.file("not an id, with spaces", CYCLE, MOLISA, NOW_MS)
    (refused,) = entries(node)
    assert (refused.action, refused.subject, refused.details["field"]) == ("refused", "unnamed-request", "request_id")


def test_a_program_over_its_budget_is_found_by_the_review_and_cannot_be_approved(engine: Engine) -> None:
    registry, rolls = registry_and_rolls()
    budgets = {**budgets_for_rolls(rolls), Program.ELDERLY: 400_000}
    node = PayerNode(engine, registry, rolls, budgets)
    node.setup()
    filed(node)
    review = node.review(REQUEST_ID, 1, APPROVER, NOW_MS + 1)
    assert [(f.reason, f.field) for f in review.findings] == [
        (ReturnReason.OVER_BUDGET, "budgets_vnd_by_program.elderly")
    ]
    with pytest.raises(ReviewNotApproving):
        node.approve(REQUEST_ID, 1, APPROVER, NOW_MS + 2)
    assert node.request(REQUEST_ID).state == RequestState.FILED


def test_a_budget_is_the_expected_count_at_the_programs_highest_amount() -> None:
    assert budgets_vnd({Program.SOCIAL_ASSISTANCE: 1_000, Program.MERIT_PERSON: 10}) == {
        Program.SOCIAL_ASSISTANCE: 1_000 * 1_500_000,
        Program.MERIT_PERSON: 10 * 5_578_000,
    }


def test_a_budget_that_is_not_whole_vnd_is_refused_when_the_node_is_built(engine: Engine) -> None:
    with pytest.raises(ValueError, match="budgets_vnd_by_program"):
        PayerNode(engine, budgets_vnd_by_program={Program.ELDERLY: -1})


def test_the_lines_read_a_page_at_a_time_are_the_version_in_order(node: PayerNode) -> None:
    filed(node)
    everything = lines_of(node, 1)
    pages: list[PaymentListLine] = []
    after = None
    while True:
        page = node.lines_page(REQUEST_ID, 1, after, limit=4)
        pages += page
        if len(page) < 4:
            break
        after = (page[-1].citizen_id, page[-1].program)
    assert pages == everything == sorted(everything, key=lambda line: line.key)
    with pytest.raises(RequestError):
        node.lines_page(REQUEST_ID, 2)


def test_versions_by_state_count_what_the_node_holds(node: PayerNode) -> None:
    _returned(node)
    node.correct(REQUEST_ID, 1, MOLISA, NOW_MS + 5)
    assert node.versions_by_state() == {RequestState.FILED: 1, RequestState.RETURNED: 1, RequestState.APPROVED: 0}


# --- the payment order to the serving bank -------------------------------------------------------

VIETINBANK = ServingBank(bin="970415", name="VietinBank", treasury_account="9704159000001")


def ordering_node(engine: Engine, items_per_order_part: int) -> PayerNode:
    registry, rolls = registry_and_rolls()
    payer = PayerNode(engine, registry, rolls, serving_bank=VIETINBANK, items_per_order_part=items_per_order_part)
    payer.setup()
    return payer


def test_the_approved_list_is_ordered_from_the_serving_bank_in_parts_and_nothing_is_recorded(engine: Engine) -> None:
    node = ordering_node(engine, items_per_order_part=4)
    _approved(node)
    trail = entries(node)
    first, total = node.payment_order(REQUEST_ID, 1)
    second, total_again = node.payment_order(REQUEST_ID, 2)
    assert (total, total_again) == (2, 2)
    read = [parse_pain001(document) for document in (first, second)]
    assert [(p.message_id, p.debtor_agent, len(p.items)) for p in read] == [
        (f"{REQUEST_ID}-V1-P1", "970415", 4), (f"{REQUEST_ID}-V1-P2", "970415", 2),
    ]  # fmt: skip
    paid = sorted((i.citizen_id, i.program, i.amount_vnd) for p in read for i in p.items)
    assert paid == sorted((x.citizen_id, x.program, x.amount_vnd) for x in lines_of(node, 1))
    assert node.payment_order(REQUEST_ID, 1) == (first, 2), "the same request, the same bytes"
    assert entries(node) == trail, "building the order sends nothing: no step of the trail"


def test_no_order_is_made_before_approval_nor_for_a_part_the_order_does_not_have(engine: Engine) -> None:
    node = ordering_node(engine, items_per_order_part=4)
    filed(node)
    with pytest.raises(NotApproved) as before:
        node.payment_order(REQUEST_ID, 1)
    assert before.value.field == "state"
    node.approve(REQUEST_ID, 1, APPROVER, NOW_MS + 1_000)
    with pytest.raises(NotFound) as unknown:
        node.payment_order(REQUEST_ID, 3)
    assert unknown.value.field == "part" and "parts 1 to 2" in unknown.value.rule
    with pytest.raises(RequestNotFound):
        node.payment_order("MOLISA-2026-12-HN-9999", 1)


def test_a_node_without_a_serving_bank_makes_no_order(node: PayerNode) -> None:
    _approved(node)
    with pytest.raises(Conflict) as refused:
        node.payment_order(REQUEST_ID, 1)
    assert refused.value.field == "serving_bank"


def test_a_part_size_over_the_schemes_file_limit_is_refused_when_the_node_is_built(engine: Engine) -> None:
    with pytest.raises(ValueError, match="items_per_part"):
        PayerNode(engine, items_per_order_part=ITEMS_PER_FILE_MAX + 1)
