"""A small payroll world for the payroll tests: the default network with the Treasury funded, a
generated population in the registry, their rolls, accounts opened at the banks and wallets, and the
citizen-id aliases registered through the citizen app, as `network.payroll` does for a full run,
but small and with every choice in the test's hands (who has an account, and where).
"""

from __future__ import annotations

import dataclasses
import functools
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from banks.node import customer_account
from banks.schemas import Customer
from network.checks import check_invariants
from network.inprocess import LinkFaults
from network.participants import DEFAULT_PARTICIPANTS, DEFAULT_START, TREASURY, TREASURY_BIN, ParticipantSpec
from network.sandbox import Sandbox
from network.storage import Storage
from payer.payroll import build_payroll
from payer.registry import Person, PopulationRegistry, citizen_id_for, generate_population
from payer.rolls import Beneficiary, build_rolls
from switch.disbursements.schemas import DisbursementRecord, ItemRecord
from switch.node import SwitchNode
from switch.scheme.codes import AliasType, ItemStatus, ParticipantKind, RegistrationOutcome, VerificationOutcome
from switch.scheme.disbursement import DisbursementFile, DisbursementItem, parse_json, write_json
from switch.scheme.messages import Alias, AliasRegistration
from switch.scheme.names import compare_names, normalize_name
from switch.scheme.summary import DisbursementSummary
from wallets.node import new_wallet

CYCLE = "2026-12"
NEXT_CYCLE = "2027-01"
TODAY = DEFAULT_START.date()
PROVINCES = ("001", "079", "048", "092")
OPENING_VND = 1_000_000
VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VBSP = "970436", "970418", "970415", "970405", "999888"
VIETTEL_MONEY, VNPT_MONEY, MOBIFONE_MONEY = "971005", "971011", "971025"
BANKS = (VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VBSP)
WALLETS = (VIETTEL_MONEY, VNPT_MONEY, MOBIFONE_MONEY)
ALL_BINS = BANKS + WALLETS
KIND = {s.bin: s.kind for s in DEFAULT_PARTICIPANTS}
ITEMS_PAGE = 100_000


@functools.lru_cache(maxsize=64)
def population(size: int, seed: int) -> tuple[Person, ...]:
    """Generated once per (size, seed): people are immutable, and Faker is the slow part."""
    return tuple(generate_population(size, seed, TODAY, PROVINCES))


@dataclass(slots=True)
class PayrollWorld:
    sandbox: Sandbox
    registry: PopulationRegistry
    people: list[Person]
    rolls: list[Beneficiary]
    accounts: dict[str, tuple[str, str]]  # citizen id -> (BIN, account) registered as its alias
    opening_vnd: dict[tuple[str, str], int] = field(default_factory=dict)
    files: int = 0

    # --- building files ------------------------------------------------------------------------

    def roll(self, citizen_id: str) -> Beneficiary:
        return next(b for b in self.rolls if b.citizen_id == citizen_id)

    def items(self, rolls: Sequence[Beneficiary] | None = None, cycle: str = CYCLE) -> list[DisbursementItem]:
        return build_payroll(self.rolls if rolls is None else rolls, cycle)

    def file(self, items: Sequence[DisbursementItem], message_id: str | None = None) -> DisbursementFile:
        """A JSON payroll file as the payer API parses it."""
        if message_id is None:
            self.files += 1
            message_id = f"MOLISA-{CYCLE}-{self.files:03d}"
        return parse_json(write_json(message_id, items))

    def submit(self, file: DisbursementFile, sender: str = TREASURY_BIN) -> DisbursementRecord:
        return self.sandbox.submit_disbursement(sender, file)

    def pay(self, items: Sequence[DisbursementItem] | None = None) -> DisbursementRecord:
        """Submit the items (by default the whole roll for the cycle) and run until the network is quiet."""
        disbursement = self.submit(self.file(self.items() if items is None else items))
        self.run()
        return disbursement

    def run(self, until_ms: int | None = None) -> None:
        self.sandbox.run(until_ms)

    # --- reading results -----------------------------------------------------------------------

    @property
    def switch(self) -> SwitchNode:
        return self.sandbox.switch

    def disbursement(self, disbursement_id: int) -> DisbursementRecord:
        return self.sandbox.switch.disbursement(TREASURY_BIN, disbursement_id)

    def disbursement_items(self, disbursement_id: int) -> list[ItemRecord]:
        return self.sandbox.switch.disbursement_items(TREASURY_BIN, disbursement_id, 0, ITEMS_PAGE)

    def by_citizen(self, disbursement_id: int) -> dict[str, ItemRecord]:
        return {i.citizen_id: i for i in self.disbursement_items(disbursement_id)}

    def summary(self, disbursement_id: int) -> DisbursementSummary:
        return self.sandbox.switch.disbursement_summary(TREASURY_BIN, disbursement_id)

    def credited(self, disbursement_id: int) -> tuple[int, int]:
        """What the banks and wallets settled to their customers for this disbursement: count and VND."""
        count = amount = 0
        for node in self.sandbox.nodes.values():
            c, a = node.settled_credits(f"{TREASURY_BIN}:PR{disbursement_id:07d}-")
            count, amount = count + c, amount + a
        return count, amount

    def treasury_vnd(self) -> int:
        return self.sandbox.switch.positions()[TREASURY_BIN].liquidity_vnd

    def balance(self, citizen_id: str) -> int:
        bin_code, account = self.accounts[citizen_id]
        return self.sandbox.nodes[bin_code].balances()[customer_account(account)].balance_vnd

    def received(self, citizen_id: str) -> int:
        """What the beneficiary's account gained since it was opened."""
        bin_code, account = self.accounts[citizen_id]
        return self.balance(citizen_id) - self.opening_vnd[(bin_code, account)]

    def check(self) -> None:
        """The network's invariants: money conserved, paid = credited, every transfer and item final."""
        report = check_invariants(self.sandbox)
        assert report.ok, report.failures


