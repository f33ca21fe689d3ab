"""The payer's reconciliation: one summary over every file of a payroll, from the summaries the
switch gave back for each (`switch.scheme.summary`), and the cashless share by province against
the government's target.

Each file's summary balances on its own (paid + cash + held + rejected + in process = submitted);
the payroll's is their sum, balanced only when every file's is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from switch.scheme.codes import ItemStatus
from switch.scheme.identifiers import PROVINCE_NAMES
from switch.scheme.summary import CASHLESS_TARGET_SHARE, ZERO, Cell, DisbursementSummary, Reconciliation, Retried


class ProvinceShare(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    province: str
    paid: int
    payable: int  # the province's items that could be paid: held items aside
    share: float


class PayrollSummary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    disbursements: list[int]
    by_status: dict[str, Cell]
    by_reason: dict[str, Cell]
    by_participant: dict[str, Cell]
    by_program: dict[str, Cell]
    by_province: dict[str, Cell]
    reconciliation: Reconciliation
    retried: Retried
    cashless_share_by_province: dict[str, ProvinceShare]
    cashless_share: float
    cashless_target_share: float

    def count(self, status: ItemStatus) -> int:
        return self.by_status.get(status.value, ZERO).count


def combine(summaries: Sequence[DisbursementSummary]) -> PayrollSummary:
    """One summary over every file of the payroll: the sums of each file's counts and amounts."""
    by_status = _total(summaries, "by_status")
    reconciliation = _reconciliation(summaries)
    # As the switch counts each file's share: held items and files refused whole could not be paid.
    payable = reconciliation.submitted.count - reconciliation.held.count - reconciliation.rejected.count
    return PayrollSummary(
        disbursements=[s.disbursement_id for s in summaries],
        by_status=by_status,
        by_reason=_total(summaries, "by_reason"),
        by_participant=_total(summaries, "by_participant"),
        by_program=_total(summaries, "by_program"),
        by_province=_total(summaries, "by_province"),
        reconciliation=reconciliation,
        retried=Retried(count=sum(s.retried.count for s in summaries), paid=sum(s.retried.paid for s in summaries)),
        cashless_share_by_province=cashless_by_province(summaries),
        cashless_share=round(reconciliation.paid.count / payable, 4) if payable > 0 else 0.0,
        cashless_target_share=summaries[0].cashless_target_share if summaries else CASHLESS_TARGET_SHARE,
    )


def _total(summaries: Sequence[DisbursementSummary], dimension: str) -> dict[str, Cell]:
    table: dict[str, Cell] = defaultdict(lambda: ZERO)
    for summary in summaries:
        cells: dict[str, Cell] = getattr(summary, dimension)
        for key, cell in cells.items():
            table[key] += cell
    return dict(sorted(table.items()))


def _reconciliation(summaries: Sequence[DisbursementSummary]) -> Reconciliation:
    def total(field: str) -> Cell:
        return sum((getattr(s.reconciliation, field) for s in summaries), ZERO)

    return Reconciliation(
        submitted=total("submitted"), paid=total("paid"), cash=total("cash"), held=total("held"),
        rejected=total("rejected"), in_process=total("in_process"),
        balanced=all(s.reconciliation.balanced for s in summaries),
    )  # fmt: skip


def cashless_by_province(summaries: Sequence[DisbursementSummary]) -> dict[str, ProvinceShare]:
    """Paid without cash, of the items each province could be paid (held items aside)."""
    paid: dict[str, int] = defaultdict(int)
    payable: dict[str, int] = defaultdict(int)
    for summary in summaries:
        for key, cell in summary.by_province_status.items():
            province, status = key.split("/")
            if status != ItemStatus.HELD.value:
                payable[province] += cell.count
            if status == ItemStatus.PAID.value:
                paid[province] += cell.count
    return {
        code: ProvinceShare(
            province=PROVINCE_NAMES.get(code, code),
            paid=paid[code],
            payable=payable[code],
            share=round(paid[code] / payable[code], 4) if payable[code] else 0.0,
        )
        for code in sorted(payable)
    }
