"""The invariants checked after every run: money conserved across all ledgers, nothing paid twice,
every transfer in exactly one final state.

Run when the network is quiet (nothing in flight). Returns the figures and the list of failures,
each naming the invariant it breaks; an empty list means all hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from banks.schemas import InboundStatus, OutboundStatus
from network.sandbox import Sandbox
from switch.scheme.codes import DisbursementStatus, TransactionStatus


@dataclass(slots=True)
class InvariantReport:
    customer_money_vnd: int = 0
    opening_deposits_vnd: int = 0
    payroll_paid_count: int = 0
    payroll_paid_vnd: int = 0
    settled_count: int = 0
    settled_vnd: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def check_invariants(sandbox: Sandbox) -> InvariantReport:
    report = InvariantReport(opening_deposits_vnd=sandbox.opening_deposits_vnd)
    if sandbox.network.pending():
        report.failures.append(f"quiescence: {sandbox.network.pending()} messages still in flight")
    _check_ledgers(sandbox, report)
    _check_disbursements(sandbox, report)
    _check_final_states(sandbox, report)
    _check_positions(sandbox, report)
    _check_customer_money(sandbox, report)
    return report


def _check_ledgers(sandbox: Sandbox, report: InvariantReport) -> None:
    try:
        sandbox.switch.check_invariants()
    except Exception as error:  # noqa: BLE001 - every failure is reported, not just the first
        report.failures.append(f"switch ledger: {error}")
    for bin_code, node in sandbox.nodes.items():
        try:
            node.check_invariants()
        except Exception as error:  # noqa: BLE001
            report.failures.append(f"ledger of {bin_code}: {error}")


def _check_final_states(sandbox: Sandbox, report: InvariantReport) -> None:
    """Every transfer at the switch is ACSC or RJCT, and the two sides agree on what settled."""
    settled_count = settled_vnd = 0
    for row in sandbox.switch.clearing_summary():
        if not TransactionStatus(row["status"]).is_final:
            report.failures.append(f"final state: {row['count']} transfers still {row['status']} at the switch")
        if row["status"] == TransactionStatus.ACSC.value:
            settled_count += row["count"]
            settled_vnd += row["amount_vnd"]
    report.settled_count, report.settled_vnd = settled_count, settled_vnd
    credited = paid = (0, 0)
    for bin_code, node in sandbox.nodes.items():
        inbound = node.inbound_counts()
        outbound = node.outbound_counts()
        if inbound.get(InboundStatus.CREDITED.value):
            report.failures.append(
                f"final state: {bin_code} holds credits never confirmed: {inbound[InboundStatus.CREDITED.value]}"
            )
        if outbound.get(OutboundStatus.PENDING.value):
            report.failures.append(
                f"final state: {bin_code} holds payments never answered: {outbound[OutboundStatus.PENDING.value]}"
            )
        settled_in = inbound.get(InboundStatus.SETTLED.value, (0, 0))
        settled_out = outbound.get(OutboundStatus.SETTLED.value, (0, 0))
        credited = (credited[0] + settled_in[0], credited[1] + settled_in[1])
        paid = (paid[0] + settled_out[0], paid[1] + settled_out[1])
    if credited != (settled_count, settled_vnd):
        report.failures.append(
            f"paid once: creditors credited {credited}, the switch settled {(settled_count, settled_vnd)}"
        )
    # The Treasury's payroll items settle at the switch without a simulated debtor node behind them.
    payroll = (report.payroll_paid_count, report.payroll_paid_vnd)
    if (paid[0] + payroll[0], paid[1] + payroll[1]) != (settled_count, settled_vnd):
        also = f" and the payroll {payroll}" if payroll[0] else ""
        report.failures.append(
            f"paid once: debtors paid {paid}{also}, the switch settled {(settled_count, settled_vnd)}"
        )


def _check_positions(sandbox: Sandbox, report: InvariantReport) -> None:
    """Each participant's settlement account mirrors its position at the switch, to the dong."""
    positions = sandbox.switch.positions()
    for bin_code, node in sandbox.nodes.items():
        mirror, _customers = node.money()
        held = positions[bin_code].liquidity_vnd
        if mirror != held:
            report.failures.append(f"conservation: {bin_code} books {mirror} VND at the switch, which holds {held}")
        if positions[bin_code].reserved_vnd:
            report.failures.append(f"final state: {positions[bin_code].reserved_vnd} VND still reserved for {bin_code}")


def _check_customer_money(sandbox: Sandbox, report: InvariantReport) -> None:
    """Payments move money between customers; none is made or lost: the total is the opening total."""
    total = sum(node.money()[1] for node in sandbox.nodes.values())
    report.customer_money_vnd = total
    expected = sandbox.opening_deposits_vnd + report.payroll_paid_vnd
    if total != expected:
        payroll = f" and paid {report.payroll_paid_vnd} of payroll" if report.payroll_paid_vnd else ""
        report.failures.append(
            f"conservation: customers hold {total} VND, they were given {sandbox.opening_deposits_vnd}{payroll}"
        )


def _check_disbursements(sandbox: Sandbox, report: InvariantReport) -> None:
    """Every payroll item ended paid, on the cash list or held; paid + cash + held = submitted; and
    what the switch counts as paid is what the banks and wallets credited for the disbursement."""
    for disbursement in sandbox.switch.disbursements():
        if disbursement.status == DisbursementStatus.RUNNING:
            report.failures.append(f"final state: disbursement {disbursement.id} is still running")
            continue
        reconciliation = sandbox.switch.disbursement_summary(None, disbursement.id).reconciliation
        if disbursement.status == DisbursementStatus.COMPLETED and not reconciliation.balanced:
            figures = reconciliation.model_dump()
            report.failures.append(f"reconciliation: disbursement {disbursement.id} does not balance: {figures}")
        paid = (reconciliation.paid.count, reconciliation.paid.amount_vnd)
        credited = (0, 0)
        for node in sandbox.nodes.values():
            count, amount = node.settled_credits(f"{disbursement.debtor_agent}:PR{disbursement.id:07d}-")
            credited = (credited[0] + count, credited[1] + amount)
        if credited != paid:
            report.failures.append(
                f"reconciliation: disbursement {disbursement.id} paid {paid}, banks and wallets credited {credited}"
            )
        report.payroll_paid_count += paid[0]
        report.payroll_paid_vnd += paid[1]
