"""Payment requests: the list MOLISA prepares and files with the State Treasury, and what the
Treasury's expenditure control decides about it (maker–checker).

A payment list is the cycle's beneficiaries who passed the police registry check (C06), one line
each, with those left out and why. A payment request carries the list to the Treasury with its
totals (by program, by province, overall) and a digest of its lines. Each filing is a version of
the request; a returned version is corrected and filed again as the next version, with its own
digest. A version ends in exactly one state: it is filed (waiting for the Treasury), then returned
or approved, and stays so. An approved version never changes, and nothing is paid before approval.

Lines are frozen dataclasses (a list may hold two million of them); totals, findings and the
officers are small and are pydantic models where the HTTP layer will want their JSON.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from payer.rolls import ROLL_SIZE_MAX
from switch.scheme.codes import Program, StatusReason
from switch.scheme.messages import AMOUNT_VND_MAX, Bin
from switch.scheme.names import NAME_LENGTH_MAX
from switch.scheme.summary import Cell

LINES_PER_LIST_MAX = ROLL_SIZE_MAX  # one line per beneficiary on the rolls, at most
LINE_AMOUNT_VND_MAX = 100_000_000  # a month's benefit above this is a slip (the highest is about 5.6 million)
LIST_AMOUNT_VND_MAX = LINES_PER_LIST_MAX * LINE_AMOUNT_VND_MAX
assert LIST_AMOUNT_VND_MAX <= AMOUNT_VND_MAX, "a list's total fits the scheme's amounts (a signed 64-bit column)"
BUDGET_VND_MAX = AMOUNT_VND_MAX
VERSIONS_PER_REQUEST_MAX = 12  # a request returned this often needs a new request, not another correction
FINDINGS_PER_RETURN_MAX = 128  # every check's findings fit: 1 digest + 4 programs + 63 provinces + 3 totals + 8 budget
FINDING_DETAIL_LENGTH_MAX = 300
FINDING_FIELD_LENGTH_MAX = 60
CITIZEN_ID_WRITTEN_MAX = 40  # what a roll may write where a citizen id belongs, well formed or not
OFFICER_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"  # a staff login: molisa.nguyen.van.an
OFFICER_ID_LENGTH_MAX = 64
# A request id names its payment order's messages, "<request id>-V<version>-P<part>" (at most
# "-V12-P20": 12 versions, 20 parts of 100,000), within ISO 20022's 35 characters: so 27 at most.
REQUEST_ID_LENGTH_MAX = 27
REQUEST_ID_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{REQUEST_ID_LENGTH_MAX - 1}}}")  # no spaces
CYCLE_PATTERN = re.compile(r"20[0-9]{2}-(0[1-9]|1[0-2])")  # YYYY-MM, as the payroll's cycle
DIGEST_LENGTH = 64  # sha-256, hexadecimal


class Role(enum.StrEnum):
    """Who does what. The same person may hold several roles; maker–checker compares people."""

    MOLISA_OFFICER = "molisa_officer"  # prepares the payment list and files it with the Treasury
    TREASURY_PREPARER = "treasury_preparer"  # files the payment order at the Treasury; checks and may return
    TREASURY_APPROVER = "treasury_approver"  # checks, and approves or returns

    @property
    def files(self) -> bool:
        return self in (Role.MOLISA_OFFICER, Role.TREASURY_PREPARER)

    @property
    def checks(self) -> bool:
        return self in (Role.TREASURY_PREPARER, Role.TREASURY_APPROVER)


class ExclusionReason(enum.StrEnum):
    """Why a beneficiary on the rolls is not on the payment list (the police registry check, C06)."""

    NO_CITIZEN_ID = "no_citizen_id"
    UNKNOWN_TO_REGISTRY = "unknown_to_registry"
    DECEASED = "deceased"
    IDENTITY_MISMATCH = "identity_mismatch"
    LISTED_TWICE = "listed_twice"

    @property
    def meaning(self) -> str:
        return EXCLUSION_MEANINGS[self]

    @property
    def status_reason(self) -> StatusReason:
        """The ISO 20022 reason the switch would give the same item, for reports that put both side by side."""
        return EXCLUSION_STATUS_REASONS[self]


EXCLUSION_MEANINGS: dict[ExclusionReason, str] = {
    ExclusionReason.NO_CITIZEN_ID: "the roll has no well-formed 12-digit citizen id for this person",
    ExclusionReason.UNKNOWN_TO_REGISTRY: "the police registry does not know this citizen id",
    ExclusionReason.DECEASED: "the police registry records this person as deceased",
    ExclusionReason.IDENTITY_MISMATCH: (
        "the name on the roll does not match the registry's (compared in upper case without diacritics)"
    ),
    ExclusionReason.LISTED_TWICE: "this person is already on the list for this program",
}
EXCLUSION_STATUS_REASONS: dict[ExclusionReason, StatusReason] = {
    ExclusionReason.NO_CITIZEN_ID: StatusReason.BE16,
    ExclusionReason.UNKNOWN_TO_REGISTRY: StatusReason.BE16,
    ExclusionReason.DECEASED: StatusReason.MD07,
    ExclusionReason.IDENTITY_MISMATCH: StatusReason.BE01,
    ExclusionReason.LISTED_TWICE: StatusReason.DUPL,
}


class RequestState(enum.StrEnum):
    """Where one version of a payment request stands. Returned and approved are final; a refused
    action (a second approval, an approval by the preparer) changes no state and is not one."""

    FILED = "filed"  # with the Treasury, waiting for its control
    RETURNED = "returned"  # sent back with reasons; a correction is filed as the next version
    APPROVED = "approved"  # may be paid; never changes

    @property
    def is_final(self) -> bool:
        return self != RequestState.FILED


class ReturnReason(enum.StrEnum):
    """Why the Treasury's control sends a request back."""

    LIST_CHANGED_AFTER_FILING = "list_changed_after_filing"
    TOTALS_DO_NOT_ADD_UP = "totals_do_not_add_up"
    OVER_BUDGET = "over_budget"
    NO_BUDGET = "no_budget"
    OTHER = "other"

    @property
    def meaning(self) -> str:
        return RETURN_MEANINGS[self]


