"""Issue 12, item 4: messages built by someone else work.

An external bank, Bản Việt (BIN 970454, not in the simulated network), whose every message is
built and read by pyiso20022's dataclasses through xsdata (`iso_bank`), never by the switch's own
writer or reader, registers at a running `switchyard serve` on the `iso20022-xml` wire and talks
to it over real HTTP: it sends a pacs.008 of several transactions, is paid by a Vietcombank
customer (the inbound pacs.008, its ACSP, the final pacs.002), asks the status of a transaction
with a pacs.028, and keeps its own books, which must match the switch's positions, clearing
summary and transfer statuses. It also sends messages built badly, each refused as the contract
says, with nothing moving for what is refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from iso_bank import (
    PACS002,
    SWITCH,
    Entry,
    IsoBank,
    Payment,
    credit_transfer_message,
    member_of,
    now,
    serving,
    wait_until,
)
from serve_helpers import bearer

BAN_VIET, BIDV, VIETCOMBANK = "970454", "970418", "970436"
FUNDS_VND = 300_000_000
UNKNOWN_AT_BIDV = "9704189999999"
UNKNOWN_AT_BAN_VIET = "0454999999999"
ACCOUNTS = {
    "0454000000001": ("Nguyễn Văn Đức", 80_000_000),
    "0454000000002": ("Hoàng Thị Ánh Tuyết", 20_000_000),
}
FORMAT_REFUSALS = ("CH20", "FF01")  # refused by the gateway as it reads: not a transfer the switch clears
SETTLE_S = 20.0
Tally = Counter[tuple[str, str | None, str]]  # (status, reason, "count" | "vnd") -> sum


@pytest.fixture(scope="module")
def ban_viet(sandbox: dict[str, Any]) -> Iterator[tuple[IsoBank, str]]:
    """The bank, serving its inbound API, registered on the XML wire and funded."""
    bank = IsoBank(BAN_VIET, ACCOUNTS, settlement_vnd=FUNDS_VND)
    admin = bearer(sandbox["admin_key"])
    with serving(bank) as url:
        registered = httpx.post(
            sandbox["switch"] + "/v1/admin/participants", headers=admin,
            json={"bin": BAN_VIET, "name": "Ngân hàng Bản Việt", "kind": "bank", "base_url": url,
                  "wire": "iso20022-xml"},
        )  # fmt: skip
        assert registered.status_code == 201, registered.text
        assert registered.json()["wire"] == "iso20022-xml"
        bank.secret = registered.json()["signing_secret"]
        funded = httpx.post(
            sandbox["switch"] + f"/v1/admin/participants/{BAN_VIET}/funds-in", headers=admin,
            json={"amount_vnd": FUNDS_VND},
        )  # fmt: skip
        assert funded.status_code == 200, funded.text
        yield bank, registered.json()["api_key"]


def test_a_bank_whose_messages_pyiso20022_builds_sends_is_paid_and_its_books_match_the_switchs(
    sandbox: dict[str, Any], ban_viet: tuple[IsoBank, str]
) -> None:
    bank, key = ban_viet
    message_id, sent = _sends_three_transfers_in_one_pacs008(sandbox, bank, key)
    _is_paid_by_a_vietcombank_customer(sandbox, bank)
    _asks_the_status_of_a_transfer_with_a_pacs028(sandbox, bank, key, message_id, sent[0])
    _its_books_match_the_switchs(sandbox, bank, key)


def _sends_three_transfers_in_one_pacs008(
    sandbox: dict[str, Any], bank: IsoBank, key: str
) -> tuple[str, list[Payment]]:
    bidv = sandbox["participants"][BIDV]["sample_customers"]
    message_id = bank.next_id("PACS008")
    sent = [
        _payment(
            bank, "0454000000001", 2_789_000, bidv[0]["account"], bidv[0]["holder_name"], "Tiền thuê nhà tháng 12"
        ),
        _payment(bank, "0454000000001", 1_500_000, bidv[1]["account"], bidv[1]["holder_name"]),
        _payment(bank, "0454000000002", 350_000, UNKNOWN_AT_BIDV, "Trần Thị Hồng"),
    ]
    answer, statuses = bank.send_transfers(sandbox["switch"], key, message_id, sent)
    assert answer.status_code in (200, 202), answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    assert wait_until(lambda: not [e for e in bank.books.sent.values() if e.state == "held"], SETTLE_S)
    assert [s.transaction_id for s in statuses] == [p.transaction_id for p in sent]  # one each, in order
    assert [(e.status, e.reason) for e in _entries(bank, sent)] == [("ACSC", None), ("ACSC", None), ("RJCT", "AC01")]
    assert [s.original_message_id for s in statuses] == [message_id] * 3
    return message_id, sent


def _is_paid_by_a_vietcombank_customer(sandbox: dict[str, Any], bank: IsoBank) -> None:
    """A Vietcombank customer pays a Bản Việt account (its pacs.008 reaches the bank as XML, is
    answered ACSP, and the final ACSC posts the credit) and an account Bản Việt does not hold
    (answered RJCT AC01, which reaches the customer's bank)."""
    vietcombank = sandbox["participants"][VIETCOMBANK]
    payer_account = vietcombank["sample_accounts"][0]
    orders = {
        "VCB-BV-ORDER-1": ("0454000000002", 1_250_000),
        "VCB-BV-ORDER-2": (UNKNOWN_AT_BAN_VIET, 90_000),
    }
    for order_id, (account, amount) in orders.items():
        order = {
            "order_id": order_id, "debtor_account": payer_account, "amount_vnd": amount, "creditor_agent": BAN_VIET,
            "creditor_account": account, "creditor_name": ACCOUNTS.get(account, ("Phan Văn Khải", 0))[0],
            "remittance_information": "Trả tiền hàng",
        }  # fmt: skip
        customer = {"Authorization": f"Bearer {vietcombank['customer_key']}"}
        placed = httpx.post(vietcombank["base_url"] + "/v1/payments", json=order, headers=customer, timeout=10)
        assert placed.status_code == 202, placed.text
    for order_id in orders:
        assert wait_until(lambda o=order_id: _payment_status(vietcombank, o) != "pending", SETTLE_S), order_id
    assert _payment_status(vietcombank, "VCB-BV-ORDER-1") == "settled"
    customer = {"Authorization": f"Bearer {vietcombank['customer_key']}"}
    refused = httpx.get(vietcombank["base_url"] + "/v1/payments/VCB-BV-ORDER-2", headers=customer).json()
    assert (refused["status"], refused["reason"]) == ("rejected", "AC01")
    credit = bank.books.received[(VIETCOMBANK, "VCB-BV-ORDER-1")]
    assert wait_until(lambda: credit.state == "posted", SETTLE_S), credit
    assert (credit.account, credit.amount_vnd, credit.status) == ("0454000000002", 1_250_000, "ACSC")
    assert bank.books.received[(VIETCOMBANK, "VCB-BV-ORDER-2")].state == "refused"
    assert all(member_of(h.fr) == SWITCH and member_of(h.to) == BAN_VIET for h in bank.headers)
    assert {h.msg_def_idr for h in bank.headers} >= {"pacs.008.001.12", PACS002}


def _asks_the_status_of_a_transfer_with_a_pacs028(
    sandbox: dict[str, Any], bank: IsoBank, key: str, message_id: str, payment: Payment
) -> None:
    answer, header, statuses = bank.ask_status(sandbox["switch"], key, message_id, payment.transaction_id)
    assert answer.status_code == 200, answer.text
    assert (member_of(header.fr), member_of(header.to), header.msg_def_idr) == (SWITCH, BAN_VIET, PACS002)
    assert [(s.transaction_id, s.status, s.reason) for s in statuses] == [(payment.transaction_id, "ACSC", None)]


def _its_books_match_the_switchs(sandbox: dict[str, Any], bank: IsoBank, key: str) -> None:
    """What the bank booked, paid out and in, is what the switch cleared and holds for it."""
    assert wait_until(lambda: not bank.books.open_entries(), SETTLE_S), bank.books.open_entries()
    assert (bank.unsigned, bank.books.conflicts) == (0, [])
    position = _position(sandbox)
    sent_vnd, received_vnd = bank.books.posted_vnd()
    assert position["reserved_vnd"] == 0
    assert position["liquidity_vnd"] == bank.books.settlement_vnd == FUNDS_VND - sent_vnd + received_vnd
    assert sum(bank.books.balances.values()) == sum(b for _, b in ACCOUNTS.values()) - sent_vnd + received_vnd
    switch_sent, switch_received = _cleared(sandbox)
    assert switch_sent == _booked(bank.books.sent.values())
    assert switch_received == _booked(bank.books.received.values())
    for transaction_id, entry in bank.books.sent.items():
        if entry.reason in FORMAT_REFUSALS or (entry.reason or "").startswith("HTTP"):
            continue
        seen = httpx.get(sandbox["switch"] + f"/v1/transfers/{transaction_id}", headers=bearer(key))
        assert seen.status_code == 200, seen.text
        body = seen.json()
        assert (body["transaction_status"], body["status_reason"], body["amount_vnd"]) == (
            entry.status, entry.reason, entry.amount_vnd,
        )  # fmt: skip


def test_messages_the_bank_builds_badly_are_refused_and_nothing_moves_for_them(
    sandbox: dict[str, Any], ban_viet: tuple[IsoBank, str]
) -> None:
    bank, key = ban_viet
    bidv = sandbox["participants"][BIDV]["sample_customers"]
    before = _position(sandbox)["liquidity_vnd"]
    good = [_payment(bank, "0454000000001", 400_000 + n, bidv[n]["account"], bidv[n]["holder_name"]) for n in (0, 1)]
    fractional = _payment(bank, "0454000000002", Decimal("1000.5"), bidv[2]["account"], bidv[2]["holder_name"])
    answer, statuses = bank.send_transfers(
        sandbox["switch"], key, bank.next_id("PACS008"), [good[0], fractional, good[1]]
    )
    assert answer.status_code == 200, answer.text
    assert [(s.status, s.reason) for s in statuses] == [("ACSC", None), ("RJCT", "CH20"), ("ACSC", None)]
    assert any("IntrBkSttlmAmt" in note for note in statuses[1].additional_information), statuses[1]
    assert _position(sandbox)["liquidity_vnd"] == before - good[0].amount_vnd - good[1].amount_vnd
    _a_header_from_another_bank_is_refused_403(sandbox, bank, key)
    _an_entity_bomb_is_refused_400(sandbox, bank, key)
    _its_books_match_the_switchs(sandbox, bank, key)


def _a_header_from_another_bank_is_refused_403(sandbox: dict[str, Any], bank: IsoBank, key: str) -> None:
    before = _position(sandbox)
    holder = sandbox["participants"][BIDV]["sample_customers"][0]  # a transfer that would move money
    payment = _payment(bank, "0454000000001", 600_000, holder["account"], holder["holder_name"])
    message_id = bank.next_id("PACS008")
    as_vietcombank = credit_transfer_message(VIETCOMBANK, message_id, now(), [payment])
    answer, _ = bank.send_transfers(sandbox["switch"], key, message_id, [payment], body=as_vietcombank)
    # An HTTP-layer refusal: field and rule, no ISO reason code (as every 401/403 of the API).
    assert [error["field"] for error in _assert_problem(answer, 403)] == ["AppHdr/Fr"]
    assert _position(sandbox) == before
    _assert_unknown_to_the_switch(sandbox, key, payment)


BOMB = (
    b'<!DOCTYPE Envelope [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">\n'.encode() for n in range(1, 10)
    )
    + b"]>\n"
)


