"""The post office's cash lists, payouts and knobs.

A cash list is one commune's share of one payment request: the people of that commune to pay in
cash, each on one line, with the amount and why they are paid in cash. A line ends in exactly one
final state: paid (to the beneficiary, their id checked), paid to an authorised representative
(recorded with the representative's id, name and authorisation), or unclaimed at the deadline and
then returned to the Treasury.

Lines are pydantic models: a commune's list is small (hundreds, a few thousand in a large ward)
and each field's rule is then named in the error.
"""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from switch.scheme.codes import Program, StatusReason
from switch.scheme.messages import AMOUNT_VND_MAX, SCHEME_TRANSFER_LIMIT_VND, Max140Text

# A commune's cash list: a large urban ward has some tens of thousands of people, a few thousand of
# them on welfare; a list longer than this is a list for more than one commune.
LINES_PER_CASH_LIST_MAX = 20_000
# A month's benefit above this is a slip (the highest is about 5.6 million); the same limit as the
# payer's payment-list lines, well under the scheme's per-transaction limit.
LINE_AMOUNT_VND_MAX = 100_000_000
assert LINE_AMOUNT_VND_MAX <= SCHEME_TRANSFER_LIMIT_VND
LIST_AMOUNT_VND_MAX = LINES_PER_CASH_LIST_MAX * LINE_AMOUNT_VND_MAX
assert LIST_AMOUNT_VND_MAX <= AMOUNT_VND_MAX, "a list's total fits a signed 64-bit column"
DAY_MS = 86_400_000
COLLECTION_DAYS_MAX = 60  # two months: longer and the next month's list arrives before this one closes
IDENTITY_DOCUMENT_LENGTH_MAX = 60  # "Giấy xác nhận số 123/XN-UBND ngày 02/12/2026"
AUTHORISATION_REFERENCE_LENGTH_MAX = 60  # "Giấy ủy quyền số 15/2026/UQ, UBND phường Trúc Bạch chứng thực"

# Vietnam's administrative unit codes (Decision 124/2004/QĐ-TTg, kept through the 2025 merger):
# five digits for a commune, ward or township; 00004 is Hà Nội's Phường Trúc Bạch, Phường Ba Đình
# since July 2025.
COMMUNE_CODE_PATTERN = r"^[0-9]{5}$"
PROVINCE_CODE_PATTERN = r"^[0-9]{3}$"  # the CCCD province code the rest of the sandbox uses (001 Hà Nội)
CITIZEN_ID_PATTERN = r"^[0-9]{12}$"
CYCLE_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"

# Ids of requests, lines and fundings: an ISO 20022 Max35Text without spaces or colons (the payer's
# request ids and the payroll's end-to-end ids are such), so the ledger's ids built from them are unambiguous.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,34}$"

Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]
CommuneCode = Annotated[str, Field(pattern=COMMUNE_CODE_PATTERN)]
CitizenId = Annotated[str, Field(pattern=CITIZEN_ID_PATTERN)]
LineAmountVnd = Annotated[int, Field(strict=True, gt=0)]  # the list limit is checked on acceptance, naming the line
IdentityDocument = Annotated[str, Field(min_length=1, max_length=IDENTITY_DOCUMENT_LENGTH_MAX)]
AuthorisationReference = Annotated[str, Field(min_length=1, max_length=AUTHORISATION_REFERENCE_LENGTH_MAX)]


class CashReason(enum.StrEnum):
    """Why a person is paid in cash: the switch could not pay them to an account, or they cannot
    open one (the article's groups), or they asked for cash. Stable values, stored and shown."""

    # The switch's cash list (an item the switch put on it, with its ISO 20022 reason).
    NO_REGISTERED_ACCOUNT = "no_registered_account"
    ACCOUNT_REFUSED = "account_refused"
    PARTICIPANT_UNREACHABLE = "participant_unreachable"
    # People who cannot open an account, and those who ask for cash.
    FRAIL_ELDERLY = "frail_elderly"
    UNABLE_TO_MANAGE_AFFAIRS = "unable_to_manage_affairs"
    DISABLED_WITHOUT_FINGERPRINTS = "disabled_without_fingerprints"
    NO_CITIZEN_ID_YET = "no_citizen_id_yet"
    ASKED_FOR_CASH = "asked_for_cash"

    @property
    def meaning(self) -> str:
        return CASH_REASON_MEANINGS[self]

    @property
    def from_switch(self) -> bool:
        """The switch tried to pay to an account and could not: the line keeps the ISO 20022 reason."""
        return self in _SWITCH_REASONS


