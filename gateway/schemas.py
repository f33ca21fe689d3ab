"""Request and response bodies of the switch's and the simulated nodes' HTTP APIs (snake_case
ISO 20022 names, VND as int). Each is what the route really takes or answers: the OpenAPI document
is made from them, and schemathesis holds every answer to it (tests/e2e/test_serve_schemathesis.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from banks.schemas import OutboundStatus
from switch.scheme.codes import (
    DisbursementStatus,
    ItemStatus,
    ParticipantKind,
    ParticipantStatus,
    Program,
    StatusReason,
    TransactionStatus,
    WireFormat,
)
from switch.scheme.disbursement import ITEMS_PER_FILE_MAX, DisbursementItem
from switch.scheme.identifiers import BIN_PATTERN, CITIZEN_ID_PATTERN
from switch.scheme.messages import AMOUNT_VND_MAX, TRANSACTIONS_PER_MESSAGE_MAX, Alias, AmountVnd, Bin, Max35Text

URL_LENGTH_MAX = 300
# The identifiers' rules as JSON Schema patterns, for path and query parameters (FastAPI checks them
# and names the parameter and the pattern in its 422).
BIN_PARAMETER_PATTERN = f"^{BIN_PATTERN.pattern}$"
CITIZEN_ID_PARAMETER_PATTERN = f"^{CITIZEN_ID_PATTERN.pattern}$"
ALIAS_VALUE_LENGTH_MAX = 20  # an alias is a 12-digit citizen id or a mobile number (+84 and spaces allowed)
ID_LENGTH_MAX = 35  # ISO 20022 Max35Text: message, end-to-end, transaction and order ids


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParticipantIn(Body):
    bin: Bin
    name: Annotated[str, Field(min_length=1, max_length=140)]
    kind: ParticipantKind
    net_debit_cap_vnd: Annotated[int, Field(strict=True, ge=0, le=AMOUNT_VND_MAX)] = 0
    base_url: Annotated[str, Field(min_length=1, max_length=URL_LENGTH_MAX, pattern=r"^https?://")] | None = None
    # True when the participant serves POST {base_url}/v1/inbound/batches (see the inbound API)
    inbound_batches: Annotated[bool, Field(strict=True)] = False
    # How its messages travel: ISO 20022 XML (head.001 + the Document) or JSON with ISO names
    wire: WireFormat = WireFormat.JSON
    # How many transactions one pacs.008 or pacs.002 to it may carry (1: single transfers only)
    transactions_per_message_max: Annotated[int, Field(strict=True, ge=1, le=TRANSACTIONS_PER_MESSAGE_MAX)] = (
        TRANSACTIONS_PER_MESSAGE_MAX
    )


class ParticipantOut(BaseModel):
    bin: str
    name: str
    kind: ParticipantKind
    status: ParticipantStatus
    net_debit_cap_vnd: int
    base_url: str | None
    inbound_batches: bool
    wire: WireFormat
    transactions_per_message_max: int


class RegisteredParticipant(ParticipantOut):
    api_key: str  # shown once: the switch keeps only its SHA-256
    signing_secret: str  # the switch signs every call to the participant with it (HMAC-SHA256)


class WireIn(Body):
    wire: WireFormat


class LimitsIn(Body):
    net_debit_cap_vnd: Annotated[int, Field(strict=True, ge=0, le=AMOUNT_VND_MAX)]


class FundsIn(Body):
    amount_vnd: AmountVnd


class PositionOut(BaseModel):
    bin: str
    liquidity_vnd: int
    reserved_vnd: int
    net_debit_cap_vnd: int
    available_vnd: int


class TransferStatusOut(BaseModel):
    """pacs.002 for one transaction, as the debtor agent reads it."""

    original_message_id: str
    original_end_to_end_id: str
    original_transaction_id: str
    debtor_agent: str
    creditor_agent: str | None
    amount_vnd: int
    transaction_status: TransactionStatus
    status_reason: StatusReason | None


class AliasOut(BaseModel):
    """A directory answer: where to send, and a masked name to show the payer; nothing more."""

    agent: str
    holder_name_masked: str


class AliasChange(BaseModel):
    action: str  # registered, changed, removed
    agent: str
    account: str
    at_ms: int


class AliasRegistrationOut(BaseModel):
    """What a citizen sees of their own registration: where welfare goes, and what changed when."""

    alias: Alias
    agent: str
    account: str
    registered_ms: int
    history: list[AliasChange]


class Health(BaseModel):
    status: Literal["ok"]


class TransferPending(BaseModel):
    """202 to a pacs.008: the creditor has not answered in time; the final status follows by the
    status callback and by GET /v1/transfers/{transaction_id} (in Location)."""

    original_transaction_id: str
    debtor_agent: str
    transaction_status: Literal[TransactionStatus.PDNG]


class ClearingCount(BaseModel):
    """Transfers the switch cleared with one status, reason, debtor agent and creditor agent."""

    status: TransactionStatus
    reason: StatusReason | None
    debtor_agent: str
    creditor_agent: str | None
    count: int
    amount_vnd: int


class DisbursementFileIn(Body):
    """A payroll file as JSON (the same rows as CSV and pain.001 carry). A row that breaks a rule
    is refused on its own (row_errors); the file is refused whole only when it cannot be read."""

    message_id: Max35Text
    items: Annotated[list[DisbursementItem], Field(min_length=1, max_length=ITEMS_PER_FILE_MAX)]


class RowErrorOut(BaseModel):
    row: int
    field: str
    rule: str
    reason: StatusReason
    end_to_end_id: str | None


class DisbursementOut(BaseModel):
    id: int
    debtor_agent: str
    message_id: str
    source_format: Literal["json", "csv", "pain.001"]
    status: DisbursementStatus
    reason: StatusReason | None
    rows_total: int
    rows_rejected: int
    items_total: int
    amount_total_vnd: int
    reserved_vnd: int
    received_ms: int
    completed_ms: int | None
    superseded_by: int | None


class DisbursementLinks(BaseModel):
    summary: str
    items: str
    report: str
    cash_list: str


class DisbursementAccepted(DisbursementOut):
    """The answer to a file: the disbursement, its first row errors and where to read the rest."""

    row_errors: list[RowErrorOut]
    row_errors_total: int
    links: DisbursementLinks


class ItemOut(BaseModel):
    """One payroll item: the items CSV's columns (switch.disbursements.reports.ITEM_COLUMNS)."""

    row: int
    end_to_end_id: str
    citizen_id: str
    name: str
    province_code: str
    program: Program
    cycle: str
    amount_vnd: int
    status: ItemStatus
    reason: StatusReason | None
    creditor_agent: str | None
    attempts: int
    payment_info_id: str | None
    category_purpose: str | None
    purpose: str | None


class ItemsPage(BaseModel):
    items: list[ItemOut]
    next_after: int | None  # the `after` for the next page; None on the last


# --- a simulated bank's or wallet's own API (gateway.node_app) -----------------------------------


class NodeHealth(BaseModel):
    status: Literal["ok"]
    bin: str


class PaymentAccepted(BaseModel):
    order_id: str
    status: Literal["accepted for processing"]


class PaymentState(BaseModel):
    """A customer's payment as its bank sees it."""

    transaction_id: str
    account: str
    amount_vnd: int
    status: OutboundStatus
    reason: str | None
    updated_ms: int


class Books(BaseModel):
    """What an auditor compares with the switch's position for this participant."""

    balanced: bool
    settlement_vnd: int
    customers_vnd: int
    open_items: int
