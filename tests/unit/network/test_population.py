"""network.population: a generated population gets accounts at the default network's banks and wallets."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest

from banks.node import customer_account
from banks.schemas import AccountStatus, Customer
from network.checks import check_invariants
from network.participants import DEFAULT_PARTICIPANTS
from network.population import ACCOUNT_LENGTHS, STATUS_MIX, WALLET_SHARE, Holding, open_population_accounts
from network.sandbox import Sandbox
from network.storage import Storage
from payer.registry import Person, generate_population
from switch.scheme.identifiers import check_msisdn
from switch.scheme.names import normalize_name
from wallets.node import WalletNode

TODAY = date(2026, 12, 1)
PEOPLE = 2_000
BANKS = {"970436", "970418", "970415", "970405", "999888"}
WALLETS = {"971005", "971011", "971025"}


class Population:
    def __init__(self, size: int, seed: int, participants: object = DEFAULT_PARTICIPANTS) -> None:
        self.sandbox = Sandbox(Storage(), participants=participants)  # type: ignore[arg-type]
        self.people = generate_population(size, seed, TODAY)
        self.holdings = open_population_accounts(self.sandbox, self.people, random.Random(seed))

    def customers(self) -> dict[tuple[str, str], Customer]:
        return {(b, c.account): c for b, node in self.sandbox.nodes.items() for c in node.customers()}


@pytest.fixture(scope="module")
def population() -> Population:
    """Two thousand people with their accounts; the tests only read it."""
    return Population(PEOPLE, seed=2026)


def share(holdings: list[Holding], wanted: object) -> float:
    return sum(1 for h in holdings if h.status == wanted) / len(holdings)


def test_every_person_gets_exactly_one_account_in_the_order_given(population: Population) -> None:
    assert [h.person for h in population.holdings] == population.people
    assert len(population.customers()) == PEOPLE


@pytest.mark.parametrize(("status", "expected"), STATUS_MIX, ids=[s.value for s, _ in STATUS_MIX])
def test_account_statuses_follow_the_mix_roughly(
    population: Population, status: AccountStatus, expected: float
) -> None:
    assert share(population.holdings, status) == pytest.approx(expected, abs=0.02 if expected < 0.5 else 0.03)


def test_about_a_quarter_of_the_people_hold_a_wallet_and_the_rest_a_bank_account(population: Population) -> None:
    wallets = sum(h.wallet for h in population.holdings) / PEOPLE

    assert wallets == pytest.approx(WALLET_SHARE, abs=0.04)
    assert {h.bin for h in population.holdings if h.wallet} == WALLETS
    assert {h.bin for h in population.holdings if not h.wallet} == BANKS


def test_wallet_holders_are_keyed_by_their_phone_number(population: Population) -> None:
    customers = population.customers()

    for holding in (h for h in population.holdings if h.wallet):
        assert isinstance(population.sandbox.nodes[holding.bin], WalletNode)
        assert holding.account == holding.person.phone
        assert check_msisdn(holding.account) is None
        customer = customers[holding.bin, holding.person.phone]
        assert customer.phone == holding.person.phone
        assert customer.kyc_level in (1, 2)


def test_bank_account_numbers_have_the_length_of_their_bank_and_do_not_start_with_zero(population: Population) -> None:
    lengths = {(h.bin, len(h.account)) for h in population.holdings if not h.wallet}

    assert lengths == {(b, ACCOUNT_LENGTHS[b]) for b in BANKS}
    for holding in (h for h in population.holdings if not h.wallet):
        assert holding.account.isdigit() and holding.account[0] != "0"


def test_no_two_people_share_an_account_at_one_participant(population: Population) -> None:
    keys = Counter((h.bin, h.account) for h in population.holdings)

    assert keys.most_common(1)[0][1] == 1


def test_each_account_is_stored_with_its_owners_name_as_banks_write_it_and_their_citizen_id(
    population: Population,
) -> None:
    customers = population.customers()

    for holding in population.holdings:
        customer = customers[holding.bin, holding.account]
        assert customer.holder_name == normalize_name(holding.person.name)
        assert customer.holder_name.isupper() and customer.holder_name.isascii()
        assert customer.citizen_id == holding.person.citizen_id
        assert customer.status == holding.status
        assert customer.phone == holding.person.phone
        if not holding.wallet:
            assert customer.kyc_level is None


def test_opening_deposits_add_up_to_what_the_sandbox_counts_and_what_the_customers_hold(
    population: Population,
) -> None:
    sandbox = population.sandbox
    total = sum(h.opening_vnd for h in population.holdings)

    assert total == sandbox.opening_deposits_vnd
    for holding in population.holdings:
        assert 500_000 <= holding.opening_vnd <= 49_900_000 and holding.opening_vnd % 100_000 == 0
    balances = {b: node.balances() for b, node in sandbox.nodes.items()}
    for holding in population.holdings:
        assert balances[holding.bin][customer_account(holding.account)].balance_vnd == holding.opening_vnd
    report = check_invariants(sandbox)
    assert report.ok, report.failures
    assert report.customer_money_vnd == total


def test_the_same_people_and_seed_give_the_same_accounts() -> None:
    first, second = Population(150, seed=7), Population(150, seed=7)

    assert first.holdings == second.holdings
    assert first.holdings != Population(150, seed=8).holdings


def test_without_wallet_providers_everyone_gets_a_bank_account() -> None:
    banks_only = [p for p in DEFAULT_PARTICIPANTS if p.bin in ("970436", "970418")]

    population = Population(100, seed=3, participants=banks_only)

    assert not any(h.wallet for h in population.holdings)
    assert {h.bin for h in population.holdings} == {"970436", "970418"}


def test_a_bank_that_gets_more_customers_than_one_ledger_batch_still_opens_all_their_accounts() -> None:
    # 8,191 people and one bank: one more than a ledger batch (8,190) lands at Vietcombank.
    vietcombank_only = [p for p in DEFAULT_PARTICIPANTS if p.bin == "970436"]
    people: list[Person] = generate_population(8_191, 11, TODAY)
    sandbox = Sandbox(Storage(), participants=vietcombank_only)

    holdings = open_population_accounts(sandbox, people, random.Random(11))

    assert len(sandbox.nodes["970436"].customers()) == len(holdings) == 8_191