def _an_entity_bomb_is_refused_400(sandbox: dict[str, Any], bank: IsoBank, key: str) -> None:
    before = _position(sandbox)
    holder = sandbox["participants"][BIDV]["sample_customers"][0]  # a transfer that would move money
    payment = _payment(bank, "0454000000001", 700_000, holder["account"], holder["holder_name"])
    message_id = bank.next_id("PACS008")
    built = credit_transfer_message(BAN_VIET, message_id, now(), [payment])
    declaration, rest = built.split(b"\n", 1)
    bomb = declaration + b"\n" + BOMB + rest.replace(f"<Nm>{holder['holder_name']}</Nm>".encode(), b"<Nm>&lol9;</Nm>")
    assert b"&lol9;" in bomb
    answer, _ = bank.send_transfers(sandbox["switch"], key, message_id, [payment], body=bomb)
    errors = _assert_problem(answer, 400)
    assert [(error["reason"], "DOCTYPE" in error["rule"]) for error in errors] == [("FF01", True)], errors
    assert _position(sandbox) == before
    _assert_unknown_to_the_switch(sandbox, key, payment)


# --- helpers ----------------------------------------------------------------------------------------------


def _payment(
    bank: IsoBank, debtor_account: str, amount: int | Decimal, account: str, name: str, remittance: str | None = None
) -> Payment:
    transaction_id = bank.next_id("TX")
    return Payment(
        end_to_end_id="E2E-" + transaction_id, transaction_id=transaction_id, amount_vnd=amount,
        debtor_name=ACCOUNTS[debtor_account][0], debtor_account=debtor_account, debtor_agent=bank.bin,
        creditor_account=account, creditor_agent=BIDV,
        creditor_name=name, remittance_information=remittance,
    )  # fmt: skip


