"""Scheme messages as pydantic models, ISO 20022 element names in snake_case.

    credit transfer (pacs.008)       CreditTransfer; a message of many: CreditTransferMessage
    status report (pacs.002)         StatusReport; a message of many: StatusReportMessage
    status request (pacs.028)        StatusRequest
    account verification (acmt.023)  VerificationRequest
    verification report (acmt.024)   VerificationReport
    alias registration (citizen app) AliasRegistration, AliasRemoval, AliasRegistrationReport

Validation here is about shape: lengths, digits, integer amounts. Whether a participant exists or an
alias resolves is the switch's business, answered with a status report, not a validation error.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from switch.scheme.codes import (
    AliasType,
    Purpose,
    RegistrationOutcome,
    StatusReason,
    TransactionStatus,
    VerificationOutcome,
)
from switch.scheme.identifiers import (
    ACCOUNT_PATTERN,
    BIN_PATTERN,
    CITIZEN_ID_PATTERN,
    check_account,
    check_bin,
    check_msisdn,
    normalize_msisdn,
)

S = TypeVar("S", bound="SchemeMessage")
AMOUNT_VND_MAX = 10**15  # far above any real transfer; keeps amounts inside a signed 64-bit column
# NAPAS's per-transaction limit for 24/7 fast transfers: above it the switch refuses a transfer AM02
# (a business reject, answered in a status report), while above AMOUNT_VND_MAX it is not a message.
SCHEME_TRANSFER_LIMIT_VND = 500_000_000
# One pacs.008 or pacs.002 carries at most this many transactions: what one switch batch decides
# for one participant fits (the inbound batch call's limit is the same), and a message stays small
# enough to parse and validate in a few milliseconds.
TRANSACTIONS_PER_MESSAGE_MAX = 1_000


_DECIMAL_WITH_FRACTION = re.compile(r"-?[0-9]+\.[0-9]*[1-9][0-9]*")


def _whole_vnd(value: Any) -> Any:
    """VND has no minor unit: an amount with a fraction (1000.5, "1000.5") is refused as CH20.

    Anything else that is not a JSON integer (1000.0, "1000", "1.000.000", NaN, infinity, true) is
    a wrong type, FF01, and the strict integer check below says so.
    """
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "amount must be an integer number of VND, not a boolean")
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        raise PydanticCustomError("decimals_not_allowed", "VND has no minor unit: decimals are not allowed")
    if isinstance(value, str) and _DECIMAL_WITH_FRACTION.fullmatch(value.strip()):
        raise PydanticCustomError("decimals_not_allowed", "VND has no minor unit: decimals are not allowed")
    return value


def _rule(check: Any) -> Any:
    def validate(value: str) -> str:
        problem = check(value)
        if problem:
            raise PydanticCustomError("identifier_rule", problem)
        return value

    return validate


_AMOUNT_TOO_LARGE = (
    f"must be at most {AMOUNT_VND_MAX:,} VND; a transfer above the scheme's per-transaction limit of"
    f" {SCHEME_TRANSFER_LIMIT_VND:,} VND is refused AM02"
)


def _storable(value: int) -> int:
    if value > AMOUNT_VND_MAX:
        raise PydanticCustomError("amount_too_large", _AMOUNT_TOO_LARGE)
    return value


def _published(pattern: re.Pattern[str]) -> dict[str, Any]:
    """A rule a validator checks, published in the JSON schema too (the validator names the rule)."""
    return {"pattern": f"^{pattern.pattern}$"}


# Field first: its bounds then stay JSON Schema's (exclusiveMinimum, maximum) in the published document.
AmountVnd = Annotated[
    int, Field(strict=True, gt=0, json_schema_extra={"maximum": AMOUNT_VND_MAX}), BeforeValidator(_whole_vnd),
    AfterValidator(_storable),
]  # fmt: skip
# Every message may travel as ISO 20022 XML, which cannot carry most control characters (XML 1.0
# allows tab, line feed and carriage return): text with one is refused at the door, not when a
# report or a creditor's pacs.008 is written (switch.scheme.xml refuses the same characters).
XML_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]*$"
Max35Text = Annotated[str, Field(min_length=1, max_length=35, pattern=XML_TEXT_PATTERN)]
Max140Text = Annotated[str, Field(min_length=1, max_length=140, pattern=XML_TEXT_PATTERN)]
Bin = Annotated[str, AfterValidator(_rule(check_bin)), Field(json_schema_extra=_published(BIN_PATTERN))]
AccountNumber = Annotated[
    str, AfterValidator(_rule(check_account)), Field(json_schema_extra=_published(ACCOUNT_PATTERN))
]
CitizenIdText = Annotated[str, Field(pattern=r"^[0-9]{12}$")]


def check_creditor_address(alias: object, account: str | None, agent: str | None) -> None:
    """A transfer names its creditor by alias, or by account at a named agent."""
    if alias is None and (account is None or agent is None):
        raise PydanticCustomError(
            "creditor_address", "creditor: give creditor_alias, or creditor_account with creditor_agent"
        )


_FIELD_NAMES: dict[type, frozenset[str]] = {}  # per message class, for `unchecked`


class SchemeMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def unchecked(cls: type[S], **values: Any) -> S:
        """A message from values the caller built from validated ones, every field given: what
        pydantic's model_construct does without its per-field default lookup (ten times faster,
        which counts at a payroll's hundred thousand transfers)."""
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = _FIELD_NAMES[cls] = frozenset(cls.__pydantic_fields__)
        if values.keys() != names:
            missing, extra = names - values.keys(), values.keys() - names
            raise AssertionError(f"{cls.__name__}.unchecked: missing {sorted(missing)}, unknown {sorted(extra)}")
        message = cls.__new__(cls)
        object.__setattr__(message, "__dict__", values)
        object.__setattr__(message, "__pydantic_fields_set__", set(values))
        object.__setattr__(message, "__pydantic_extra__", None)
        object.__setattr__(message, "__pydantic_private__", None)
        return message