def participants(
    overrides: Mapping[str, Mapping[str, Any]] | None = None, treasury_vnd: int = 0
) -> tuple[ParticipantSpec, ...]:
    tuned = overrides or {}
    specs = tuple(dataclasses.replace(s, **tuned.get(s.bin, {})) for s in DEFAULT_PARTICIPANTS)
    return (*specs, dataclasses.replace(TREASURY, prefund_vnd=treasury_vnd))


def make_world(
    storage: Storage,
    size: int = 40,
    seed: int = 7,
    banked: Mapping[int, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    treasury_vnd: int | None = None,
    faults: LinkFaults | None = None,
) -> PayrollWorld:
    """`size` people on the rolls. `banked` maps a person's index to the BIN where they hold the account
    registered for welfare; by default everyone has one, round robin over the eight participants.
    The Treasury holds three months of the roll unless `treasury_vnd` says otherwise."""
    people = list(population(size, seed))
    registry = PopulationRegistry(people)
    rolls = build_rolls(people, random.Random(seed), TODAY)
    if banked is None:
        banked = {n: ALL_BINS[n % len(ALL_BINS)] for n in range(size)}
    budget = sum(b.amount_vnd for b in rolls)
    specs = participants(overrides, 3 * budget if treasury_vnd is None else treasury_vnd)
    sandbox = Sandbox(storage, specs, seed=seed, identities=registry, faults=faults)
    world = PayrollWorld(sandbox, registry, people, rolls, {})
    open_and_register(world, {people[n]: bin_code for n, bin_code in banked.items()})
    return world


def open_and_register(world: PayrollWorld, holders: Mapping[Person, str]) -> None:
    """Accounts for these people at these BINs, each registered as the person's citizen-id alias."""
    by_bin: dict[str, list[tuple[Customer, int]]] = {}
    requests = []
    for number, (person, bin_code) in enumerate(holders.items(), start=len(world.accounts)):
        if KIND[bin_code] == ParticipantKind.WALLET:
            customer = new_wallet(person.phone, normalize_name(person.name), person.citizen_id)
        else:
            customer = Customer(f"{bin_code}{number:07d}", normalize_name(person.name), person.citizen_id)
        by_bin.setdefault(bin_code, []).append((customer, OPENING_VND))
        world.accounts[person.citizen_id] = (bin_code, customer.account)
        world.opening_vnd[(bin_code, customer.account)] = OPENING_VND
        requests.append(
            AliasRegistration(
                request_id=f"VNEID{number:09d}",
                alias=Alias(type=AliasType.CITIZEN_ID, value=person.citizen_id),
                name=person.name,
                citizen_id=person.citizen_id,
                agent=bin_code,
                account=customer.account,
            )
        )
    for bin_code, customers in sorted(by_bin.items()):
        world.sandbox.open_accounts(bin_code, customers)
    world.sandbox.register(requests)
    world.sandbox.run()
    registered = {
        r.original_request_id
        for r in world.sandbox.registration_reports()
        if r.outcome == RegistrationOutcome.REGISTERED
    }
    missing = [r.request_id for r in requests if r.request_id not in registered]
    assert not missing, f"registrations not made: {missing}"


def unknown_citizen_ids(registry: PopulationRegistry, count: int, seed: int = 0) -> list[str]:
    """Well-formed citizen ids (CCCD structure) that the population registry does not know."""
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < count:
        candidate = citizen_id_for("001", TODAY.replace(year=1950), False, rng.randrange(1_000_000))
        if registry.person(candidate) is None and candidate not in found:
            found.append(candidate)
    return found


def other_given_name(name: str) -> str:
    """The roll's name with another given name, far enough from the registry's to be no match (NMTC)."""
    words = name.split()
    for given_name in ("Khánh", "Tuấn", "Phượng", "Hùng"):
        candidate = " ".join([*words[:-1], given_name])
        if compare_names(candidate, name) == VerificationOutcome.NMTC:
            return candidate
    raise AssertionError(f"no mismatching name found for {name}")


def paid_keys(world: PayrollWorld, disbursement_ids: Iterable[int]) -> Counter[tuple[str, str, str]]:
    """(program, cycle, citizen id) of every PAID item of these disbursements, with how often it was paid."""
    return Counter(
        (i.program.value, i.cycle, i.citizen_id)
        for disbursement_id in disbursement_ids
        for i in world.disbursement_items(disbursement_id)
        if i.status == ItemStatus.PAID
    )