RETURN_MEANINGS: dict[ReturnReason, str] = {
    ReturnReason.LIST_CHANGED_AFTER_FILING: (
        "the list the Treasury holds now is not the list that was filed: its digest differs from the filed digest"
    ),
    ReturnReason.TOTALS_DO_NOT_ADD_UP: (
        "the totals filed with the request are not the sums of the list's lines, or do not agree with each other"
    ),
    ReturnReason.OVER_BUDGET: "a program's total is more than the budget allotted to it for the cycle",
    ReturnReason.NO_BUDGET: "the list pays a program that has no budget for the cycle",
    ReturnReason.OTHER: "the officer's own reason, written in the finding",
}


class Officer(BaseModel):
    """A person acting in one role. `officer_id` names the person: maker–checker compares it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    officer_id: Annotated[str, Field(pattern=OFFICER_ID_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=NAME_LENGTH_MAX)]  # as the person writes it, with diacritics
    role: Role


@dataclass(slots=True, frozen=True)
class PaymentListLine:
    """Pay `amount_vnd` to this citizen under this program. One line per (citizen id, program)."""

    citizen_id: str
    name: str  # as the roll writes it: the switch compares it with the registry again when paying
    province_code: str  # the CCCD's first three digits, as the switch groups its items
    program: Program
    amount_vnd: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.citizen_id, self.program.value)


@dataclass(slots=True, frozen=True)
class Exclusion:
    """A beneficiary on the rolls left off the list, and why."""

    citizen_id: str  # as the roll writes it: may be empty or malformed (NO_CITIZEN_ID)
    name: str
    program: Program
    amount_vnd: int  # what the rolls would have paid
    reason: ExclusionReason


@dataclass(slots=True, frozen=True)
class PaymentList:
    cycle: str
    prepared_by: Officer
    lines: tuple[PaymentListLine, ...]
    excluded: tuple[Exclusion, ...] = ()


class Totals(BaseModel):
    """A list's totals: by program, by province (CCCD province code) and overall, in count and VND.
    Filed totals are what the filer states, which is why the Treasury checks them; their limits are
    checked where they come in (core.check_totals), so the totals of any list, even a damaged one,
    can be computed and compared."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by_program: dict[Program, Cell]
    by_province: dict[str, Cell]
    grand: Cell


class Finding(BaseModel):
    """One reason a request is returned: the rule (`reason`), the field it concerns and the figures."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: ReturnReason
    field: Annotated[str, Field(min_length=1, max_length=FINDING_FIELD_LENGTH_MAX)]
    detail: Annotated[str, Field(min_length=1, max_length=FINDING_DETAIL_LENGTH_MAX)]


@dataclass(slots=True, frozen=True)
class RequestVersion:
    """One filing of a request. `decided_by` is the Treasury officer who returned or approved it."""

    version: int
    state: RequestState
    digest: str  # sha-256 of the filed lines in canonical order (core.digest)
    totals: Totals  # as filed
    prepared_by: Officer  # who drew up the list
    filed_by: Officer  # who filed it with the Treasury
    filed_ms: int
    decided_by: Officer | None = None
    decided_ms: int | None = None
    findings: tuple[Finding, ...] = ()  # why it was returned; empty unless returned


@dataclass(slots=True, frozen=True)
class PaymentRequest:
    """A request and every version of it, oldest first; only the last may still be filed."""

    request_id: str
    cycle: str
    versions: tuple[RequestVersion, ...]

    @property
    def current(self) -> RequestVersion:
        return self.versions[-1]

    @property
    def version(self) -> int:
        return self.current.version

    @property
    def state(self) -> RequestState:
        return self.current.state

    @property
    def makers(self) -> frozenset[str]:
        """Everyone who prepared or filed any version: none of them may check the request."""
        return frozenset(p.officer_id for v in self.versions for p in (v.prepared_by, v.filed_by))


@dataclass(slots=True, frozen=True)
class Review:
    """A Treasury officer's check of one filed version: approve when there are no findings."""

    request_id: str
    version: int
    officer: Officer
    digest_now: str  # the digest of the lines the officer checked
    totals_now: Totals
    findings: tuple[Finding, ...]

    @property
    def approves(self) -> bool:
        return not self.findings


TREASURY_ACCOUNT_PATTERN = r"^[0-9]{6,19}$"  # a bank account number, digits only, as the scheme's Othr/Id


class ServingBank(BaseModel):
    """The commercial bank that holds the State Treasury's account and pays its approved lists: the
    payment order's debtor agent (DbtrAgt, by BIN) and debtor account (the Treasury's there)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bin: Bin
    name: Annotated[str, Field(min_length=1, max_length=NAME_LENGTH_MAX)]
    treasury_account: Annotated[str, Field(pattern=TREASURY_ACCOUNT_PATTERN)]
