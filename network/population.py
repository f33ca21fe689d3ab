"""Giving a generated population accounts at the default network's banks and wallets.

Account numbers follow each bank's length; most accounts are active, a few dormant, closed or
blocked, as in any real customer base. Wallets are keyed by the person's mobile number.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from banks.schemas import AccountStatus, Customer
from network.sandbox import Sandbox
from payer.registry import Person
from switch.scheme.codes import ParticipantKind
from switch.scheme.names import normalize_name
from wallets.node import WalletNode

ACCOUNT_LENGTHS = {"970436": 13, "970418": 14, "970415": 12, "970405": 13, "999888": 14}
STATUS_MIX: tuple[tuple[AccountStatus, float], ...] = (
    (AccountStatus.ACTIVE, 0.93),
    (AccountStatus.DORMANT, 0.03),
    (AccountStatus.CLOSED, 0.02),
    (AccountStatus.BLOCKED, 0.02),
)
WALLET_SHARE = 0.25  # people whose account is a mobile-money wallet


@dataclass(slots=True, frozen=True)
class Holding:
    person: Person
    bin: str
    account: str
    status: AccountStatus
    wallet: bool
    opening_vnd: int


def open_population_accounts(
    sandbox: Sandbox,
    people: Sequence[Person],
    rng: random.Random,
    used: set[tuple[str, str]] | None = None,
    status_mix: tuple[tuple[AccountStatus, float], ...] = STATUS_MIX,
) -> list[Holding]:
    """`used`: account numbers taken by earlier calls, for a population opened in chunks.
    `status_mix`: the share of accounts opened in each status (active the rest)."""
    banks = [b for b in sandbox.nodes if _kind(sandbox, b) == ParticipantKind.BANK]
    wallets = [b for b in sandbox.nodes if _kind(sandbox, b) == ParticipantKind.WALLET]
    holdings: list[Holding] = []
    by_participant: dict[str, list[tuple[Customer, int]]] = defaultdict(list)
    used = set() if used is None else used
    for person in people:
        wallet = bool(wallets) and rng.random() < WALLET_SHARE
        bin_code = rng.choice(wallets if wallet else banks)
        account = person.phone if wallet else _account_number(bin_code, rng, used)
        status = _status(rng, status_mix)
        opening = rng.randrange(5, 500) * 100_000  # 500,000 to 49,900,000 VND
        customer = Customer(
            account=account,
            holder_name=normalize_name(person.name),
            citizen_id=person.citizen_id,
            status=status,
            phone=person.phone,
            kyc_level=(2 if rng.random() < 0.3 else 1) if wallet else None,
        )
        by_participant[bin_code].append((customer, opening))
        holdings.append(Holding(person, bin_code, account, status, wallet, opening))
    for bin_code, customers in sorted(by_participant.items()):
        sandbox.open_accounts(bin_code, customers)
    return holdings


def _kind(sandbox: Sandbox, bin_code: str) -> ParticipantKind:
    return ParticipantKind.WALLET if isinstance(sandbox.nodes[bin_code], WalletNode) else ParticipantKind.BANK


def _account_number(bin_code: str, rng: random.Random, used: set[tuple[str, str]]) -> str:
    length = ACCOUNT_LENGTHS.get(bin_code, 13)
    while True:
        number = str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(length - 1))
        if (bin_code, number) not in used:
            used.add((bin_code, number))
            return number


def _status(rng: random.Random, status_mix: tuple[tuple[AccountStatus, float], ...]) -> AccountStatus:
    roll = rng.random()
    for status, share in status_mix:
        if roll < share:
            return status
        roll -= share
    return AccountStatus.ACTIVE
