"""An external bank for the e2e tests: someone else's system, speaking ISO 20022 XML to the switch.

It knows nothing of Switchyard's code. Every message it sends or reads is one of pyiso20022's
dataclasses (generated from ISO's XSDs) written and read by xsdata; the signature on the switch's
calls it checks with its own HMAC. What it shares with the switch is only the published wire: an
`<Envelope>` holding a head.001.001.02 `AppHdr` and the message's `Document`, each member named by
its BIN in `FIId/FinInstnId/ClrSysMmbId/MmbId` ("NAPAS" for the switch).

It keeps its own books, as a bank would: customers' balances, a settlement account that mirrors its
position at the switch, and every transaction it sent or received with its state. A debit is held
when it sends, posted on ACSC, released on RJCT; a credit is accepted (ACSP, pending) when the
switch forwards it, posted on the final ACSC report, voided on RJCT (AB05 after acceptance too).
A report that comes twice changes nothing the second time.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import uvicorn
from lxml import etree
from pyiso20022.head.head_001_001_02 import head_001_001_02 as head
from pyiso20022.pacs.pacs_002_001_12 import pacs_002_001_12 as pacs002
from pyiso20022.pacs.pacs_008_001_12 import pacs_008_001_12 as pacs008
from pyiso20022.pacs.pacs_028_001_05 import pacs_028_001_05 as pacs028
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.models.datatype import XmlDateTime

T = TypeVar("T")
SWITCH = "NAPAS"  # the switch's member id in the business application header
ICT = timezone(timedelta(hours=7))
HEAD_NS = "urn:iso:std:iso:20022:tech:xsd:head.001.001.02"
PACS008, PACS002, PACS028 = "pacs.008.001.12", "pacs.002.001.12", "pacs.028.001.05"
NAMESPACES = {name: f"urn:iso:std:iso:20022:tech:xsd:{name}" for name in (PACS008, PACS002, PACS028)}
SIGNATURE_HEADER = "X-Switchyard-Signature"
XML = "application/xml"
ENVELOPE_BYTES_MAX = 8 * 1024 * 1024  # what this bank reads from the switch at most
ANSWER_WAIT_S = 30.0


class EnvelopeUnreadable(ValueError):
    """A body this bank cannot read as an ISO 20022 envelope: answered 400."""


# --- the envelope: head.001 + Document -------------------------------------------------------------


def now() -> datetime:
    moment = datetime.now(ICT)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _agent6(member_id: str, module: Any) -> Any:
    """A BranchAndFinancialInstitutionIdentification6 of `module` (head.001, pacs.002, pacs.028)."""
    return module.BranchAndFinancialInstitutionIdentification6(
        fin_instn_id=module.FinancialInstitutionIdentification18(
            clr_sys_mmb_id=module.ClearingSystemMemberIdentification2(mmb_id=member_id)
        )
    )


def app_header(sender: str, receiver: str, business_message_id: str, definition: str, created: datetime) -> Any:
    return head.AppHdr(
        fr=head.Party44Choice(fiid=_agent6(sender, head)),
        to=head.Party44Choice(fiid=_agent6(receiver, head)),
        biz_msg_idr=business_message_id,
        msg_def_idr=definition,
        cre_dt=XmlDateTime.from_datetime(created),
    )


def _rendered(part: Any, namespace: str) -> bytes:
    serializer = XmlSerializer(config=SerializerConfig(xml_declaration=False))
    return serializer.render(part, ns_map={None: namespace}).encode("utf-8")


def envelope(header: Any, document: Any, definition: str) -> bytes:
    """The two parts written by xsdata, joined as the wire's `<Envelope>`."""
    return b"".join(
        (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<Envelope>',
            _rendered(header, HEAD_NS),
            _rendered(document, NAMESPACES[definition]),
            b"</Envelope>",
        )
    )


