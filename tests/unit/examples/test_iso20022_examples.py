"""The documents of README's XML walkthrough are what the README says they are: valid, from Dev
Bank 970499 to the switch, and naming accounts `switchyard serve` really has."""

from __future__ import annotations

from pathlib import Path

from network.participants import DEFAULT_PARTICIPANTS, sample_customers, sample_population
from switch.scheme.messages import StatusRequest, VerificationRequest
from switch.scheme.names import normalize_name
from switch.scheme.pacs008 import ReadCreditTransfers
from switch.scheme.wire import read_wire

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "iso20022"
BIDV = "970418"


def test_the_walkthroughs_pacs008_carries_three_whole_dong_transactions_from_dev_bank() -> None:
    read = read_wire((EXAMPLES / "pacs.008-dev-bank.xml").read_bytes())
    assert (read.header.sender, read.header.receiver, read.header.message_definition) == (
        "970499", "NAPAS", "pacs.008.001.12",
    )  # fmt: skip
    message = read.message
    assert isinstance(message, ReadCreditTransfers) and not message.refused
    assert [t.transaction_id for t in message.transactions] == ["DEV-XML-T1", "DEV-XML-T2", "DEV-XML-T3"]
    assert [t.amount_vnd for t in message.transactions] == [250_000, 1_500_000, 100_000]
    assert message.transactions[0].debtor.name == "Nguyễn Văn Đức"


def test_the_walkthroughs_accounts_are_served_sample_accounts_but_the_last_which_bidv_lacks() -> None:
    message = read_wire((EXAMPLES / "pacs.008-dev-bank.xml").read_bytes()).message
    assert isinstance(message, ReadCreditTransfers)
    people = sample_population().people()
    served = {c.account for n, spec in enumerate(DEFAULT_PARTICIPANTS) for c in sample_customers(spec, n, people)}
    accounts = [t.creditor_account for t in message.transactions]
    assert accounts[0] in served and accounts[1] in served
    assert accounts[2] not in served


def test_the_walkthroughs_status_request_asks_about_its_first_transaction() -> None:
    request = read_wire((EXAMPLES / "pacs.028-dev-bank.xml").read_bytes()).message
    assert isinstance(request, StatusRequest)
    assert (request.original_transaction_id, request.debtor_agent) == ("DEV-XML-T1", "970499")


def test_the_walkthroughs_verification_names_bidvs_first_sample_holder() -> None:
    request = read_wire((EXAMPLES / "acmt.023-dev-bank.xml").read_bytes()).message
    assert isinstance(request, VerificationRequest)
    position = next(n for n, spec in enumerate(DEFAULT_PARTICIPANTS) if spec.bin == BIDV)
    holder = sample_customers(DEFAULT_PARTICIPANTS[position], position, sample_population().people())[0]
    assert request.account == holder.account
    assert normalize_name(request.name) == normalize_name(holder.holder_name)
