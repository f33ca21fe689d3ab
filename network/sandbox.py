"""The in-process world: a network's nodes (the default one, `network.participants`, unless told
otherwise), built and admitted by `network.nodes`, on the in-process transport and its simulated
clock.

`Sandbox` offers what a scenario needs: open accounts, fund participants at the switch (and mirror
it at the participant), register aliases through the citizen app, pay, submit a payer's file, run
the clock, restart a node, and let `network.checks` read every node's books.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from banks.node import ParticipantNode
from banks.schemas import Customer, PaymentOrder
from network import nodes
from network.inprocess import InProcessNetwork, LinkFaults
from network.participants import DEFAULT_PARTICIPANTS, DEFAULT_START, ParticipantSpec
from network.storage import Storage
from network.xml_link import through_iso20022
from switch.clearing.schemas import CREDITOR_TIMEOUT_MS
from switch.disbursements.schemas import DisbursementRecord
from switch.scheme.codes import ParticipantKind, WireFormat
from switch.scheme.disbursement import DisbursementFile
from switch.scheme.identity import IdentityRegistry
from switch.scheme.messages import AliasRegistration, AliasRegistrationReport
from switch.scheme.transport import CITIZEN_APP_ADDRESS, SWITCH_ADDRESS, Envelope

CUSTOMER_CHANNEL = "customers"


class Sandbox:
    def __init__(
        self,
        storage: Storage,
        participants: Sequence[ParticipantSpec] = DEFAULT_PARTICIPANTS,
        seed: int = 0,
        start: datetime = DEFAULT_START,
        faults: LinkFaults | None = None,
        creditor_timeout_ms: int = CREDITOR_TIMEOUT_MS,
        identities: IdentityRegistry | None = None,
    ) -> None:
        self.network = InProcessNetwork(int(start.timestamp() * 1000), seed, faults)
        self._switch_options = (creditor_timeout_ms, identities)
        self._seed = seed
        self.switch = nodes.build_switch(storage, creditor_timeout_ms, identities)
        self.network.add(self.switch)
        self.nodes: dict[str, ParticipantNode] = {}
        self.treasuries: list[str] = []
        self.opening_deposits_vnd = 0
        # Reopened storage (a restart after a crash): the participants are known, their money is in.
        self.reopened = bool(self.switch.positions())
        for spec in participants:
            self._add_participant(storage, spec, seed)

    @property
    def now_ms(self) -> int:
        return self.network.now_ms

    def _add_participant(self, storage: Storage, spec: ParticipantSpec, seed: int) -> None:
        if spec.kind == ParticipantKind.TREASURY:
            # The Treasury's own core banking is outside the sandbox: it is a participant at the
            # switch, funded there, and the payer's files come in through it.
            self.treasuries.append(spec.bin)
            if not self.reopened:
                nodes.admit(self.switch, spec, self.now_ms)
            return
        node = nodes.build_participant(spec, storage, seed)
        self.nodes[spec.bin] = node
        self.network.add(node)
        if spec.wire == WireFormat.ISO20022_XML:
            self.network.codecs[spec.bin] = through_iso20022
        if not self.reopened and nodes.admit(self.switch, spec, self.now_ms) and spec.prefund_vnd:
            node.record_funding(spec.prefund_vnd, self.now_ms)  # the participant's mirror of its position

    def fund(self, bin_code: str, amount_vnd: int) -> None:
        """Funds in at the switch, mirrored in the participant's own ledger."""
        self.switch.fund_in(bin_code, amount_vnd, self.now_ms)
        self.nodes[bin_code].record_funding(amount_vnd, self.now_ms)

    def open_accounts(self, bin_code: str, customers: Sequence[tuple[Customer, int]]) -> None:
        self.nodes[bin_code].open_accounts(customers, self.now_ms)
        self.opening_deposits_vnd += sum(amount for _c, amount in customers)

    def register(self, requests: Sequence[AliasRegistration], at_ms: int | None = None) -> None:
        self.network.inject((Envelope(CITIZEN_APP_ADDRESS, SWITCH_ADDRESS, r) for r in requests), at_ms)

    def pay(self, bin_code: str, orders: Sequence[PaymentOrder], at_ms: int | None = None) -> None:
        self.network.inject((Envelope(CUSTOMER_CHANNEL, bin_code, o) for o in orders), at_ms)

    def submit_disbursement(self, sender: str, file: DisbursementFile) -> DisbursementRecord:
        """A payroll file in through the Treasury participant `sender`; the network carries it out."""
        disbursement, out = self.switch.submit_disbursement(sender, file, self.now_ms)
        self.network.dispatch(out)
        return disbursement

    def resume(self) -> None:
        """After a restart on the same storage: the timers the crash lost, armed again."""
        self.network.dispatch(self.switch.resume())
        for node in self.nodes.values():
            self.network.dispatch(node.resume())

    def run(self, until_ms: int | None = None) -> None:
        self.network.run(until_ms)

    def restart_participant(self, bin_code: str) -> None:
        """A bank or wallet process starts again on its database (a crash, then a restart): a new
        node object, the same storage and knobs, and what it had open armed again (resume)."""
        node = nodes.restarted(self.nodes[bin_code], self._seed)
        self.nodes[bin_code] = node
        self.network.nodes[bin_code] = node
        self.network.dispatch(node.resume())

    def restart_switch(self) -> None:
        """The switch process starts again on its database: what it kept in memory is gone, and the
        timers of its open transfers and running disbursements are armed again from storage."""
        engine = self.switch.engine
        self.switch = nodes.restarted_switch(engine, *self._switch_options)
        self.network.nodes[self.switch.address] = self.switch
        self.network.dispatch(self.switch.resume())

    def close(self) -> None:
        """Let go of every node's database connections."""
        self.switch.engine.dispose()
        for node in self.nodes.values():
            node.engine.dispose()

    def registration_reports(self) -> list[AliasRegistrationReport]:
        return [
            e.message
            for e in self.network.mailboxes[CITIZEN_APP_ADDRESS]
            if isinstance(e.message, AliasRegistrationReport)
        ]
