"""The switch's participant API on the ISO 20022 XML wire (gateway.switch_xml) and the admin's
choice of a participant's wire, against a running switch: its runtime started, its app served by
uvicorn, a real simulated BIDV on the XML wire as the creditor bank, Vietcombank as a small aiohttp
participant that takes the switch's status callbacks. Everything on real sockets inside one
`asyncio.run` per test; every document is written and read by the scheme's codec."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from live import (
    ADMIN,
    AN,
    BIDV,
    CREATED,
    HONG,
    NAPAS,
    UNKNOWN_ACCOUNT,
    VIETCOMBANK,
    VIETINBANK,
    WAIT_S,
    Calls,
    aiohttp_serving,
    bidv_node,
    eventually,
    register,
    served_bank,
    served_switch,
)
from lxml import etree

from banks.node import ParticipantNode
from gateway.signing import SIGNATURE_HEADER, verify
from gateway.switch_app import BODY_BYTES_MAX, SwitchApi
from switch.scheme.codes import Purpose, StatusReason, TransactionStatus, VerificationOutcome
from switch.scheme.messages import (
    CreditTransfer,
    CreditTransferMessage,
    Party,
    StatusReport,
    StatusRequest,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.pacs002 import ReadStatusReports
from switch.scheme.pacs008 import PACS008
from switch.scheme.wire import WIRE_BYTES_MAX, XML_MEDIA_TYPE, read_wire, write_wire

XML_WIRE = "iso20022-xml"


def credit_transfer(
    tx: str, account: str = AN.account, amount_vnd: int = 500_000, message_id: str = "MVCB1"
) -> CreditTransfer:
    return CreditTransfer(
        message_id=message_id, end_to_end_id=f"E{tx}", transaction_id=tx, amount_vnd=amount_vnd,
        debtor=Party(name="Nguyễn Văn Đức", citizen_id="001085012345"), debtor_account="0011001234567",
        debtor_agent=VIETCOMBANK, creditor_account=account, creditor_agent=BIDV, purpose=Purpose.SSBE,
        remittance_information="Trợ cấp xã hội tháng 12/2026 cho hộ nghèo xã Tân Phú",
    )  # fmt: skip


def pacs008(transfers: Sequence[CreditTransfer], sender: str = VIETCOMBANK, receiver: str = NAPAS) -> bytes:
    message = CreditTransferMessage(message_id=transfers[0].message_id, transactions=tuple(transfers))
    return write_wire(message, sender, receiver, CREATED)


def three_transfers() -> list[CreditTransfer]:
    return [
        credit_transfer("VCB1", AN.account, 500_000),
        credit_transfer("VCB2", UNKNOWN_ACCOUNT, 750_000),
        credit_transfer("VCB3", HONG.account, 2_789_000),
    ]


def with_amount(body: bytes, number: int, amount: str) -> bytes:
    """The document with the amount of its `number`th transaction (1-based, as in the element path)
    written as given: a text a participant's own writer might produce."""
    root = etree.fromstring(body)
    amounts = root.findall(f".//{{{PACS008}}}CdtTrfTxInf/{{{PACS008}}}IntrBkSttlmAmt")
    amounts[number - 1].text = amount
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def xml(key: str | None = None) -> dict[str, str]:
    headers = {"Content-Type": XML_MEDIA_TYPE}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return headers


# --- the network -----------------------------------------------------------------------------------


@dataclass
class Callbacks:
    """Vietcombank's inbound API: the pacs.002s the switch sends it when a transfer ends late."""

    secret: str = ""
    reports: list[StatusReport] = field(default_factory=list)
    refused: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/inbound/status-reports", self._status_reports)
        return app

    async def _status_reports(self, request: web.Request) -> web.Response:
        body = await request.read()
        read = read_wire(body) if request.content_type == XML_MEDIA_TYPE else None
        signed = verify(self.secret, body, request.headers.get(SIGNATURE_HEADER))
        if read is None or not signed or (read.header.sender, read.header.receiver) != (NAPAS, VIETCOMBANK):
            self.refused += 1
            return web.Response(status=400)
        assert isinstance(read.message, ReadStatusReports)
        self.reports.extend(read.message.reports)
        return web.Response(status=204)


@dataclass
class Network:
    http: httpx.AsyncClient  # to the switch
    api: SwitchApi
    bidv: ParticipantNode
    bidv_calls: Calls
    vcb_key: str
    callbacks: Callbacks

    async def positions(self) -> list[dict[str, Any]]:
        return list((await self.http.get("/v1/admin/positions", headers=ADMIN)).json())


