"""The payment-request core: pure decisions, no database and no clock (the time comes in as `now_ms`).

MOLISA prepares: `prepare` checks each beneficiary against the police registry's records and
makes the payment list; `file` makes it a payment request with its totals and digest.
The Treasury controls: `review` checks a filed version against the list as it is now and the
budgets, and finds every reason to return it; `approve` and `return_request` record the decision;
`correct` files a returned request again as its next version. Every refusal raises a
`payer.requests.errors` error and returns nothing, so a refused action changes nothing.

Maker–checker: whoever prepared or filed any version of a request never checks it (returns or
approves it), and only a Treasury approver approves.

The digest is independent of the order of the lines: a list is a set of payments, and the Treasury
may hold it sorted another way (by province, say). Lines are put in canonical order, by citizen id
and program (a list has one line per pair), then each is written as one line of text and hashed.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

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
    BUDGET_VND_MAX,
    CITIZEN_ID_WRITTEN_MAX,
    CYCLE_PATTERN,
    DIGEST_LENGTH,
    FINDING_FIELD_LENGTH_MAX,
    FINDINGS_PER_RETURN_MAX,
    LINE_AMOUNT_VND_MAX,
    LINES_PER_LIST_MAX,
    LIST_AMOUNT_VND_MAX,
    REQUEST_ID_LENGTH_MAX,
    REQUEST_ID_PATTERN,
    VERSIONS_PER_REQUEST_MAX,
    Exclusion,
    ExclusionReason,
    Finding,
    Officer,
    PaymentList,
    PaymentListLine,
    PaymentRequest,
    RequestState,
    RequestVersion,
    ReturnReason,
    Review,
    Role,
    Totals,
)
from payer.rolls import Beneficiary
from switch.scheme.codes import Program, VerificationOutcome
from switch.scheme.disbursement import CITIZEN_BIRTH_YEAR_MAX
from switch.scheme.identifiers import PROVINCE_NAMES, check_citizen_id
from switch.scheme.identity import IdentityRecord
from switch.scheme.names import NAME_LENGTH_MAX, compare_names
from switch.scheme.summary import ZERO, Cell

DIGEST_FORMAT = "switchyard payment list v1"  # the first line hashed: a new serialisation gets a new name
_NAME = re.compile(r"[^\x00-\x1f\x7f]+")  # no control characters, as the scheme's payroll items

# --- MOLISA prepares -----------------------------------------------------------------------------


def prepare(
    beneficiaries: Sequence[Beneficiary],
    registry_records: Mapping[str, IdentityRecord],
    cycle: str,
    prepared_by: Officer,
) -> PaymentList:
    """Each beneficiary checked against the registry (`PopulationRegistry.lookup` of their ids):
    without a well-formed citizen id, unknown to it, deceased, or named otherwise (the scheme's
    name rule: a close match, such as a left-out middle name, passes, as it does at the switch) is
    excluded with that reason; so is a second entry for the same person and program. The rest,
    in the order given, are the list."""
    _check_cycle(cycle)
    _check_role(prepared_by, "prepared_by", (Role.MOLISA_OFFICER,), "prepares a payment list")
    if len(beneficiaries) > LINES_PER_LIST_MAX:
        raise InputInvalid("beneficiaries", f"{len(beneficiaries):,} is over the limit of {LINES_PER_LIST_MAX:,}")
    current_year = int(cycle[:4])
    lines: list[PaymentListLine] = []
    excluded: list[Exclusion] = []
    listed: set[tuple[str, str]] = set()
    for index, beneficiary in enumerate(beneficiaries):
        amount_vnd = _amount_of(index, beneficiary)
        reason = _exclusion(beneficiary, registry_records.get(beneficiary.citizen_id), current_year)
        if reason is None and (beneficiary.citizen_id, beneficiary.program.value) in listed:
            reason = ExclusionReason.LISTED_TWICE
        if reason is not None:
            excluded.append(
                Exclusion(beneficiary.citizen_id, beneficiary.name, beneficiary.program, amount_vnd, reason)
            )
            continue
        listed.add((beneficiary.citizen_id, beneficiary.program.value))
        lines.append(
            PaymentListLine(
                beneficiary.citizen_id, beneficiary.name, beneficiary.citizen_id[:3], beneficiary.program, amount_vnd
            )
        )
    return PaymentList(cycle, prepared_by, tuple(lines), tuple(excluded))


def _amount_of(index: int, beneficiary: Beneficiary) -> int:
    if len(beneficiary.citizen_id) > CITIZEN_ID_WRITTEN_MAX:
        raise InputInvalid(f"beneficiaries[{index}].citizen_id", f"is over {CITIZEN_ID_WRITTEN_MAX} characters")
    if len(beneficiary.name) > NAME_LENGTH_MAX or not _NAME.fullmatch(beneficiary.name or " "):
        rule = f"must be at most {NAME_LENGTH_MAX} characters without control characters"
        raise InputInvalid(f"beneficiaries[{index}].name", rule)
    try:
        return beneficiary.amount_vnd
    except ValueError as error:  # a category the program does not have: the roll is wrong, not the person
        raise InputInvalid(f"beneficiaries[{index}].coefficient_tenths", str(error)) from error


def _exclusion(beneficiary: Beneficiary, record: IdentityRecord | None, current_year: int) -> ExclusionReason | None:
    if check_citizen_id(beneficiary.citizen_id, current_year) is not None:
        return ExclusionReason.NO_CITIZEN_ID
    if record is None:
        return ExclusionReason.UNKNOWN_TO_REGISTRY
    if not record.alive:
        return ExclusionReason.DECEASED
    if compare_names(beneficiary.name, record.name) == VerificationOutcome.NMTC:
        return ExclusionReason.IDENTITY_MISMATCH
    return None


def totals(lines: Iterable[PaymentListLine]) -> Totals:
    """By program, by province and overall; keys in sorted order, so equal totals write the same JSON."""
    by_program: dict[Program, list[int]] = {}
    by_province: dict[str, list[int]] = {}
    count = amount_vnd = 0
    for line in lines:
        program = by_program.setdefault(line.program, [0, 0])
        program[0] += 1
        program[1] += line.amount_vnd
        province = by_province.setdefault(line.province_code, [0, 0])
        province[0] += 1
        province[1] += line.amount_vnd
        count += 1
        amount_vnd += line.amount_vnd
    return Totals(
        by_program={p: Cell(count=c, amount_vnd=a) for p, (c, a) in sorted(by_program.items())},
        by_province={p: Cell(count=c, amount_vnd=a) for p, (c, a) in sorted(by_province.items())},
        grand=Cell(count=count, amount_vnd=amount_vnd),
    )


def digest(lines: Iterable[PaymentListLine]) -> str:
    """sha-256 over the lines in canonical order (citizen id, program, then the rest), one text line
    each: citizen id, program, amount, province and the name as JSON (so no name can forge a line
    break), the name in Unicode NFC, so two spellings of the same letters are the same line."""
    hasher = hashlib.sha256(DIGEST_FORMAT.encode() + b"\n")
    canonical = sorted(
        (line.citizen_id, line.program.value, line.amount_vnd, line.province_code, line.name) for line in lines
    )
    for citizen_id, program, amount_vnd, province_code, name in canonical:
        written = json.dumps(unicodedata.normalize("NFC", name), ensure_ascii=False)
        hasher.update(f"{citizen_id}\t{program}\t{amount_vnd}\t{province_code}\t{written}\n".encode())
    return hasher.hexdigest()


def check_lines(lines: Sequence[PaymentListLine]) -> None:
    """The rules every filed line keeps (a list `prepare` made keeps them by construction)."""
    if not lines:
        raise InputInvalid("lines", "a payment list pays at least one person")
    if len(lines) > LINES_PER_LIST_MAX:
        raise InputInvalid("lines", f"{len(lines):,} is over the limit of {LINES_PER_LIST_MAX:,}")
    seen: set[tuple[str, str]] = set()
    for index, line in enumerate(lines):
        problem = _line_problem(line)
        if problem is not None:
            raise InputInvalid(f"lines[{index}].{problem[0]}", problem[1])
        if line.key in seen:
            raise InputInvalid(f"lines[{index}].citizen_id", "this person is already on the list for this program")
        seen.add(line.key)


def _line_problem(line: PaymentListLine) -> tuple[str, str] | None:
    problem = check_citizen_id(line.citizen_id, CITIZEN_BIRTH_YEAR_MAX)
    if problem is not None:
        return "citizen_id", problem
    if not (len(line.name) <= NAME_LENGTH_MAX and _NAME.fullmatch(line.name)):
        return "name", f"must be 1 to {NAME_LENGTH_MAX} characters without control characters"
    if line.province_code != line.citizen_id[:3]:
        return "province_code", f"must be the citizen id's first three digits, {line.citizen_id[:3]}"
    if not isinstance(line.program, Program):
        return "program", f"must be one of {[p.value for p in Program]}"
    if type(line.amount_vnd) is not int or not 1 <= line.amount_vnd <= LINE_AMOUNT_VND_MAX:
        return "amount_vnd", f"must be a whole number of VND from 1 to {LINE_AMOUNT_VND_MAX:,}"
    return None


def check_totals(stated: Totals) -> None:
    """Totals a filer states: known programs and provinces, and figures a list can have."""
    unknown = sorted(code for code in stated.by_province if code not in PROVINCE_NAMES)
    if unknown:
        raise InputInvalid("totals.by_province", f"{unknown[:5]} are not CCCD province codes")
    cells = [("grand", stated.grand)]
    cells += [(f"by_program.{p.value}", c) for p, c in stated.by_program.items()]
    cells += [(f"by_province.{p}", c) for p, c in stated.by_province.items()]
    for name, cell in cells:
        if not (0 <= cell.count <= LINES_PER_LIST_MAX and 0 <= cell.amount_vnd <= LIST_AMOUNT_VND_MAX):
            rule = f"must count 0 to {LINES_PER_LIST_MAX:,} lines and 0 to {LIST_AMOUNT_VND_MAX:,} VND"
            raise InputInvalid(f"totals.{name}", rule)


# --- filing --------------------------------------------------------------------------------------


def file(
    payment_list: PaymentList,
    request_id: str,
    by: Officer,
    now_ms: int,
    stated_totals: Totals | None = None,
    stated_digest: str | None = None,
) -> PaymentRequest:
    """A new request, version 1, filed. The totals are the list's unless the filer states others
    (the Treasury's control then finds the difference); a stated digest must be the list's, since a
    digest that is not is a list damaged on its way, not a request to check."""
    if not REQUEST_ID_PATTERN.fullmatch(request_id):
        raise InputInvalid(
            "request_id", f"must be 1 to {REQUEST_ID_LENGTH_MAX} letters, digits, dots, dashes or underscores"
        )
    version = _new_version(payment_list, 1, by, now_ms, stated_totals, stated_digest)
    return PaymentRequest(request_id, payment_list.cycle, (version,))


def correct(
    request: PaymentRequest,
    payment_list: PaymentList,
    by: Officer,
    now_ms: int,
    stated_totals: Totals | None = None,
    stated_digest: str | None = None,
) -> PaymentRequest:
    """A returned request filed again, corrected, as its next version; the returned one stays as it was."""
    _refuse_if_approved(request)
    if request.state != RequestState.RETURNED:
        raise NotReturned(
            "state", f"version {request.version} is {request.state.value}: only a returned request is corrected"
        )
    if payment_list.cycle != request.cycle:
        raise InputInvalid("cycle", f"{payment_list.cycle} is not the request's cycle, {request.cycle}")
    if len(request.versions) >= VERSIONS_PER_REQUEST_MAX:
        raise VersionsExhausted(
            "version", f"a request is filed at most {VERSIONS_PER_REQUEST_MAX} times: file a new request"
        )
    version = _new_version(payment_list, request.version + 1, by, now_ms, stated_totals, stated_digest)
    return PaymentRequest(request.request_id, request.cycle, (*request.versions, version))


def _new_version(
    payment_list: PaymentList,
    number: int,
    by: Officer,
    now_ms: int,
    stated_totals: Totals | None,
    stated_digest: str | None,
) -> RequestVersion:
    _check_role(by, "filed_by", (Role.MOLISA_OFFICER, Role.TREASURY_PREPARER), "files a payment request")
    _check_role(payment_list.prepared_by, "prepared_by", (Role.MOLISA_OFFICER,), "prepares a payment list")
    _check_cycle(payment_list.cycle)
    check_lines(payment_list.lines)
    found = digest(payment_list.lines)
    if stated_digest is not None and stated_digest != found:
        rule = f"{stated_digest[:DIGEST_LENGTH]} is not the digest of the lines filed ({found}): the list was changed"
        raise InputInvalid("digest", rule + " or damaged on its way")
    if stated_totals is not None:
        check_totals(stated_totals)
    filed_totals = stated_totals if stated_totals is not None else totals(payment_list.lines)
    return RequestVersion(number, RequestState.FILED, found, filed_totals, payment_list.prepared_by, by, now_ms)


# --- the Treasury controls -----------------------------------------------------------------------


def review(
    request: PaymentRequest,
    lines_now: Sequence[PaymentListLine],
    budgets_vnd_by_program: Mapping[Program, int],
    officer: Officer,
) -> Review:
    """The control of the filed version: every reason to return it (the list changed since filing,
    totals that do not add up, a program over its budget or without one). No findings: approve."""
    check_checker(request, officer, "checks a payment request")
    _check_budgets(budgets_vnd_by_program)
    filed = request.current
    digest_now = digest(lines_now)
    totals_now = totals(lines_now)
    findings: list[Finding] = []
    if digest_now != filed.digest:
        detail = f"filed {filed.digest}, the list now {digest_now}"
        findings.append(Finding(reason=ReturnReason.LIST_CHANGED_AFTER_FILING, field="digest", detail=detail))
    findings += _totals_findings(filed.totals, totals_now)
    findings += _budget_findings(filed.totals, totals_now, budgets_vnd_by_program)
    if len(findings) > FINDINGS_PER_RETURN_MAX:
        rest = len(findings) - FINDINGS_PER_RETURN_MAX + 1
        more = Finding(reason=ReturnReason.TOTALS_DO_NOT_ADD_UP, field="totals", detail=f"{rest} more not listed")
        findings = [*findings[: FINDINGS_PER_RETURN_MAX - 1], more]
    return Review(request.request_id, request.version, officer, digest_now, totals_now, tuple(findings))


def _totals_findings(filed: Totals, now: Totals) -> list[Finding]:
    found = []
    for field, stated, actual in _cells_to_compare(filed, now):
        if stated != actual:
            detail = f"filed {_figures(stated)}; the list adds up to {_figures(actual)}"
            found.append(Finding(reason=ReturnReason.TOTALS_DO_NOT_ADD_UP, field=field, detail=detail))
    for name, parts in (("by_program", filed.by_program), ("by_province", filed.by_province)):
        added = sum(parts.values(), ZERO)
        if added != filed.grand:
            detail = f"the filed {name.replace('_', ' ')} add up to {_figures(added)}, the filed total is"
            found.append(
                Finding(
                    reason=ReturnReason.TOTALS_DO_NOT_ADD_UP,
                    field=f"totals.{name}",
                    detail=f"{detail} {_figures(filed.grand)}",
                )
            )
    return found


def _cells_to_compare(filed: Totals, now: Totals) -> list[tuple[str, Cell, Cell]]:
    cells = [("totals.grand", filed.grand, now.grand)]
    for program in sorted(set(filed.by_program) | set(now.by_program)):
        stated, actual = filed.by_program.get(program, ZERO), now.by_program.get(program, ZERO)
        cells.append((f"totals.by_program.{program.value}", stated, actual))
    for code in sorted(set(filed.by_province) | set(now.by_province)):
        stated, actual = filed.by_province.get(code, ZERO), now.by_province.get(code, ZERO)
        cells.append((f"totals.by_province.{code}"[:FINDING_FIELD_LENGTH_MAX], stated, actual))
    return cells


def _budget_findings(filed: Totals, now: Totals, budgets_vnd_by_program: Mapping[Program, int]) -> list[Finding]:
    found = []
    for program in sorted(set(filed.by_program) | set(now.by_program)):
        # what the request asks for or what the list would pay, whichever is more
        asked_vnd = max(filed.by_program.get(program, ZERO).amount_vnd, now.by_program.get(program, ZERO).amount_vnd)
        if asked_vnd == 0:
            continue
        budget_vnd = budgets_vnd_by_program.get(program)
        field = f"budgets_vnd_by_program.{program.value}"
        if budget_vnd is None:
            detail = f"{asked_vnd:,} VND for {program.value}, which has no budget for the cycle"
            found.append(Finding(reason=ReturnReason.NO_BUDGET, field=field, detail=detail))
        elif asked_vnd > budget_vnd:
            detail = f"{asked_vnd:,} VND for {program.value} is over its budget of {budget_vnd:,} VND"
            found.append(Finding(reason=ReturnReason.OVER_BUDGET, field=field, detail=detail))
    return found


def _figures(cell: Cell) -> str:
    return f"{cell.count:,} lines, {cell.amount_vnd:,} VND"


def approve(request: PaymentRequest, review_done: Review, now_ms: int) -> PaymentRequest:
    """The reviewing officer approves the version reviewed, if the review found nothing."""
    officer = review_done.officer
    check_checker(request, officer, "approves a payment request")
    if (review_done.request_id, review_done.version) != (request.request_id, request.version):
        reviewed = f"{review_done.request_id} version {review_done.version}"
        rule = f"the review is of {reviewed}, not of {request.request_id} version {request.version}"
        raise ReviewNotApproving("review", rule)
    if not review_done.approves:
        rule = f"the review found {len(review_done.findings)} reasons to return the request: return it"
        raise ReviewNotApproving("review", rule)
    _check_role(officer, "approved_by", (Role.TREASURY_APPROVER,), "approves a payment request")
    return _decided(request, RequestState.APPROVED, officer, now_ms, ())


def return_request(request: PaymentRequest, findings: Sequence[Finding], by: Officer, now_ms: int) -> PaymentRequest:
    """The filed version sent back with its reasons (a review's findings, or the officer's own)."""
    check_checker(request, by, "returns a payment request")
    if not findings:
        raise InputInvalid("findings", "a request is returned with at least one reason")
    if len(findings) > FINDINGS_PER_RETURN_MAX:
        raise InputInvalid("findings", f"{len(findings)} is over the limit of {FINDINGS_PER_RETURN_MAX}")
    return _decided(request, RequestState.RETURNED, by, now_ms, tuple(findings))


def decide(request: PaymentRequest, review_done: Review, now_ms: int) -> PaymentRequest:
    """What a review leads to: returned with its findings, or approved (by an approver only)."""
    if review_done.findings:
        return return_request(request, review_done.findings, review_done.officer, now_ms)
    return approve(request, review_done, now_ms)


def _decided(
    request: PaymentRequest, state: RequestState, by: Officer, now_ms: int, findings: tuple[Finding, ...]
) -> PaymentRequest:
    old = request.current
    new = RequestVersion(
        old.version, state, old.digest, old.totals, old.prepared_by, old.filed_by, old.filed_ms, by, now_ms, findings
    )
    return PaymentRequest(request.request_id, request.cycle, (*request.versions[:-1], new))


def check_lines_may_change(request: PaymentRequest) -> None:
    """Only the lines of a filed version can be changed in place (and the Treasury's control will
    find it); a returned version is the record of what was returned, an approved one is paid."""
    _refuse_if_approved(request)
    if request.state != RequestState.FILED:
        raise NotFiled("state", f"version {request.version} was returned: correct it and file it again")


def check_payable(request: PaymentRequest) -> None:
    """Nothing is paid before approval."""
    if request.state != RequestState.APPROVED:
        state = request.state.value
        raise NotApproved("state", f"version {request.version} is {state}: nothing is paid before approval")


# --- rules shared by the actions -----------------------------------------------------------------


def check_checker(request: PaymentRequest, officer: Officer, action: str) -> None:
    _refuse_if_approved(request)
    if request.state != RequestState.FILED:
        raise NotFiled("state", f"version {request.version} is {request.state.value}: only a filed version is checked")
    _check_role(officer, "officer", (Role.TREASURY_PREPARER, Role.TREASURY_APPROVER), action)
    if officer.officer_id in request.makers:
        raise MakerCannotCheck(
            "officer",
            f"{officer.officer_id} prepared or filed this request: whoever makes a payment request never checks it",
        )


def _refuse_if_approved(request: PaymentRequest) -> None:
    if request.state == RequestState.APPROVED:
        assert request.current.decided_by is not None
        raise AlreadyApproved(
            "state",
            f"version {request.version} was approved by {request.current.decided_by.officer_id}:"
            " an approved request never changes",
        )


def _check_role(officer: Officer, field: str, roles: tuple[Role, ...], action: str) -> None:
    if officer.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise RoleRefused(f"{field}.role", f"{officer.role.value} is not a role that {action} ({allowed} is)")


def _check_cycle(cycle: str) -> None:
    if not CYCLE_PATTERN.fullmatch(cycle):
        raise InputInvalid("cycle", f"{cycle!r} must be YYYY-MM")


def _check_budgets(budgets_vnd_by_program: Mapping[Program, int]) -> None:
    for program, budget_vnd in budgets_vnd_by_program.items():
        if not isinstance(program, Program):
            raise InputInvalid("budgets_vnd_by_program", f"{program!r} is not a program")
        if type(budget_vnd) is not int or not 0 <= budget_vnd <= BUDGET_VND_MAX:
            raise InputInvalid(
                f"budgets_vnd_by_program.{program.value}", f"must be a whole number of VND from 0 to {BUDGET_VND_MAX:,}"
            )


def invariant_problems(request: PaymentRequest) -> list[str]:
    """What would be wrong with a request's history; empty for every request the actions above make."""
    problems = []
    if not 1 <= len(request.versions) <= VERSIONS_PER_REQUEST_MAX:
        problems.append(f"{len(request.versions)} versions")
    for position, version in enumerate(request.versions, start=1):
        last = position == len(request.versions)
        if version.version != position:
            problems.append(f"version {version.version} at position {position}")
        if not last and version.state != RequestState.RETURNED:
            problems.append(f"version {version.version} is {version.state.value} but a later version was filed")
        if version.state == RequestState.FILED and (version.decided_by is not None or version.findings):
            problems.append(f"version {version.version} is filed but has a decision")
        if version.state == RequestState.RETURNED and (version.decided_by is None or not version.findings):
            problems.append(f"version {version.version} is returned without an officer or a reason")
        if version.state == RequestState.APPROVED:
            approver = version.decided_by
            if approver is None or approver.role != Role.TREASURY_APPROVER or approver.officer_id in request.makers:
                problems.append(f"version {version.version} is approved by {approver}, not by a checker")
    return problems