def opened(data: bytes, document_type: type[T]) -> tuple[Any, T]:
    """The envelope's AppHdr and Document, each read by xsdata into pyiso20022's dataclasses.

    lxml only splits the two children, with entities and DTDs off; xsdata reads each strictly
    (an element its class does not know is an error)."""
    if len(data) > ENVELOPE_BYTES_MAX:
        raise EnvelopeUnreadable(f"larger than {ENVELOPE_BYTES_MAX} bytes")
    safe = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, safe)
    except etree.XMLSyntaxError as error:
        raise EnvelopeUnreadable(f"not XML: {error}") from None
    if root.getroottree().docinfo.doctype or root.tag != "Envelope" or len(root) != 2:
        raise EnvelopeUnreadable("must be an <Envelope> of AppHdr and Document, without a DOCTYPE")
    parser = XmlParser()
    try:
        header = parser.from_bytes(etree.tostring(root[0]), head.AppHdr)
        document = parser.from_bytes(etree.tostring(root[1]), document_type)
    except (ValueError, etree.LxmlError) as error:  # xsdata's errors are all ValueErrors
        raise EnvelopeUnreadable(f"{type(error).__name__}: {error}") from None
    return header, document


def member_of(party: Any) -> str:
    """The BIN (or NAPAS) a header's Fr or To names."""
    return str(party.fiid.fin_instn_id.clr_sys_mmb_id.mmb_id)


# --- pacs.008: the credit transfers this bank sends, and those it receives -------------------------------


@dataclass(frozen=True, slots=True)
class Payment:
    """One credit transfer transaction, as this bank's payment system holds it."""

    end_to_end_id: str
    transaction_id: str
    amount_vnd: int | Decimal  # a Decimal only to build a message that breaks the scheme's rules
    debtor_name: str
    debtor_account: str
    debtor_agent: str
    creditor_account: str
    creditor_agent: str
    creditor_name: str | None = None
    remittance_information: str | None = None


def _agent8(member_id: str) -> Any:
    return pacs008.BranchAndFinancialInstitutionIdentification8(
        fin_instn_id=pacs008.FinancialInstitutionIdentification23(
            clr_sys_mmb_id=pacs008.ClearingSystemMemberIdentification2(mmb_id=member_id)
        )
    )


def _account(number: str) -> Any:
    return pacs008.CashAccount40(
        id=pacs008.AccountIdentification4Choice(othr=pacs008.GenericAccountIdentification1(id=number))
    )


def _transaction(payment: Payment) -> Any:
    remittance = payment.remittance_information
    return pacs008.CreditTransferTransaction64(
        pmt_id=pacs008.PaymentIdentification13(end_to_end_id=payment.end_to_end_id, tx_id=payment.transaction_id),
        intr_bk_sttlm_amt=pacs008.ActiveCurrencyAndAmount(value=Decimal(payment.amount_vnd), ccy="VND"),
        chrg_br=pacs008.ChargeBearerType1Code.SLEV,
        dbtr=pacs008.PartyIdentification272(nm=payment.debtor_name),
        dbtr_acct=_account(payment.debtor_account),
        dbtr_agt=_agent8(payment.debtor_agent),
        cdtr_agt=_agent8(payment.creditor_agent),
        cdtr=pacs008.PartyIdentification272(nm=payment.creditor_name),
        cdtr_acct=_account(payment.creditor_account),
        rmt_inf=None if remittance is None else pacs008.RemittanceInformation22(ustrd=[remittance]),
    )


def credit_transfer_document(message_id: str, created: datetime, payments: Sequence[Payment]) -> Any:
    header = pacs008.GroupHeader113(
        msg_id=message_id,
        cre_dt_tm=XmlDateTime.from_datetime(created),
        nb_of_txs=str(len(payments)),
        sttlm_inf=pacs008.SettlementInstruction15(sttlm_mtd=pacs008.SettlementMethod1Code.CLRG),
    )
    return pacs008.Document(
        fito_ficstmr_cdt_trf=pacs008.FitoFicustomerCreditTransferV12(
            grp_hdr=header, cdt_trf_tx_inf=[_transaction(payment) for payment in payments]
        )
    )


def credit_transfer_message(
    sender: str, message_id: str, created: datetime, payments: Sequence[Payment], receiver: str = SWITCH
) -> bytes:
    document = credit_transfer_document(message_id, created, payments)
    return envelope(app_header(sender, receiver, message_id, PACS008, created), document, PACS008)


def _account_number(account: Any) -> str | None:
    if account is None or account.id is None or account.id.othr is None:
        return None
    return str(account.id.othr.id)


