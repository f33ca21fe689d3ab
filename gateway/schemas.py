"""Request and response bodies of the switch's HTTP API (snake_case ISO 20022 names, VND as int)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from switch.scheme.codes import ParticipantKind, ParticipantStatus, StatusReason, TransactionStatus, WireFormat
from switch.scheme.messages import AMOUNT_VND_MAX, TRANSACTIONS_PER_MESSAGE_MAX, Alias, AmountVnd, Bin

URL_LENGTH_MAX = 300


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
