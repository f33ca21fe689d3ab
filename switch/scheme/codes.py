"""Status and reason codes: stable enum values, part of the public contract."""

from __future__ import annotations

import enum


class TransactionStatus(enum.StrEnum):
    ACTC = "ACTC"  # accepted technically: the format is valid
    ACSP = "ACSP"  # accepted, settlement in process
    ACSC = "ACSC"  # settled: final
    RJCT = "RJCT"  # rejected: final
    PDNG = "PDNG"  # pending: waiting for the creditor agent

    @property
    def is_final(self) -> bool:
        return self in (TransactionStatus.ACSC, TransactionStatus.RJCT)


class StatusReason(enum.StrEnum):
    """ISO 20022 ExternalStatusReason1Code values the scheme uses."""

    AC01 = "AC01"  # account identifier invalid or unknown
    AC04 = "AC04"  # account closed
    AC06 = "AC06"  # account blocked
    AM02 = "AM02"  # amount above the allowed maximum (transfer limit, wallet cap)
    AM04 = "AM04"  # insufficient funds (debtor's position at the switch)
    AB05 = "AB05"  # creditor agent did not answer in time
    AB08 = "AB08"  # creditor agent offline
    BE01 = "BE01"  # creditor name or citizen id does not match the account
    BE16 = "BE16"  # creditor identification unknown (citizen id not in the population registry)
    BE23 = "BE23"  # alias unknown to the directory
    CH20 = "CH20"  # decimals not allowed for the currency (VND has no minor unit)
    DUPL = "DUPL"  # same id already used with other content
    FF01 = "FF01"  # invalid format
    MD07 = "MD07"  # end customer deceased
    NOOR = "NOOR"  # no original transaction received (status request for an unknown id)
    RC04 = "RC04"  # creditor agent unknown
    RR04 = "RR04"  # regulatory: participant suspended by the scheme

    @property
    def description(self) -> str:
        return REASON_DESCRIPTIONS[self]


REASON_DESCRIPTIONS: dict[StatusReason, str] = {
    StatusReason.AC01: "account identifier invalid or unknown",
    StatusReason.AC04: "account closed",
    StatusReason.AC06: "account blocked",
    StatusReason.AM02: "amount above the allowed maximum",
    StatusReason.AM04: "insufficient funds",
    StatusReason.AB05: "creditor agent did not answer in time",
    StatusReason.AB08: "creditor agent offline",
    StatusReason.BE01: "name or citizen id does not match the account",
    StatusReason.BE16: "citizen id unknown to the population registry",
    StatusReason.BE23: "alias unknown to the directory",
    StatusReason.CH20: "decimals not allowed for VND",
    StatusReason.DUPL: "duplicate id with other content",
    StatusReason.FF01: "invalid format",
    StatusReason.MD07: "beneficiary deceased",
    StatusReason.NOOR: "no original transaction received",
    StatusReason.RC04: "creditor agent unknown",
    StatusReason.RR04: "regulatory: participant suspended",
}


class VerificationOutcome(enum.StrEnum):
    """EPC Verification of Payee outcomes."""

    MTCH = "MTCH"  # match
    CMTC = "CMTC"  # close match: the holder's masked name is returned, nothing registered
    NMTC = "NMTC"  # no match


class ParticipantKind(enum.StrEnum):
    BANK = "bank"
    WALLET = "wallet"
    TREASURY = "treasury"


class ParticipantStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class WireFormat(enum.StrEnum):
    """How a participant's messages travel over HTTP: each is a codec of the same message objects."""

    ISO20022_XML = "iso20022-xml"  # head.001 + the ISO 20022 Document, validated against ISO's schemas
    JSON = "json"  # ISO 20022 element names in snake_case


class AliasType(enum.StrEnum):
    CITIZEN_ID = "citizen_id"  # 12-digit CCCD
    MSISDN = "msisdn"  # Vietnamese mobile number


class Purpose(enum.StrEnum):
    """ISO 20022 ExternalPurpose1Code values the scheme uses."""

    SSBE = "SSBE"  # social security benefit
    GDDS = "GDDS"  # purchase of goods
    SALA = "SALA"  # salary
    CASH = "CASH"  # cash management: person to person
    OTHR = "OTHR"


class RegistrationOutcome(enum.StrEnum):
    REGISTERED = "registered"
    CLOSE_MATCH = "close_match"  # the holder's masked name is shown; nothing registered
    REFUSED = "refused"
    REMOVED = "removed"


class Program(enum.StrEnum):
    """Welfare programs a payroll pays (the payer's rules give each its amount)."""

    MERIT_PERSON = "merit_person"  # people with meritorious services to the revolution (Decree 77/2024)
    SOCIAL_ASSISTANCE = "social_assistance"  # monthly social assistance (Decree 76/2024)
    ELDERLY = "elderly"  # people aged 80 and over without a pension
    DISABILITY = "disability"  # people with severe or especially severe disabilities


class ItemStatus(enum.StrEnum):
    """Where one payroll item stands at the switch. Paid, cash and held are final."""

    QUEUED = "queued"  # accepted, waiting to be sent to its creditor agent
    SENT = "sent"  # a credit transfer is in flight
    RETRY = "retry"  # the last attempt timed out or found the agent offline: it will be sent again
    PAID = "paid"  # the creditor agent credited the beneficiary's account: final
    CASH = "cash"  # on the cash list for the post office, with the reason: final
    HELD = "held"  # not paid: the identity check failed (deceased, name or id): final

    @property
    def is_final(self) -> bool:
        return self in (ItemStatus.PAID, ItemStatus.CASH, ItemStatus.HELD)


class DisbursementStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"  # every item is paid, on the cash list or held
    REJECTED = "rejected"  # nothing accepted: no valid row, or the debtor's funds do not cover it
