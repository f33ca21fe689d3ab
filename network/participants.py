"""The default network: the switch's participants with their real BINs, the Treasury, the payroll's
tuning of them, and the sample accounts a developer gets in the networked sandbox.

The in-process network (`network.sandbox`), `switchyard serve` and the benches all read the network
from here, so a BIN, a cap or a sample account is written down once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from banks.schemas import AccountStatus, Behaviour, Customer, Limits
from payer.registry import Person, PopulationRegistry, generate_population
from switch.scheme.calendar import VIETNAM
from switch.scheme.codes import ParticipantKind, WireFormat
from switch.scheme.messages import TRANSACTIONS_PER_MESSAGE_MAX
from switch.scheme.names import normalize_name
from wallets.node import wallet_limits

DEFAULT_START = datetime(2026, 12, 1, 8, 0, tzinfo=VIETNAM)


@dataclass(slots=True, frozen=True)
class ParticipantSpec:
    bin: str
    name: str
    kind: ParticipantKind
    net_debit_cap_vnd: int = 0
    prefund_vnd: int = 0
    behaviour: Behaviour = field(default_factory=Behaviour)
    limits: Limits | None = None  # None: the node's own defaults (a wallet's caps, none at a bank)
    wire: WireFormat = WireFormat.JSON  # how its messages travel over HTTP (serve, and its registration)
    # 1: it takes single transfers only (a registration option); else messages of up to this many
    transactions_per_message_max: int = TRANSACTIONS_PER_MESSAGE_MAX


# Real NAPAS BINs for the banks and the two wallet providers that have them; MobiFone Money's is a
# sandbox value (971025) until we know its real one.
DEFAULT_PARTICIPANTS: tuple[ParticipantSpec, ...] = (
    ParticipantSpec("970436", "Vietcombank", ParticipantKind.BANK, 50_000_000_000, 100_000_000_000),
    ParticipantSpec("970418", "BIDV", ParticipantKind.BANK, 50_000_000_000, 100_000_000_000),
    ParticipantSpec("970415", "VietinBank", ParticipantKind.BANK, 50_000_000_000, 100_000_000_000),
    ParticipantSpec("970405", "Agribank", ParticipantKind.BANK, 50_000_000_000, 100_000_000_000),
    ParticipantSpec("999888", "VBSP", ParticipantKind.BANK, 10_000_000_000, 20_000_000_000),
    ParticipantSpec("971005", "Viettel Money", ParticipantKind.WALLET, 5_000_000_000, 20_000_000_000),
    ParticipantSpec("971011", "VNPT Money", ParticipantKind.WALLET, 5_000_000_000, 20_000_000_000),
    ParticipantSpec("971025", "MobiFone Money", ParticipantKind.WALLET, 5_000_000_000, 20_000_000_000),
)
# The State Treasury (Kho bạc Nhà nước) has no NAPAS BIN we know of: 999999 is the sandbox's.
TREASURY_BIN = "999999"
TREASURY = ParticipantSpec(TREASURY_BIN, "Kho bạc Nhà nước", ParticipantKind.TREASURY, 0, 0)

# The networked sandbox's Treasury starts with enough for many payrolls of its sample population.
SERVE_TREASURY = dataclasses.replace(TREASURY, prefund_vnd=100_000_000_000)
SAMPLE_ACCOUNTS_PER_PARTICIPANT = 50  # funded accounts of `serve`, held by people of its population
SAMPLE_OPENING_VND = 50_000_000
SAMPLE_HOLDERS = len(DEFAULT_PARTICIPANTS) * SAMPLE_ACCOUNTS_PER_PARTICIPANT  # the population's first people
SAMPLE_POPULATION = 5_000
SAMPLE_POPULATION_SEED = 84
# Beside the sample accounts, every participant of `serve` has a closed and a blocked account at these
# numbers, so an integrator's test (`switchyard certify`) sees AC04 and AC06 without setting them up.
CLOSED_SAMPLE_NUMBER = 999_998
BLOCKED_SAMPLE_NUMBER = 999_999


def payroll_participants() -> tuple[ParticipantSpec, ...]:
    """The default network and the Treasury as a payroll meets them: Agribank answers late now and
    then (AB05, retried), MobiFone Money keeps the 2021 pilot's 10,000,000 VND monthly cap (AM02)."""
    tuned: dict[str, dict[str, Any]] = {
        "970405": {"behaviour": Behaviour(latency_ms=40, timeout_rate=0.02, late_answer_ms=8_000)},
        "971025": {"limits": wallet_limits(pilot_2021=True)},
    }
    return (*(dataclasses.replace(s, **tuned.get(s.bin, {})) for s in DEFAULT_PARTICIPANTS), TREASURY)


def sample_account(bin_code: str, kind: ParticipantKind, number: int) -> str:
    """Numbered sample accounts for benchmarks and `serve`: <BIN><7 digits> at a bank, a mobile number
    (09<last two BIN digits><6 digits>) at a wallet provider."""
    if kind == ParticipantKind.WALLET:
        return f"09{int(bin_code) % 100:02d}{number:06d}"
    return f"{bin_code}{number:07d}"


def sample_customers(spec: ParticipantSpec, position: int, people: list[Person]) -> list[Customer]:
    """The sample accounts of the participant at `position` in the default network and who holds
    them (the next SAMPLE_ACCOUNTS_PER_PARTICIPANT people of the population): the same in every process."""
    size = SAMPLE_ACCOUNTS_PER_PARTICIPANT
    holders = people[position * size : (position + 1) * size]
    assert len(holders) == size, "the population has a holder for every sample account"
    return [
        Customer(sample_account(spec.bin, spec.kind, number), normalize_name(person.name), person.citizen_id)
        for number, person in enumerate(holders)
    ]


def refusing_sample_customers(spec: ParticipantSpec, position: int, people: list[Person]) -> list[Customer]:
    """The participant's closed and blocked accounts (CLOSED_SAMPLE_NUMBER, BLOCKED_SAMPLE_NUMBER),
    held by the holder of its first sample account."""
    holder = sample_customers(spec, position, people)[0]
    refusing = ((CLOSED_SAMPLE_NUMBER, AccountStatus.CLOSED), (BLOCKED_SAMPLE_NUMBER, AccountStatus.BLOCKED))
    return [
        dataclasses.replace(holder, account=sample_account(spec.bin, spec.kind, number), status=status)
        for number, status in refusing
    ]


def sample_population() -> PopulationRegistry:
    """The population of the networked sandbox: the registry its switch checks payroll items against
    and the holders of its sample accounts, the same in every process (a fixed seed)."""
    return PopulationRegistry(generate_population(SAMPLE_POPULATION, SAMPLE_POPULATION_SEED, DEFAULT_START.date()))