CASH_REASON_MEANINGS: dict[CashReason, str] = {
    CashReason.NO_REGISTERED_ACCOUNT: "no account or wallet is registered to receive welfare for this citizen id",
    CashReason.ACCOUNT_REFUSED: "the bank or wallet refused the credit (closed, blocked, over a cap, name or id)",
    CashReason.PARTICIPANT_UNREACHABLE: "the bank or wallet did not answer, was offline or suspended, after retries",
    CashReason.FRAIL_ELDERLY: "too frail to open or use an account",
    CashReason.UNABLE_TO_MANAGE_AFFAIRS: "cannot manage their own affairs (a guardian acts for them)",
    CashReason.DISABLED_WITHOUT_FINGERPRINTS: "a disability leaves no fingerprints for a bank's identity check",
    CashReason.NO_CITIZEN_ID_YET: "not yet issued a citizen id card, so no bank can open an account",
    CashReason.ASKED_FOR_CASH: "asked to be paid in cash",
}
_SWITCH_REASONS = frozenset(
    {CashReason.NO_REGISTERED_ACCOUNT, CashReason.ACCOUNT_REFUSED, CashReason.PARTICIPANT_UNREACHABLE}
)
# The switch's reasons that mean "nobody answered for the account"; any other refusal is the account's.
_UNREACHABLE = frozenset({StatusReason.AB05, StatusReason.AB08, StatusReason.RC04, StatusReason.RR04})


def cash_reason_for(status_reason: StatusReason) -> CashReason:
    """The cash reason of an item the switch put on its cash list with this ISO 20022 reason."""
    if status_reason == StatusReason.BE23:
        return CashReason.NO_REGISTERED_ACCOUNT
    if status_reason in _UNREACHABLE:
        return CashReason.PARTICIPANT_UNREACHABLE
    return CashReason.ACCOUNT_REFUSED


class PayoutState(enum.StrEnum):
    """Where one line stands. Paid, paid to a representative and returned are final; unclaimed is
    final for the person (nobody is paid after the deadline) and leaves only the money to return."""

    AWAITING = "awaiting"  # on the list, funded or not, nobody has come yet
    PAID = "paid"  # the beneficiary came with their id
    PAID_TO_REPRESENTATIVE = "paid_to_representative"  # an authorised representative collected it
    UNCLAIMED = "unclaimed"  # nobody came by the deadline; the money is still held
    RETURNED = "returned"  # unclaimed, and the money went back to the Treasury

    @property
    def is_paid(self) -> bool:
        return self in (PayoutState.PAID, PayoutState.PAID_TO_REPRESENTATIVE)

    @property
    def is_final(self) -> bool:
        return self != PayoutState.AWAITING


class CashListLine(BaseModel):
    """One person to pay in cash. `line_id` is the payroll item's end-to-end id: unique in the list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line_id: Identifier
    citizen_id: CitizenId | None  # none only for someone not yet issued a citizen id
    # What such a person shows instead: the commune's confirmation of identity, or an old id card.
    identity_document: IdentityDocument | None = None
    name: Max140Text  # as the registry holds it, with diacritics
    province_code: Annotated[str, Field(pattern=PROVINCE_CODE_PATTERN)]
    commune_code: CommuneCode
    program: Program
    amount_vnd: LineAmountVnd
    reason: CashReason
    status_reason: StatusReason | None = None  # the switch's ISO 20022 reason, for its cash reasons

    @model_validator(mode="after")
    def _identity_and_reason_agree(self) -> CashListLine:
        if (self.citizen_id is None) != (self.reason == CashReason.NO_CITIZEN_ID_YET):
            raise ValueError("citizen_id: required, except for someone not yet issued one (no_citizen_id_yet)")
        if (self.identity_document is None) != (self.citizen_id is not None):
            raise ValueError("identity_document: required exactly when there is no citizen id")
        if (self.status_reason is None) == self.reason.from_switch:
            raise ValueError("status_reason: the switch's ISO 20022 reason, given exactly for the switch's reasons")
        return self

    @property
    def identity_number(self) -> str:
        """What the person must present at the counter."""
        return self.citizen_id if self.citizen_id is not None else str(self.identity_document)


class CashList(BaseModel):
    """One commune's cash list for one payment request, with its stated total and deadline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: Identifier
    commune_code: CommuneCode
    cycle: Annotated[str, Field(pattern=CYCLE_PATTERN)]
    deadline_ms: Annotated[int, Field(strict=True, ge=0)]  # nobody is paid at or after this instant
    total_vnd: Annotated[int, Field(strict=True, ge=0)]
    lines: Annotated[tuple[CashListLine, ...], Field(min_length=1)]

    @property
    def key(self) -> str:
        """The audit trail's name for it (payer.audit.schemas.cash_list_subject): request/cash/commune."""
        return f"{self.request_id}/cash/{self.commune_code}"


