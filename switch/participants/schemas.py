from __future__ import annotations

from dataclasses import dataclass

from switch.scheme.codes import ParticipantKind, ParticipantStatus, WireFormat
from switch.scheme.messages import TRANSACTIONS_PER_MESSAGE_MAX

SWITCH_SETTLEMENT_ACCOUNT = "settlement:sbv"  # the switch's settlement account at the State Bank
CREDIT_LINE_ACCOUNT = "credit_line"  # where net debit caps come from; no real money
PARTICIPANTS_MAX = 1_000


def position_account(bin_code: str) -> str:
    return f"position:{bin_code}"


@dataclass(slots=True, frozen=True)
class Participant:
    bin: str
    name: str
    kind: ParticipantKind
    status: ParticipantStatus = ParticipantStatus.ACTIVE
    net_debit_cap_vnd: int = 0
    base_url: str | None = None
    # It serves POST {base_url}/v1/inbound/batches: the switch may send it many messages in one call.
    inbound_batches: bool = False
    # What its messages look like on HTTP: ISO 20022 XML documents, or JSON with ISO names.
    wire: WireFormat = WireFormat.JSON
    # How many transactions one pacs.008 or pacs.002 to it may carry: 1 for a participant that takes
    # single transfers only, up to the scheme's TRANSACTIONS_PER_MESSAGE_MAX.
    transactions_per_message_max: int = TRANSACTIONS_PER_MESSAGE_MAX

    def __post_init__(self) -> None:
        if not 1 <= self.transactions_per_message_max <= TRANSACTIONS_PER_MESSAGE_MAX:
            given, most = self.transactions_per_message_max, TRANSACTIONS_PER_MESSAGE_MAX
            raise ValueError(f"transactions_per_message_max: {given} is not 1 to {most}")

    @property
    def active(self) -> bool:
        return self.status == ParticipantStatus.ACTIVE


@dataclass(slots=True, frozen=True)
class Position:
    """A participant's standing at the switch, in VND.

    `liquidity_vnd` is prefunded money less what it paid out plus what it received: negative while
    it uses its net debit cap. `available_vnd` is what it can still send.
    """

    bin: str
    liquidity_vnd: int
    reserved_vnd: int
    net_debit_cap_vnd: int

    @property
    def available_vnd(self) -> int:
        return self.liquidity_vnd + self.net_debit_cap_vnd - self.reserved_vnd


@dataclass(slots=True, frozen=True)
class Credentials:
    """What a participant authenticates with (api_key) and checks the switch's calls with."""

    bin: str
    api_key: str
    signing_secret: str
