"""The payer node's HTTP bodies and answers (gateway.payer_node_app), and their conversion from and to
payer.requests' and payer.audit's values. Totals, findings and officers are those modules' own
pydantic models; lines, versions, reviews and audit entries are dataclasses there and get a model here.

Amounts and version numbers are strict integers: 500000.0 or "500000" is refused as the wrong type,
not read as a number, since a payment list that arrives with its amounts as text or decimals was
written by a program that has a bug.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from payer.audit.schemas import AuditEntry, VerifyReport
from payer.requests.schemas import (
    CYCLE_PATTERN,
    DIGEST_LENGTH,
    FINDINGS_PER_RETURN_MAX,
    LINE_AMOUNT_VND_MAX,
    REQUEST_ID_PATTERN,
    VERSIONS_PER_REQUEST_MAX,
    Finding,
    Officer,
    PaymentListLine,
    PaymentRequest,
    RequestState,
    RequestVersion,
    Review,
    Totals,
)
from switch.scheme.codes import Program
from switch.scheme.names import NAME_LENGTH_MAX

LINES_PER_FILING_MAX = 100_000  # a list filed as JSON; larger lists are prepared at the node from its rolls
REQUEST_ID = f"^{REQUEST_ID_PATTERN.pattern}$"
CYCLE = f"^{CYCLE_PATTERN.pattern}$"
DIGEST = f"^[0-9a-f]{{{DIGEST_LENGTH}}}$"
CITIZEN_ID = "^[0-9]{12}$"
LINE_KEY = f"^[0-9]{{12}}:({'|'.join(p.value for p in Program)})$"  # a line's citizen id and program, for paging

Version = Annotated[StrictInt, Field(ge=1, le=VERSIONS_PER_REQUEST_MAX, description="the version acted on")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineIn(_In):
    """One person paid under one program. The province is the citizen id's first three digits: it may
    be left out, and when given it must be those (so a line read from the node can be sent back)."""

    citizen_id: Annotated[str, Field(pattern=CITIZEN_ID, examples=["001190100001"])]
    name: Annotated[str, Field(min_length=1, max_length=NAME_LENGTH_MAX, examples=["Nguyễn Văn An"])]
    province_code: Annotated[str | None, Field(pattern="^[0-9]{3}$", examples=["001"])] = None
    program: Program
    amount_vnd: Annotated[StrictInt, Field(ge=1, le=LINE_AMOUNT_VND_MAX, examples=[500_000])]

    def line(self) -> PaymentListLine:
        province_code = self.citizen_id[:3] if self.province_code is None else self.province_code
        return PaymentListLine(self.citizen_id, self.name, province_code, self.program, self.amount_vnd)


class _ListIn(_In):
    """A list: its lines with the totals and digest the filer states (the node checks both), or
    `from_rolls: true` for the node to prepare it from its own rolls against the police registry."""

    lines: Annotated[list[LineIn] | None, Field(max_length=LINES_PER_FILING_MAX)] = None
    totals: Totals | None = None
    digest: Annotated[str | None, Field(pattern=DIGEST)] = None
    from_rolls: StrictBool = False

    def given_lines(self) -> list[PaymentListLine] | None:
        return None if self.lines is None else [line.line() for line in self.lines]


class FilingIn(_ListIn):
    request_id: Annotated[str, Field(pattern=REQUEST_ID, examples=["MOLISA-2026-12-HN-0001"])]
    cycle: Annotated[str, Field(pattern=CYCLE, examples=["2026-12"])]


class CorrectionIn(_ListIn):
    version: Version  # the returned version this corrects


class VersionIn(_In):
    version: Version


class ReturnIn(_In):
    version: Version
    findings: Annotated[list[Finding], Field(min_length=1, max_length=FINDINGS_PER_RETURN_MAX)]


BODIES: tuple[type[BaseModel], ...] = (FilingIn, CorrectionIn, LineIn, VersionIn, ReturnIn)

# --- answers -------------------------------------------------------------------------------------


class LineOut(BaseModel):
    citizen_id: str
    name: str
    province_code: str
    program: Program
    amount_vnd: int


class VersionOut(BaseModel):
    version: int
    state: RequestState
    digest: str
    totals: Totals  # as filed
    prepared_by: Officer
    filed_by: Officer
    filed_ms: int
    decided_by: Officer | None
    decided_ms: int | None
    findings: list[Finding]


class PaymentRequestOut(BaseModel):
    request_id: str
    cycle: str
    version: int  # the current version
    state: RequestState  # the current version's
    versions: list[VersionOut]  # oldest first


class ReviewOut(BaseModel):
    """The findings of a review; it changed nothing. No findings: an approver may approve."""

    request_id: str
    version: int
    officer: Officer
    digest_now: str
    totals_now: Totals
    findings: list[Finding]
    approves: bool


class LinesPage(BaseModel):
    request_id: str
    version: int
    lines: list[LineOut]
    next_after: str | None  # give it as `after` for the next page; null on the last


class AuditEntryOut(BaseModel):
    sequence: int
    time_ms: int
    actor: str  # the officer's id
    role: str
    action: str
    subject: str
    details: dict[str, Any]
    previous_hash: str
    hash: str


class Timeline(BaseModel):
    request_id: str
    entries: list[AuditEntryOut]  # in order; refusals among them


class BrokenLinkOut(BaseModel):
    sequence: int
    reason: str
    expected: str
    found: str
    message: str


class Verification(BaseModel):
    ok: bool
    entries: int
    head: str | None  # SEQ:HASH, to pin and give as expected_head later
    broken: BrokenLinkOut | None = None


class PayerHealth(BaseModel):
    status: str
    node: str


def version_out(version: RequestVersion) -> VersionOut:
    return VersionOut(
        version=version.version, state=version.state, digest=version.digest, totals=version.totals,
        prepared_by=version.prepared_by, filed_by=version.filed_by, filed_ms=version.filed_ms,
        decided_by=version.decided_by, decided_ms=version.decided_ms, findings=list(version.findings),
    )  # fmt: skip


def request_out(request: PaymentRequest) -> PaymentRequestOut:
    return PaymentRequestOut(
        request_id=request.request_id, cycle=request.cycle, version=request.version, state=request.state,
        versions=[version_out(v) for v in request.versions],
    )  # fmt: skip


def review_out(review: Review) -> ReviewOut:
    return ReviewOut(
        request_id=review.request_id, version=review.version, officer=review.officer, digest_now=review.digest_now,
        totals_now=review.totals_now, findings=list(review.findings), approves=review.approves,
    )  # fmt: skip


def line_out(line: PaymentListLine) -> LineOut:
    return LineOut(
        citizen_id=line.citizen_id, name=line.name, province_code=line.province_code, program=line.program,
        amount_vnd=line.amount_vnd,
    )  # fmt: skip


def line_key(line: PaymentListLine) -> str:
    return f"{line.citizen_id}:{line.program.value}"


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        sequence=entry.sequence, time_ms=entry.time_ms, actor=entry.actor, role=entry.role, action=entry.action,
        subject=entry.subject, details=entry.details, previous_hash=entry.previous_hash, hash=entry.hash,
    )  # fmt: skip


def verification(report: VerifyReport) -> Verification:
    return Verification.model_validate(report.as_json())