def _member(agent: Any) -> str:
    return str(agent.fin_instn_id.clr_sys_mmb_id.mmb_id)


@dataclass(frozen=True, slots=True)
class Received:
    """One transaction of a pacs.008 the switch forwarded to this bank."""

    message_id: str
    payment: Payment


def received_transactions(document: Any) -> list[Received]:
    """The transactions of a pacs.008 Document, amounts as whole dong."""
    message = document.fito_ficstmr_cdt_trf
    found = []
    for tx in message.cdt_trf_tx_inf:
        payment = Payment(
            end_to_end_id=tx.pmt_id.end_to_end_id,
            transaction_id=tx.pmt_id.tx_id,
            amount_vnd=int(tx.intr_bk_sttlm_amt.value),
            debtor_name=tx.dbtr.nm,
            debtor_account=_account_number(tx.dbtr_acct) or "",
            debtor_agent=_member(tx.dbtr_agt),
            creditor_account=_account_number(tx.cdtr_acct) or "",
            creditor_agent=_member(tx.cdtr_agt),
            creditor_name=tx.cdtr.nm if tx.cdtr is not None else None,
        )
        found.append(Received(message.grp_hdr.msg_id, payment))
    return found


# --- pacs.002: status, one message answering many transactions --------------------------------------


@dataclass(frozen=True, slots=True)
class Status:
    """What a pacs.002 says of one transaction."""

    transaction_id: str
    status: str  # ACSP, ACSC, RJCT, PDNG
    reason: str | None = None
    original_message_id: str | None = None
    end_to_end_id: str | None = None
    debtor_agent: str | None = None
    creditor_agent: str | None = None
    amount_vnd: int | None = None
    additional_information: tuple[str, ...] = ()


def _status_transaction(status: Status) -> Any:
    reasons = []
    if status.reason is not None:
        reasons.append(
            pacs002.StatusReasonInformation12(
                rsn=pacs002.StatusReason6Choice(cd=status.reason), addtl_inf=list(status.additional_information)
            )
        )
    reference = pacs002.OriginalTransactionReference35(
        intr_bk_sttlm_amt=(
            None
            if status.amount_vnd is None
            else pacs002.ActiveOrHistoricCurrencyAndAmount(value=Decimal(status.amount_vnd), ccy="VND")
        ),
        dbtr_agt=None if status.debtor_agent is None else _agent6(status.debtor_agent, pacs002),
        cdtr_agt=None if status.creditor_agent is None else _agent6(status.creditor_agent, pacs002),
    )
    group = None
    if status.original_message_id is not None:
        group = pacs002.OriginalGroupInformation29(orgnl_msg_id=status.original_message_id, orgnl_msg_nm_id=PACS008)
    return pacs002.PaymentTransaction130(
        orgnl_grp_inf=group,
        orgnl_end_to_end_id=status.end_to_end_id,
        orgnl_tx_id=status.transaction_id,
        tx_sts=status.status,
        sts_rsn_inf=reasons,
        orgnl_tx_ref=reference,
    )


def status_report_message(
    sender: str, receiver: str, message_id: str, created: datetime, statuses: Sequence[Status]
) -> bytes:
    document = pacs002.Document(
        fito_fipmt_sts_rpt=pacs002.FitoFipaymentStatusReportV12(
            grp_hdr=pacs002.GroupHeader101(msg_id=message_id, cre_dt_tm=XmlDateTime.from_datetime(created)),
            tx_inf_and_sts=[_status_transaction(status) for status in statuses],
        )
    )
    return envelope(app_header(sender, receiver, message_id, PACS002, created), document, PACS002)


def _read_status(tx: Any) -> Status:
    reason, notes = None, []
    for information in tx.sts_rsn_inf:
        if information.rsn is not None and reason is None:
            reason = information.rsn.cd or information.rsn.prtry
        notes.extend(information.addtl_inf)
    reference = tx.orgnl_tx_ref
    amount = None if reference is None or reference.intr_bk_sttlm_amt is None else reference.intr_bk_sttlm_amt.value
    return Status(
        transaction_id=tx.orgnl_tx_id,
        status=tx.tx_sts,
        reason=reason,
        original_message_id=None if tx.orgnl_grp_inf is None else tx.orgnl_grp_inf.orgnl_msg_id,
        end_to_end_id=tx.orgnl_end_to_end_id,
        debtor_agent=None if reference is None or reference.dbtr_agt is None else _member(reference.dbtr_agt),
        creditor_agent=None if reference is None or reference.cdtr_agt is None else _member(reference.cdtr_agt),
        amount_vnd=None if amount is None else int(amount),
        additional_information=tuple(notes),
    )