@contextlib.asynccontextmanager
async def network_serving(tmp_path: Path) -> AsyncIterator[Network]:
    callbacks = Callbacks()
    async with (
        served_switch(tmp_path) as (api, switch_url),
        served_bank(bidv_node(tmp_path)) as bidv,
        aiohttp_serving(callbacks.app()) as vcb_url,
        httpx.AsyncClient(base_url=switch_url, timeout=WAIT_S * 3) as http,
    ):
        # BIDV as `serve` registers a simulated bank: it serves the JSON batch call too.
        registered = await register(http, BIDV, "BIDV", bidv.url, True, XML_WIRE)
        bidv.api.signing_secret = registered["signing_secret"]
        vcb = await register(http, VIETCOMBANK, "Vietcombank", vcb_url, False, XML_WIRE)
        callbacks.secret = vcb["signing_secret"]
        yield Network(http, api, bidv.node, bidv.calls, vcb["api_key"], callbacks)


def reports_of(response: httpx.Response) -> list[StatusReport]:
    """The switch's pacs.002 to Vietcombank, once its header says so."""
    assert response.headers["content-type"].startswith(XML_MEDIA_TYPE), response.text
    read = read_wire(response.content)
    assert (read.header.sender, read.header.receiver) == (NAPAS, VIETCOMBANK)
    assert read.header.message_definition == "pacs.002.001.12"
    assert isinstance(read.message, ReadStatusReports) and read.message.refused == ()
    return list(read.message.reports)


def statuses(reports: Sequence[StatusReport]) -> list[tuple[str, TransactionStatus, StatusReason | None]]:
    return [(r.original_transaction_id, r.transaction_status, r.status_reason) for r in reports]


def test_a_pacs008_of_three_transactions_is_answered_with_one_pacs002_reporting_each_in_order(tmp_path: Path) -> None:
    async def run() -> None:
        async with network_serving(tmp_path) as net:
            response = await net.http.post(
                "/v1/transfers", content=pacs008(three_transfers()), headers=xml(net.vcb_key)
            )
            assert response.status_code == 200, response.text
            reports = reports_of(response)
            assert statuses(reports) == [
                ("VCB1", TransactionStatus.ACSC, None),
                ("VCB2", TransactionStatus.RJCT, StatusReason.AC01),
                ("VCB3", TransactionStatus.ACSC, None),
            ]
            assert {(r.original_message_id, r.debtor_agent) for r in reports} == {("MVCB1", VIETCOMBANK)}
            # The switch forwarded the three to BIDV in one pacs.008 (one XML call), and settled two.
            assert net.bidv_calls.seen.count(("/v1/inbound/transfers", XML_MEDIA_TYPE)) == 1
            await eventually(lambda: net.bidv.inbound_counts().get("settled") == (2, 3_289_000))
            positions = {p["bin"]: p["liquidity_vnd"] for p in await net.positions()}
            assert positions == {VIETCOMBANK: -3_289_000, BIDV: 3_289_000}

    asyncio.run(run())


def test_a_fractional_amount_is_rjct_ch20_naming_its_element_while_the_others_go_on(tmp_path: Path) -> None:
    body = with_amount(pacs008(three_transfers()), 2, "1000.5")

    async def run() -> None:
        async with network_serving(tmp_path) as net:
            response = await net.http.post("/v1/transfers", content=body, headers=xml(net.vcb_key))
            assert response.status_code == 200, response.text
            reports = reports_of(response)
            assert statuses(reports) == [
                ("VCB1", TransactionStatus.ACSC, None),
                ("VCB2", TransactionStatus.RJCT, StatusReason.CH20),
                ("VCB3", TransactionStatus.ACSC, None),
            ]
            detail = reports[1].additional_information or ""
            assert detail.startswith("CdtTrfTxInf[2]/IntrBkSttlmAmt"), detail
            assert reports[0].additional_information is None
            await eventually(lambda: net.bidv.inbound_counts().get("settled") == (2, 3_289_000))
            assert net.bidv.inbound_counts() == {"settled": (2, 3_289_000)}  # the bad one never reached BIDV

    asyncio.run(run())


