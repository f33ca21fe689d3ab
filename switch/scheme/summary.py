"""What a payer reads back about a disbursement: its summary, as the payer API answers
`GET /v1/disbursements/{id}` and as the switch node returns it in process.

Counts and amounts are a `Cell` (VND is an integer); every table is keyed by the value it counts
(an item status, an ISO reason code, a creditor agent's BIN, a program, a province code).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from switch.scheme.codes import DisbursementStatus, StatusReason

CASHLESS_TARGET_SHARE = 0.30  # the government's target for welfare paid without cash


class Cell(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int
    amount_vnd: int

    def __add__(self, other: Cell) -> Cell:
        return Cell(count=self.count + other.count, amount_vnd=self.amount_vnd + other.amount_vnd)


ZERO = Cell(count=0, amount_vnd=0)


class Reconciliation(BaseModel):
    """paid + cash + held + rejected + in process = submitted, in count and in VND."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    submitted: Cell
    paid: Cell
    cash: Cell
    held: Cell
    rejected: Cell  # a disbursement refused whole (AM04) stores no items: all it accepted is here
    in_process: Cell
    balanced: bool


class Retried(BaseModel):
    """Items sent more than once (a timeout or an offline agent), and how many were paid in the end."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int
    paid: int


class DisbursementSummary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    disbursement_id: int
    message_id: str
    debtor_agent: str
    format: str
    status: DisbursementStatus
    reason: StatusReason | None
    rows_total: int
    rows_rejected: int
    row_errors: int  # rows refused at intake (the same as rows_rejected)
    row_errors_listed: int  # of them, those kept with their field and rule
    items_total: int
    amount_total_vnd: int
    progress_percent: float
    cashless_share: float  # paid of the items that could be paid (held and rejected aside)
    cashless_target_share: float
    by_status: dict[str, Cell]
    by_reason: dict[str, Cell]
    by_participant: dict[str, Cell]  # what each creditor agent was paid
    by_program: dict[str, Cell]
    by_province: dict[str, Cell]
    by_province_status: dict[str, Cell]  # "<province>/<status>": for the cashless share by province
    reconciliation: Reconciliation
    retried: Retried
    received_ms: int
    completed_ms: int | None