def read_status_report(data: bytes) -> tuple[Any, list[Status]]:
    header, document = opened(data, pacs002.Document)
    return header, [_read_status(tx) for tx in document.fito_fipmt_sts_rpt.tx_inf_and_sts]


# --- pacs.028: where is my transaction? ---------------------------------------------------------------


def status_request_message(
    sender: str, message_id: str, created: datetime, original_message_id: str, transaction_id: str
) -> bytes:
    request = pacs028.PaymentTransaction131(
        orgnl_grp_inf=pacs028.OriginalGroupInformation29(orgnl_msg_id=original_message_id, orgnl_msg_nm_id=PACS008),
        orgnl_tx_id=transaction_id,
        orgnl_tx_ref=pacs028.OriginalTransactionReference35(dbtr_agt=_agent6(sender, pacs028)),
    )
    document = pacs028.Document(
        fito_fipmt_sts_req=pacs028.FitoFipaymentStatusRequestV05(
            grp_hdr=pacs028.GroupHeader91(msg_id=message_id, cre_dt_tm=XmlDateTime.from_datetime(created)),
            tx_inf=[request],
        )
    )
    return envelope(app_header(sender, SWITCH, message_id, PACS028, created), document, PACS028)


# --- signatures -------------------------------------------------------------------------------------------


SIGNED_WITHIN_S = 300  # the README's window for a call's timestamp