class Representative(BaseModel):
    """Someone the beneficiary authorised to collect for them (a relative, a guardian)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    citizen_id: CitizenId
    name: Max140Text
    authorisation_reference: AuthorisationReference  # the signed, certified authorisation


class PayoutClaim(BaseModel):
    """Someone at the counter: the line they come for, the beneficiary's id they present, and, for
    a representative, who they are and their authorisation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line_id: Identifier
    presented_id: Annotated[str, Field(min_length=1, max_length=IDENTITY_DOCUMENT_LENGTH_MAX)]
    representative: Representative | None = None


class Payout(BaseModel):
    """A payout as recorded: who collected, when, how much."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str
    commune_code: str
    line_id: str
    amount_vnd: int
    state: PayoutState  # PAID or PAID_TO_REPRESENTATIVE
    paid_ms: int
    representative: Representative | None = None


class Funding(BaseModel):
    """The Treasury's money for one list, with its own reference (the bank transfer's id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: Identifier
    commune_code: CommuneCode
    funding_id: Identifier
    amount_vnd: Annotated[int, Field(strict=True, gt=0)]


class CashPayoutKnobs(BaseModel):
    """How people collect their cash, for scenario files. Defaults from Vietnam Post's welfare
    payouts: most people come within the first days, a few never come (moved away, in hospital,
    deceased since the list was drawn up), and the frail often send a relative."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    share_collected: Annotated[float, Field(ge=0.0, le=1.0)] = 0.97
    days_to_collect: Annotated[int, Field(ge=1, le=COLLECTION_DAYS_MAX)] = 10
    representative_share: Annotated[float, Field(ge=0.0, le=1.0)] = 0.15  # of those who collect


class Tally(BaseModel):
    """A count of lines and their VND."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = 0
    amount_vnd: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(count=self.count + other.count, amount_vnd=self.amount_vnd + other.amount_vnd)


class ListStatus(BaseModel):
    """Where one commune's list stands: funded = paid + returned + held, in count and VND."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str
    commune_code: str
    digest: str
    deadline_ms: int
    total: Tally
    funding_id: str | None = None
    funded: Tally = Tally()
    closed_ms: int | None = None
    returned_ms: int | None = None

    @property
    def is_funded(self) -> bool:
        return self.funding_id is not None


class Closing(BaseModel):
    """What a close decided: these lines, nobody came for them, are unclaimed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line_ids: tuple[str, ...]
    unclaimed: Tally
    closed_ms: int


class UnclaimedReturn(BaseModel):
    """What goes back to the Treasury: the money of the unclaimed lines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line_ids: tuple[str, ...]
    returned: Tally
    returned_ms: int


class ByState(BaseModel):
    """A list's lines counted by state."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    awaiting: Tally = Tally()
    paid: Tally = Tally()
    paid_to_representative: Tally = Tally()
    unclaimed: Tally = Tally()
    returned: Tally = Tally()

    @property
    def all_paid(self) -> Tally:
        return self.paid + self.paid_to_representative

    @property
    def held(self) -> Tally:
        """Lines whose money is at the post office: nobody came yet, or nobody came and it is not returned."""
        return self.awaiting + self.unclaimed

    @property
    def total(self) -> Tally:
        return self.all_paid + self.held + self.returned