def _entries(bank: IsoBank, payments: list[Payment]) -> list[Entry]:
    return [bank.books.sent[p.transaction_id] for p in payments]


def _position(sandbox: dict[str, Any]) -> dict[str, int]:
    positions = httpx.get(sandbox["switch"] + "/v1/admin/positions", headers=bearer(sandbox["admin_key"])).json()
    found: dict[str, int] = next(p for p in positions if p["bin"] == BAN_VIET)
    return found


def _payment_status(participant: dict[str, Any], order_id: str) -> str:
    customer = {"Authorization": f"Bearer {participant['customer_key']}"}
    status: str = httpx.get(participant["base_url"] + f"/v1/payments/{order_id}", headers=customer).json()["status"]
    return status


def _cleared(sandbox: dict[str, Any]) -> tuple[Tally, Tally]:
    """The switch's clearing summary for the bank, as debtor and as creditor: count and VND by
    status and reason."""
    rows = httpx.get(sandbox["switch"] + "/v1/admin/clearing-summary", headers=bearer(sandbox["admin_key"])).json()
    as_debtor: Tally = Counter()
    as_creditor: Tally = Counter()
    for row in rows:
        if row["reason"] in FORMAT_REFUSALS:
            continue
        for side, agent in ((as_debtor, "debtor_agent"), (as_creditor, "creditor_agent")):
            if row[agent] == BAN_VIET:
                side[(row["status"], row["reason"], "count")] += row["count"]
                side[(row["status"], row["reason"], "vnd")] += row["amount_vnd"]
    return as_debtor, as_creditor


def _booked(entries: Any) -> Tally:
    booked: Tally = Counter()
    for entry in entries:
        if entry.reason in FORMAT_REFUSALS or (entry.reason or "").startswith("HTTP"):
            continue
        booked[(entry.status, entry.reason, "count")] += 1
        booked[(entry.status, entry.reason, "vnd")] += entry.amount_vnd
    return booked


def _assert_problem(answer: httpx.Response, status: int) -> list[dict[str, str]]:
    """A problem+json whose every error names the field and the rule; its errors."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    errors: list[dict[str, str]] = answer.json()["errors"]
    assert errors and all(error["field"] and error["rule"] for error in errors), errors
    return errors


def _assert_unknown_to_the_switch(sandbox: dict[str, Any], key: str, payment: Payment) -> None:
    seen = httpx.get(sandbox["switch"] + f"/v1/transfers/{payment.transaction_id}", headers=bearer(key))
    assert seen.status_code == 404, seen.text