def signature(secret: str, body: bytes, at_s: int | None = None, call_id: str = "iso-bank-test-call") -> str:
    """The header as README documents it: t=<unix s>,id=<call id>,v1=<HMAC-SHA256 of 't.id.' + body>."""
    stamp = int(time.time()) if at_s is None else at_s
    mac = hmac.new(secret.encode(), f"{stamp}.{call_id}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},id={call_id},v1={mac}"


def signed(secret: str, body: bytes, header: str | None) -> bool:
    """This bank's own reading of the header (written from README, not with the project's code)."""
    if not secret or header is None:
        return False
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not fields.get("t", "").isdigit() or abs(time.time() - int(fields["t"])) > SIGNED_WITHIN_S:
        return False
    expected = signature(secret, body, int(fields["t"]), fields.get("id", ""))
    return hmac.compare_digest(expected, header)


# --- the bank's books -------------------------------------------------------------------------------------

FINAL = ("ACSC", "RJCT")


@dataclass(slots=True)
class Entry:
    """One transaction in the bank's books: a debit it sent or a credit it received."""

    transaction_id: str
    account: str
    amount_vnd: int
    state: str  # a debit: held -> posted | released; a credit: accepted -> posted | voided; refused
    status: str  # the last status it was told or answered: PDNG, ACSP, ACSC, RJCT
    reason: str | None = None


class Books:
    """Customers' balances, the settlement account (money at the switch) and every transaction.

    Thread-safe: the server's thread writes while the test's thread reads."""

    def __init__(self, accounts: dict[str, tuple[str, int]], settlement_vnd: int) -> None:
        self.holders = {account: holder for account, (holder, _) in accounts.items()}
        self.balances = {account: balance for account, (_, balance) in accounts.items()}
        self.settlement_vnd = settlement_vnd
        self.sent: dict[str, Entry] = {}  # by transaction id: this bank is their debtor agent
        self.received: dict[tuple[str, str], Entry] = {}  # by (debtor agent, transaction id)
        self.conflicts: list[str] = []  # a report that contradicts a final state already booked
        self.lock = threading.Lock()

    def hold(self, payment: Payment) -> None:
        with self.lock:
            entry = Entry(payment.transaction_id, payment.debtor_account, int(payment.amount_vnd), "held", "PDNG")
            self.sent[payment.transaction_id] = entry

    def settle_sent(self, status: Status) -> bool:
        """A status of a transaction this bank sent; False if it never sent it."""
        with self.lock:
            entry = self.sent.get(status.transaction_id)
            if entry is None:
                return False
            if entry.state != "held":
                self._check_repeat(entry, status)
                return True
            entry.status, entry.reason = status.status, status.reason
            if status.status == "ACSC":
                entry.state = "posted"
                self.balances[entry.account] -= entry.amount_vnd
                self.settlement_vnd -= entry.amount_vnd
            elif status.status == "RJCT":
                entry.state = "released"
            return True

    def accept(self, received: Received) -> Status:
        """The answer to one forwarded credit: ACSP (a pending credit), or RJCT AC01 for an account
        this bank does not hold. A transaction forwarded again gets its first answer."""
        payment = received.payment
        with self.lock:
            key = (payment.debtor_agent, payment.transaction_id)
            entry = self.received.get(key)
            if entry is None:
                known = payment.creditor_account in self.balances
                entry = Entry(
                    payment.transaction_id, payment.creditor_account, int(payment.amount_vnd),
                    "accepted" if known else "refused", "ACSP" if known else "RJCT", None if known else "AC01",
                )  # fmt: skip
                self.received[key] = entry
        return Status(
            transaction_id=payment.transaction_id, status=entry.status, reason=entry.reason,
            original_message_id=received.message_id, end_to_end_id=payment.end_to_end_id,
            debtor_agent=payment.debtor_agent, creditor_agent=payment.creditor_agent, amount_vnd=entry.amount_vnd,
        )  # fmt: skip

    def settle_received(self, status: Status) -> bool:
        """A final status of a credit this bank accepted; False if it never received it."""
        with self.lock:
            entry = self._received_entry(status)
            if entry is None:
                return False
            if entry.state != "accepted":
                self._check_repeat(entry, status)
                return True
            entry.status, entry.reason = status.status, status.reason
            if status.status == "ACSC":
                entry.state = "posted"
                self.balances[entry.account] += entry.amount_vnd
                self.settlement_vnd += entry.amount_vnd
            elif status.status == "RJCT":
                entry.state = "voided"
            return True

    def _received_entry(self, status: Status) -> Entry | None:
        if status.debtor_agent is not None:
            return self.received.get((status.debtor_agent, status.transaction_id))
        matches = [e for (_, tx), e in self.received.items() if tx == status.transaction_id]
        return matches[0] if len(matches) == 1 else None

    def _check_repeat(self, entry: Entry, status: Status) -> None:
        """A report after the entry is final (a retry, or the final report after a synchronous
        answer) must say the same: anything else is a conflict the test fails on."""
        if status.status in FINAL and (status.status, status.reason) != (entry.status, entry.reason):
            if not (entry.state == "refused" and status.status == "RJCT"):
                self.conflicts.append(f"{entry.transaction_id}: booked {entry.status} {entry.reason}, told {status}")

    def open_entries(self) -> list[Entry]:
        with self.lock:
            return [e for e in [*self.sent.values(), *self.received.values()] if e.state in ("held", "accepted")]

    def posted_vnd(self) -> tuple[int, int]:
        """(sent, received): what this bank booked as paid out and paid in."""
        with self.lock:
            sent = sum(e.amount_vnd for e in self.sent.values() if e.state == "posted")
            received = sum(e.amount_vnd for e in self.received.values() if e.state == "posted")
        return sent, received


# --- the bank's inbound API and its calls to the switch ----------------------------------------------------


def _problem(status: int, title: str, field: str, rule: str) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "errors": [{"field": field, "rule": rule}]}
    return Response(json.dumps(body), status_code=status, media_type="application/problem+json")


