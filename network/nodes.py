"""Building and wiring nodes: the one place a switch, a bank, a wallet, the Treasury or the payer's node
(MOLISA and the Treasury's payment requests) is made and admitted to the switch, for the in-process
network, `switchyard serve`, its switch workers and the benches alike.

A node owns its database: each gets its own engine from the storage, named after the node.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Engine

from banks.node import ParticipantNode
from network.participants import ParticipantSpec, sample_account
from network.storage import Storage
from payer.node import PAYER_NODE_NAME, PayerNode
from payer.registry import PopulationRegistry
from payer.requests.schemas import ServingBank
from payer.rolls import Beneficiary, build_rolls
from switch.clearing.schemas import CREDITOR_TIMEOUT_MS
from switch.errors import ParticipantExists
from switch.node import SwitchNode
from switch.participants.schemas import Participant
from switch.scheme.codes import ParticipantKind
from switch.scheme.identity import IdentityRegistry
from wallets.node import WalletNode

SWITCH_NODE_NAME = "switch"


def build_switch(
    storage: Storage,
    creditor_timeout_ms: int = CREDITOR_TIMEOUT_MS,
    identities: IdentityRegistry | None = None,
    set_up: bool = True,
) -> SwitchNode:
    """The switch on its own database, its tables created (idempotent). `set_up=False` for the
    workers of one database, which `serve` set up before starting them: several workers creating
    tables at once would race on PostgreSQL's catalog."""
    switch = SwitchNode(storage.engine_for(SWITCH_NODE_NAME), creditor_timeout_ms, identities)
    if set_up:
        switch.setup()
    return switch


def restarted_switch(
    engine: Engine, creditor_timeout_ms: int = CREDITOR_TIMEOUT_MS, identities: IdentityRegistry | None = None
) -> SwitchNode:
    """The switch process started again on its database: what it kept in memory is gone; its tables
    are there already."""
    return SwitchNode(engine, creditor_timeout_ms, identities)


def participant_node_name(spec: ParticipantSpec) -> str:
    return f"{spec.kind.value}_{spec.bin}"


def build_participant(spec: ParticipantSpec, storage: Storage, seed: int = 0) -> ParticipantNode:
    """A simulated bank or wallet provider on its own database, with the spec's behaviour and caps."""
    assert spec.kind != ParticipantKind.TREASURY, "the Treasury's core banking is outside the sandbox"
    node_class = WalletNode if spec.kind == ParticipantKind.WALLET else ParticipantNode
    engine = storage.engine_for(participant_node_name(spec))
    node = node_class(spec.bin, spec.name, engine, spec.behaviour, spec.limits, seed)
    node.setup()
    return node


def restarted(node: ParticipantNode, seed: int = 0) -> ParticipantNode:
    """The same participant started again on its database (a crash, then a restart): a new node
    object with the same storage, behaviour and caps; what it kept in memory is gone; its tables are
    there already."""
    return type(node)(node.bin, node.name, node.engine, node.behaviour, node.limits, seed)


def admit(
    switch: SwitchNode, spec: ParticipantSpec, now_ms: int, base_url: str | None = None, inbound_batches: bool = False
) -> bool:
    """Register the participant at the switch with its net debit cap and fund its position with the
    spec's prefunding. False when the switch knew it already (a restart on the same database: the
    participant and its money are there)."""
    participant = Participant(
        spec.bin, spec.name, spec.kind, net_debit_cap_vnd=spec.net_debit_cap_vnd, base_url=base_url,
        inbound_batches=inbound_batches, wire=spec.wire,
        transactions_per_message_max=spec.transactions_per_message_max,
    )  # fmt: skip
    try:
        switch.register_participant(participant, now_ms)
    except ParticipantExists:
        return False
    if spec.prefund_vnd:
        switch.fund_in(spec.bin, spec.prefund_vnd, now_ms)
    return True


# A roll written by a commune clerk now and then names a person by another given name: the police
# registry check (C06) then leaves them off the list as an identity mismatch, so a list prepared
# from the sandbox's rolls shows that check at work on a few people.
SANDBOX_ROLLS_NAME_TYPO_SHARE = 0.01


def sandbox_rolls(registry: PopulationRegistry, seed: int, today: date) -> list[Beneficiary]:
    """Everyone in the sandbox's population on one roll, by the default program shares, the same for
    the same seed."""
    return build_rolls(registry.people(), random.Random(seed), today, SANDBOX_ROLLS_NAME_TYPO_SHARE)


# The Treasury's account at its serving bank: a VietinBank account number (<BIN><7 digits>, as the
# sandbox's sample accounts), far from the sample customers' 0 to 49 and the closed and blocked ones.
TREASURY_ACCOUNT_NUMBER = 9_000_001
VIETINBANK = ServingBank(
    bin="970415",
    name="VietinBank",
    treasury_account=sample_account("970415", ParticipantKind.BANK, TREASURY_ACCOUNT_NUMBER),
)


def build_payer(
    storage: Storage,
    registry: IdentityRegistry,
    rolls: Sequence[Beneficiary],
    serving_bank: ServingBank = VIETINBANK,
) -> PayerNode:
    """The payer's node (payment requests and their audit trail) on its own database, its tables
    created (idempotent: a restart on the same database keeps every request and the whole chain). It
    prepares lists from `rolls` against `registry`, the police registry, within the budgets of those
    rolls (payer.node's default), and writes approved lists as payment orders to `serving_bank`, the
    commercial bank that holds the Treasury's account (VietinBank by default)."""
    node = PayerNode(storage.engine_for(PAYER_NODE_NAME), registry, rolls, serving_bank=serving_bank)
    node.setup()
    return node