def test_a_transaction_of_another_debtor_agent_is_rjct_ff01_and_the_others_go_on(tmp_path: Path) -> None:
    theirs = credit_transfer("CTG1", AN.account, 400_000).model_copy(update={"debtor_agent": VIETINBANK})
    sent = [credit_transfer("VCB1", AN.account, 500_000), theirs]

    async def run() -> None:
        async with network_serving(tmp_path) as net:
            response = await net.http.post("/v1/transfers", content=pacs008(sent), headers=xml(net.vcb_key))
            assert response.status_code == 200, response.text
            reports = reports_of(response)
            assert statuses(reports) == [
                ("VCB1", TransactionStatus.ACSC, None),
                ("CTG1", TransactionStatus.RJCT, StatusReason.FF01),
            ]
            assert (reports[1].additional_information or "").startswith("DbtrAgt/FinInstnId/ClrSysMmbId/MmbId")

    asyncio.run(run())


def test_a_creditor_slower_than_the_wait_gets_202_pdng_and_the_final_pacs002_follows_by_callback(
    tmp_path: Path,
) -> None:
    async def run() -> None:
        async with network_serving(tmp_path) as net:
            net.api.transfer_wait_s = 0.0  # the answer cannot be final in no time at all
            response = await net.http.post(
                "/v1/transfers", content=pacs008(three_transfers()), headers=xml(net.vcb_key)
            )
            assert response.status_code == 202, response.text
            assert [r.transaction_status for r in reports_of(response)] == [TransactionStatus.PDNG] * 3
            await eventually(lambda: len(net.callbacks.reports) == 3)
            finals = sorted(statuses(net.callbacks.reports))
            assert finals == [
                ("VCB1", TransactionStatus.ACSC, None),
                ("VCB2", TransactionStatus.RJCT, StatusReason.AC01),
                ("VCB3", TransactionStatus.ACSC, None),
            ]
            assert net.callbacks.refused == 0

    asyncio.run(run())


def test_a_header_from_another_bin_than_the_key_is_403_naming_apphdr_fr_and_nothing_moves(tmp_path: Path) -> None:
    body = pacs008(three_transfers(), sender=BIDV)

    async def run() -> None:
        async with network_serving(tmp_path) as net:
            before = await net.positions()
            response = await net.http.post("/v1/transfers", content=body, headers=xml(net.vcb_key))
            assert response.status_code == 403
            assert response.headers["content-type"] == "application/problem+json"
            assert [e["field"] for e in response.json()["errors"]] == ["AppHdr/Fr"]
            await asyncio.sleep(0.1)
            assert await net.positions() == before and net.bidv_calls.seen == []

    asyncio.run(run())


DOCTYPE = b"""<?xml version="1.0"?>
<!DOCTYPE Envelope [<!ENTITY e "970436">]>
<Envelope><AppHdr>&e;</AppHdr></Envelope>"""


