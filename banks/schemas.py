"""A participant node's customers, knobs and the customer-side payment order."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, model_validator

from switch.scheme.codes import Purpose, StatusReason
from switch.scheme.messages import (
    AccountNumber,
    Alias,
    AmountVnd,
    Bin,
    Max35Text,
    Max140Text,
    SchemeMessage,
    check_creditor_address,
)

CUSTOMERS_PER_CALL_MAX = 100_000
ORDERS_PER_BATCH_MAX = 8_190


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    DORMANT = "dormant"  # no activity for long: receives, but cannot be verified for welfare
    CLOSED = "closed"
    BLOCKED = "blocked"


class InboundStatus(enum.StrEnum):
    CREDITED = "credited"  # credited pending, waiting for the switch's finality notice
    SETTLED = "settled"
    REJECTED = "rejected"  # refused by us, or voided by the switch before it arrived
    REVERSED = "reversed"  # credited, then the switch gave up (late answer): credit voided


class OutboundStatus(enum.StrEnum):
    PENDING = "pending"
    SETTLED = "settled"
    REJECTED = "rejected"


@dataclass(slots=True)
class Customer:
    account: str  # account number at a bank, mobile number at a wallet provider
    holder_name: str  # as banks store it: upper case, no diacritics
    citizen_id: str
    status: AccountStatus = AccountStatus.ACTIVE
    phone: str | None = None
    kyc_level: int | None = None
    inflow_month: str = ""
    inflow_vnd: int = 0


@dataclass(slots=True, frozen=True)
class Behaviour:
    """Knobs for how the node behaves on the network; rates are probabilities per transfer."""

    latency_ms: int = 20
    timeout_rate: float = 0.0  # answers later than the switch waits
    late_answer_ms: int = 30_000
    reject_rate: float = 0.0  # refuses a valid credit anyway (a core-banking fault)
    reject_reason: StatusReason = StatusReason.AC06
    offline: bool = False


@dataclass(slots=True, frozen=True)
class Limits:
    """Caps on what a customer may receive: wallets have them, bank accounts do not."""

    monthly_inflow_cap_vnd: int | None = None
    balance_cap_vnd: int | None = None


class PaymentOrder(SchemeMessage):
    """A customer's instruction to its own bank: pay this amount to that account or alias."""

    order_id: Max35Text
    debtor_account: AccountNumber
    amount_vnd: AmountVnd
    creditor_alias: Alias | None = None
    creditor_agent: Bin | None = None
    creditor_account: AccountNumber | None = None
    creditor_name: Max140Text | None = None
    purpose: Purpose = Purpose.CASH
    remittance_information: Annotated[str, Field(max_length=140)] | None = None

    @model_validator(mode="after")
    def _one_creditor_address(self) -> PaymentOrder:
        check_creditor_address(self.creditor_alias, self.creditor_account, self.creditor_agent)
        return self