class IsoBank:
    """The external bank: its books, its inbound API (a Starlette app) and its client calls."""

    def __init__(self, bin_code: str, accounts: dict[str, tuple[str, int]], settlement_vnd: int = 0) -> None:
        self.bin = bin_code
        self.books = Books(accounts, settlement_vnd)
        self.secret = ""  # the switch's signing secret for this bank, given at registration
        self.unsigned = 0
        self.headers: list[Any] = []  # the AppHdr of every message the switch sent, in order
        self._ids = iter(range(1, 10**9))
        self.app = Starlette(
            routes=[
                Route("/v1/inbound/transfers", self._transfers, methods=["POST"]),
                Route("/v1/inbound/status-reports", self._status_reports, methods=["POST"]),
            ]
        )

    def next_id(self, kind: str) -> str:
        return f"{self.bin}-{kind}-{now():%Y%m%d}-{next(self._ids):06d}"

    async def _opened(self, request: Request, document_type: type[T]) -> tuple[Any, T] | Response:
        body = await request.body()
        if not signed(self.secret, body, request.headers.get(SIGNATURE_HEADER)):
            self.unsigned += 1
            return _problem(401, "Bad signature", SIGNATURE_HEADER, "HMAC-SHA256 of the body with the secret")
        try:
            header, document = opened(body, document_type)
        except EnvelopeUnreadable as error:
            return _problem(400, "Unreadable message", "Envelope", str(error))
        if (member_of(header.fr), member_of(header.to)) != (SWITCH, self.bin):
            return _problem(400, "Not for this bank", "AppHdr/To", f"must be from {SWITCH} to {self.bin}")
        self.headers.append(header)
        return header, document

    async def _transfers(self, request: Request) -> Response:
        opened_ = await self._opened(request, pacs008.Document)
        if isinstance(opened_, Response):
            return opened_
        _header, document = opened_
        answers = [self.books.accept(received) for received in received_transactions(document)]
        body = status_report_message(self.bin, SWITCH, self.next_id("PACS002"), now(), answers)
        return Response(body, media_type=XML)

    async def _status_reports(self, request: Request) -> Response:
        opened_ = await self._opened(request, pacs002.Document)
        if isinstance(opened_, Response):
            return opened_
        _header, document = opened_
        for tx in document.fito_fipmt_sts_rpt.tx_inf_and_sts:
            status = _read_status(tx)
            mine = status.debtor_agent == self.bin or (
                status.debtor_agent is None and status.transaction_id in self.books.sent
            )
            if not (self.books.settle_sent(status) if mine else self.books.settle_received(status)):
                return _problem(400, "Unknown transaction", "TxInfAndSts/OrgnlTxId", f"{status.transaction_id}")
        return Response(status_code=204)

    def send_transfers(
        self, switch: str, api_key: str, message_id: str, payments: Sequence[Payment], body: bytes | None = None
    ) -> tuple[httpx.Response, list[Status]]:
        """POST /v1/transfers: holds the debits, sends the pacs.008 (or `body`, a message built
        badly on purpose), and books what the pacs.002 answers; a refused message releases them."""
        for payment in payments:
            self.books.hold(payment)
        data = body if body is not None else credit_transfer_message(self.bin, message_id, now(), payments)
        answer = httpx.post(
            switch + "/v1/transfers", content=data, timeout=ANSWER_WAIT_S,
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": XML, "Accept": XML},
        )  # fmt: skip
        if answer.status_code not in (200, 202):
            for payment in payments:
                self.books.settle_sent(Status(payment.transaction_id, "RJCT", f"HTTP {answer.status_code}"))
            return answer, []
        _header, statuses = read_status_report(answer.content)
        for status in statuses:
            self.books.settle_sent(status)
        return answer, statuses

    def ask_status(
        self, switch: str, api_key: str, original_message_id: str, transaction_id: str
    ) -> tuple[httpx.Response, Any, list[Status]]:
        """POST /v1/status-requests with a pacs.028; books the pacs.002 it answers."""
        data = status_request_message(self.bin, self.next_id("PACS028"), now(), original_message_id, transaction_id)
        answer = httpx.post(
            switch + "/v1/status-requests", content=data, timeout=ANSWER_WAIT_S,
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": XML, "Accept": XML},
        )  # fmt: skip
        if answer.status_code != 200:
            return answer, None, []
        header, statuses = read_status_report(answer.content)
        for status in statuses:
            self.books.settle_sent(status)
        return answer, header, statuses


@contextlib.contextmanager
def serving(bank: IsoBank) -> Iterator[str]:
    """The bank's inbound API on a free port of 127.0.0.1, in a thread; yields its base URL and
    stops it on the way out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(bank.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        if not wait_until(lambda: server.started, 10.0):
            raise RuntimeError("the ISO bank's server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def wait_until(predicate: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def with_reason(status: Status) -> tuple[str, str | None]:
    return status.status, status.reason