@pytest.mark.parametrize(
    "body",
    [b"<Envelope><AppHdr>", b'{"not": "xml"}', DOCTYPE, b"<Document/>"],
    ids=["truncated", "json-as-xml", "doctype", "no-envelope"],
)
def test_a_body_that_is_no_readable_document_is_400_problem_json_and_nothing_moves(tmp_path: Path, body: bytes) -> None:
    async def run() -> None:
        async with network_serving(tmp_path) as net:
            before = await net.positions()
            for path in ("/v1/transfers", "/v1/status-requests", "/v1/verifications"):
                response = await net.http.post(path, content=body, headers=xml(net.vcb_key))
                assert response.status_code == 400, (path, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["errors"] and response.json()["type"].endswith("/message-invalid")
            assert await net.positions() == before and net.bidv_calls.seen == []

    asyncio.run(run())


@pytest.mark.parametrize("key", [None, "not-a-key"], ids=["no-key", "unknown-key"])
def test_a_document_without_a_participants_key_is_401(tmp_path: Path, key: str | None) -> None:
    async def run() -> None:
        async with network_serving(tmp_path) as net:
            response = await net.http.post("/v1/transfers", content=pacs008(three_transfers()), headers=xml(key))
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
            assert net.bidv_calls.seen == []

    asyncio.run(run())


def big_transfers(count: int) -> list[CreditTransfer]:
    return [credit_transfer(f"VCB{n:04d}", HONG.account if n % 2 else AN.account, 10_000 + n) for n in range(count)]


def test_an_xml_body_over_64_kib_and_under_4_mib_is_taken(tmp_path: Path) -> None:
    sent = big_transfers(150)
    body = pacs008(sent)
    assert BODY_BYTES_MAX < len(body) < WIRE_BYTES_MAX

    async def run() -> None:
        async with network_serving(tmp_path) as net:
            response = await net.http.post("/v1/transfers", content=body, headers=xml(net.vcb_key))
            assert response.status_code == 200, response.text
            reports = reports_of(response)
            assert [r.original_transaction_id for r in reports] == [t.transaction_id for t in sent]
            assert {r.transaction_status for r in reports} == {TransactionStatus.ACSC}
            total_vnd = sum(t.amount_vnd for t in sent)
            await eventually(lambda: net.bidv.inbound_counts().get("settled") == (150, total_vnd))

    asyncio.run(run())


def test_an_xml_body_over_4_mib_is_413_declared_or_chunked(tmp_path: Path) -> None:
    body = b"<" + b"x" * WIRE_BYTES_MAX

    async def run() -> None:
        async with network_serving(tmp_path) as net:
            response = await net.http.post("/v1/transfers", content=body, headers=xml(net.vcb_key))
            assert response.status_code == 413
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["errors"][0]["field"] == "(body)"
            # JSON keeps its own, smaller limit on the same path.
            json_body = b" " * (BODY_BYTES_MAX + 1)
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {net.vcb_key}"}
            assert (await net.http.post("/v1/transfers", content=json_body, headers=headers)).status_code == 413

            async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it is read
                for _ in range(5):
                    yield b"x" * (1024 * 1024)

            chunked = await net.http.post("/v1/transfers", content=chunks(), headers=xml(net.vcb_key))
            assert chunked.status_code == 413 and chunked.json()["errors"][0]["field"] == "(body)"

    asyncio.run(run())


def test_json_on_the_same_path_still_works_for_a_participant_registered_on_xml(tmp_path: Path) -> None:
    transfer = credit_transfer("VCBJSON1", AN.account, 500_000)

    async def run() -> None:
        async with network_serving(tmp_path) as net:
            response = await net.http.post(
                "/v1/transfers", content=transfer.model_dump_json(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {net.vcb_key}"},
            )  # fmt: skip
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            report = StatusReport.model_validate_json(response.content)
            assert (report.original_transaction_id, report.transaction_status) == ("VCBJSON1", TransactionStatus.ACSC)

    asyncio.run(run())


def test_a_pacs028_is_answered_with_the_transactions_pacs002(tmp_path: Path) -> None:
    async def run() -> None:
        async with network_serving(tmp_path) as net:
            sent = await net.http.post("/v1/transfers", content=pacs008(three_transfers()), headers=xml(net.vcb_key))
            assert sent.status_code == 200
            request = StatusRequest(message_id="MVCBQ1", original_transaction_id="VCB2", debtor_agent=VIETCOMBANK)
            body = write_wire(request, VIETCOMBANK, NAPAS, CREATED)
            response = await net.http.post("/v1/status-requests", content=body, headers=xml(net.vcb_key))
            assert response.status_code == 200, response.text
            assert statuses(reports_of(response)) == [("VCB2", TransactionStatus.RJCT, StatusReason.AC01)]

    asyncio.run(run())


def test_an_acmt023_goes_to_the_account_holders_bank_and_its_acmt024_comes_back(tmp_path: Path) -> None:
    request = VerificationRequest(verification_id="VERVCB1", agent=BIDV, account=HONG.account, name="Nguyễn Thị Hồng")

    async def run() -> None:
        async with network_serving(tmp_path) as net:
            body = write_wire(request, VIETCOMBANK, NAPAS, CREATED)
            response = await net.http.post("/v1/verifications", content=body, headers=xml(net.vcb_key))
            assert response.status_code == 200, response.text
            read = read_wire(response.content)
            assert (read.header.sender, read.header.receiver) == (NAPAS, VIETCOMBANK)
            assert read.header.message_definition == "acmt.024.001.04"
            report = read.message
            assert isinstance(report, VerificationReport)
            assert (report.original_verification_id, report.outcome) == ("VERVCB1", VerificationOutcome.MTCH)
            assert ("/v1/inbound/verifications", XML_MEDIA_TYPE) in net.bidv_calls.seen

    asyncio.run(run())


def test_the_admin_changes_a_participants_wire_and_the_next_call_uses_it(tmp_path: Path) -> None:
    async def run() -> None:
        async with network_serving(tmp_path) as net:
            first = await net.http.post(
                "/v1/transfers", content=pacs008([credit_transfer("VCB0")]), headers=xml(net.vcb_key)
            )
            assert statuses(reports_of(first)) == [("VCB0", TransactionStatus.ACSC, None)]
            await eventually(lambda: len(net.bidv_calls.seen) == 2)  # the credit, then its final status
            assert net.bidv_calls.seen == [
                ("/v1/inbound/transfers", XML_MEDIA_TYPE), ("/v1/inbound/status-reports", XML_MEDIA_TYPE)
            ]  # fmt: skip
            net.bidv_calls.seen.clear()
            path = f"/v1/admin/participants/{BIDV}/wire"
            as_vcb = {"Authorization": f"Bearer {net.vcb_key}"}
            assert (await net.http.put(path, json={"wire": "json"}, headers=as_vcb)).status_code == 401
            assert (await net.http.put(path, json={"wire": "json"})).status_code == 401
            changed = await net.http.put(path, json={"wire": "json"}, headers=ADMIN)
            assert changed.status_code == 200 and changed.json()["wire"] == "json"
            listed = (await net.http.get("/v1/admin/participants", headers=ADMIN)).json()
            assert {p["bin"]: p["wire"] for p in listed} == {BIDV: "json", VIETCOMBANK: "iso20022-xml"}

            response = await net.http.post(
                "/v1/transfers", content=pacs008(three_transfers()[:1]), headers=xml(net.vcb_key)
            )
            assert statuses(reports_of(response)) == [("VCB1", TransactionStatus.ACSC, None)]
            await eventually(lambda: len(net.bidv_calls.seen) == 2)
            # In JSON batch calls now, as it serves them: the credit, then its final status.
            assert net.bidv_calls.seen == [("/v1/inbound/batches", "application/json")] * 2

            unknown = await net.http.put("/v1/admin/participants/970999/wire", json={"wire": "json"}, headers=ADMIN)
            assert unknown.status_code == 404 and unknown.json()["errors"][0]["reason"] == "RC04"
            bad = await net.http.put(path, json={"wire": "nonsense"}, headers=ADMIN)
            assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["wire"]

    asyncio.run(run())


def test_registering_with_a_wire_that_does_not_exist_is_422_naming_wire(tmp_path: Path) -> None:
    async def run() -> None:
        async with network_serving(tmp_path) as net:
            body = {"bin": VIETINBANK, "name": "VietinBank", "kind": "bank", "wire": "nonsense"}
            answer = await net.http.post("/v1/admin/participants", json=body, headers=ADMIN)
            assert answer.status_code == 422
            assert answer.headers["content-type"] == "application/problem+json"
            assert [(e["field"], e["reason"]) for e in answer.json()["errors"]] == [("wire", "FF01")]
            listed = (await net.http.get("/v1/admin/participants", headers=ADMIN)).json()
            assert VIETINBANK not in {p["bin"] for p in listed}
            plain = await net.http.post(
                "/v1/admin/participants", json={"bin": VIETINBANK, "name": "VietinBank", "kind": "bank"}, headers=ADMIN
            )
            assert plain.status_code == 201 and plain.json()["wire"] == "json"  # JSON unless asked

    asyncio.run(run())


def wrong_kinds() -> list[Any]:
    transfer = credit_transfer("VCB1")
    request = StatusRequest(message_id="MVCBQ1", original_transaction_id="VCB1", debtor_agent=VIETCOMBANK)
    pacs028 = write_wire(request, VIETCOMBANK, NAPAS, CREATED)
    return [
        pytest.param("/v1/transfers", pacs028, "pacs.008", id="pacs028-as-transfers"),
        pytest.param("/v1/status-requests", pacs008([transfer]), "pacs.028", id="pacs008-as-status-request"),
        pytest.param("/v1/verifications", pacs008([transfer]), "acmt.023", id="pacs008-as-verification"),
    ]


@pytest.mark.parametrize(("path", "body", "expected"), wrong_kinds())
def test_a_document_of_the_wrong_kind_for_the_path_is_400_naming_the_msgdefidr(
    tmp_path: Path, path: str, body: bytes, expected: str
) -> None:
    async def run() -> None:
        async with network_serving(tmp_path) as net:
            response = await net.http.post(path, content=body, headers=xml(net.vcb_key))
            assert response.status_code == 400
            [error] = response.json()["errors"]
            assert error["field"] == "AppHdr/MsgDefIdr" and expected in error["rule"]
            assert net.bidv_calls.seen == []

    asyncio.run(run())


def test_a_document_addressed_to_another_than_napas_is_400_naming_apphdr_to(tmp_path: Path) -> None:
    body = pacs008(three_transfers(), receiver=BIDV)

    async def run() -> None:
        async with network_serving(tmp_path) as net:
            before = await net.positions()
            response = await net.http.post("/v1/transfers", content=body, headers=xml(net.vcb_key))
            assert response.status_code == 400
            assert [e["field"] for e in response.json()["errors"]] == ["AppHdr/To"]
            assert await net.positions() == before and net.bidv_calls.seen == []

    asyncio.run(run())
