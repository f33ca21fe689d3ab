"""The mobile-money provider node: a participant node with wallet caps."""

from __future__ import annotations

from collections.abc import Sequence

from banks.node import ParticipantNode
from banks.schemas import AccountStatus, Customer, Limits
from switch.scheme.identifiers import check_msisdn, normalize_msisdn

# Decree 368/2025 from 2026; the 2021 pilot (Decision 316/QĐ-TTg) capped a wallet at 10,000,000 a month.
MONTHLY_INFLOW_CAP_VND = 100_000_000
PILOT_2021_MONTHLY_INFLOW_CAP_VND = 10_000_000
BALANCE_CAP_VND = 100_000_000
KYC_LEVELS = (1, 2)  # 1: identity checked electronically against the national ID; 2: in person too


def wallet_limits(pilot_2021: bool = False) -> Limits:
    cap = PILOT_2021_MONTHLY_INFLOW_CAP_VND if pilot_2021 else MONTHLY_INFLOW_CAP_VND
    return Limits(monthly_inflow_cap_vnd=cap, balance_cap_vnd=BALANCE_CAP_VND)


def new_wallet(msisdn: str, holder_name: str, citizen_id: str, kyc_level: int = 1,
               status: AccountStatus = AccountStatus.ACTIVE) -> Customer:  # fmt: skip
    number = normalize_msisdn(msisdn)
    problem = check_msisdn(number)
    if problem:
        raise ValueError(f"msisdn: {problem}")
    if type(kyc_level) is not int or kyc_level not in KYC_LEVELS:
        raise ValueError(f"kyc_level: must be one of {KYC_LEVELS}")
    return Customer(account=number, holder_name=holder_name, citizen_id=citizen_id, status=status,
                    phone=number, kyc_level=kyc_level)  # fmt: skip


class WalletNode(ParticipantNode):
    default_limits = wallet_limits()

    def open_accounts(self, customers: Sequence[tuple[Customer, int]], now_ms: int) -> None:
        for customer, _deposit in customers:
            if check_msisdn(customer.account):
                raise ValueError(f"account: a wallet is keyed by its mobile number, got {customer.account!r}")
        super().open_accounts(customers, now_ms)