class Alias(SchemeMessage):
    type: AliasType
    value: Annotated[str, Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _value_fits_type(self) -> Alias:
        if self.type == AliasType.MSISDN:
            number = normalize_msisdn(self.value)
            problem = check_msisdn(number)
            if problem:
                raise PydanticCustomError("identifier_rule", "alias.value: " + problem)
            object.__setattr__(self, "value", number)
        elif not CITIZEN_ID_PATTERN.fullmatch(self.value):
            raise PydanticCustomError("identifier_rule", "alias.value: a citizen id must be exactly 12 digits")
        return self

    @property
    def key(self) -> str:
        return f"{self.type.value}:{self.value}"


class Party(SchemeMessage):
    name: Max140Text | None = None
    citizen_id: CitizenIdText | None = None


class CreditTransfer(SchemeMessage):
    """One credit transfer transaction (pacs.008 CdtTrfTxInf with its group header's message id)."""

    message_id: Max35Text
    end_to_end_id: Max35Text
    transaction_id: Max35Text
    amount_vnd: AmountVnd
    currency: Literal["VND"] = "VND"
    debtor: Party
    debtor_account: AccountNumber
    debtor_agent: Bin
    creditor: Party = Party()
    creditor_account: AccountNumber | None = None
    creditor_alias: Alias | None = None
    creditor_agent: Bin | None = None
    purpose: Purpose = Purpose.OTHR
    remittance_information: Max140Text | None = None

    @model_validator(mode="after")
    def _one_creditor_address(self) -> CreditTransfer:
        check_creditor_address(self.creditor_alias, self.creditor_account, self.creditor_agent)
        return self


class StatusReport(SchemeMessage):
    """Status of one transaction (pacs.002 TxInfAndSts), sent by the creditor and by the switch."""

    original_message_id: Max35Text
    original_end_to_end_id: Max35Text
    original_transaction_id: Max35Text
    debtor_agent: Bin
    transaction_status: TransactionStatus
    status_reason: StatusReason | None = None
    creditor_agent: Bin | None = None
    amount_vnd: AmountVnd | None = None
    settled_at_ms: int | None = None
    additional_information: Annotated[str, Field(max_length=500, pattern=XML_TEXT_PATTERN)] | None = None
    # AddtlInf above: the rule broken


class CreditTransferMessage(SchemeMessage):
    """pacs.008 FIToFICstmrCdtTrf: one group header and its transactions, 1 to
    TRANSACTIONS_PER_MESSAGE_MAX. Each transaction carries the message's id, as a single
    `CreditTransfer` does; they may come from several debtor agents (the switch to a creditor agent)
    or go to several creditor agents (a debtor agent to the switch). A transaction that breaks a
    rule is refused on its own by whoever reads the message: it never sinks the others."""

    message_id: Max35Text
    transactions: Annotated[tuple[CreditTransfer, ...], Field(min_length=1, max_length=TRANSACTIONS_PER_MESSAGE_MAX)]

    @model_validator(mode="after")
    def _transactions_carry_the_message_id(self) -> CreditTransferMessage:
        for number, transaction in enumerate(self.transactions):
            if transaction.message_id != self.message_id:
                raise PydanticCustomError(
                    "message_id", f"transactions.{number}.message_id must be the message's id {self.message_id!r}"
                )
        return self


class StatusReportMessage(SchemeMessage):
    """pacs.002 FIToFIPmtStsRpt: one message answering many transactions, 1 to
    TRANSACTIONS_PER_MESSAGE_MAX, each report naming its own original message (OrgnlGrpInf per
    transaction), so one message can answer transactions of several pacs.008s."""

    message_id: Max35Text
    reports: Annotated[tuple[StatusReport, ...], Field(min_length=1, max_length=TRANSACTIONS_PER_MESSAGE_MAX)]


class StatusRequest(SchemeMessage):
    """pacs.028: the debtor agent asks the state of one of its transactions."""

    message_id: Max35Text
    original_transaction_id: Max35Text
    debtor_agent: Bin


class VerificationRequest(SchemeMessage):
    """acmt.023: does this account exist, is it active, and is it this person's?"""

    verification_id: Max35Text
    agent: Bin
    account: AccountNumber
    name: Max140Text
    citizen_id: CitizenIdText | None = None


class VerificationReport(SchemeMessage):
    """acmt.024: the account holder's answer."""

    original_verification_id: Max35Text
    agent: Bin
    outcome: VerificationOutcome
    holder_name_masked: Max140Text | None = None
    reason: StatusReason | None = None


class AliasRegistration(SchemeMessage):
    """The citizen app asks to make this account the one that receives welfare (and payments)."""

    request_id: Max35Text
    alias: Alias
    name: Max140Text
    citizen_id: CitizenIdText
    agent: Bin
    account: AccountNumber


class AliasRemoval(SchemeMessage):
    request_id: Max35Text
    alias: Alias
    citizen_id: CitizenIdText


class AliasRegistrationReport(SchemeMessage):
    original_request_id: Max35Text
    alias: Alias
    outcome: RegistrationOutcome
    verification: VerificationOutcome | None = None
    holder_name_masked: str | None = None
    reason: StatusReason | None = None
