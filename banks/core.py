"""Pure decisions of a participant node: credit or reject an inbound transfer, answer a verification."""

from __future__ import annotations

from banks.schemas import AccountStatus, Customer, Limits
from switch.scheme.codes import StatusReason, VerificationOutcome
from switch.scheme.messages import CreditTransfer, VerificationRequest
from switch.scheme.names import compare_names, mask_name

STATUS_REASONS = {
    AccountStatus.CLOSED: StatusReason.AC04,
    AccountStatus.BLOCKED: StatusReason.AC06,
}


def decide_inbound(
    customer: Customer | None,
    transfer: CreditTransfer,
    limits: Limits,
    month: str,
    balance_vnd: int,
) -> StatusReason | None:
    """None credits the account; a reason rejects. Dormant accounts still receive."""
    if customer is None:
        return StatusReason.AC01
    if customer.status in STATUS_REASONS:
        return STATUS_REASONS[customer.status]
    creditor = transfer.creditor
    if creditor.citizen_id is not None and creditor.citizen_id != customer.citizen_id:
        return StatusReason.BE01
    if creditor.name is not None and compare_names(creditor.name, customer.holder_name) == VerificationOutcome.NMTC:
        return StatusReason.BE01
    if limits.monthly_inflow_cap_vnd is not None:
        inflow = customer.inflow_vnd if customer.inflow_month == month else 0
        if inflow + transfer.amount_vnd > limits.monthly_inflow_cap_vnd:
            return StatusReason.AM02
    if limits.balance_cap_vnd is not None and balance_vnd + transfer.amount_vnd > limits.balance_cap_vnd:
        return StatusReason.AM02
    return None


def decide_verification(
    customer: Customer | None, request: VerificationRequest
) -> tuple[VerificationOutcome, StatusReason | None, str | None]:
    """(outcome, reason, holder's masked name). Only an active account of this person matches."""
    if customer is None:
        return VerificationOutcome.NMTC, StatusReason.AC01, None
    if customer.status == AccountStatus.CLOSED:
        return VerificationOutcome.NMTC, StatusReason.AC04, None
    if customer.status in (AccountStatus.BLOCKED, AccountStatus.DORMANT):
        return VerificationOutcome.NMTC, StatusReason.AC06, None
    if request.citizen_id is not None and request.citizen_id != customer.citizen_id:
        return VerificationOutcome.NMTC, StatusReason.BE01, None
    outcome = compare_names(request.name, customer.holder_name)
    if outcome == VerificationOutcome.MTCH:
        return outcome, None, None
    if outcome == VerificationOutcome.CMTC:
        return outcome, None, mask_name(customer.holder_name)
    return outcome, StatusReason.BE01, None


def decide_outbound(customer: Customer | None) -> StatusReason | None:
    """Whether the bank lets its customer pay at all; funds are the ledger's question."""
    if customer is None:
        return StatusReason.AC01
    if customer.status in STATUS_REASONS:
        return STATUS_REASONS[customer.status]
    return None
