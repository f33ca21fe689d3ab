"""A pain.001.001.09 as a treasury system that knows nothing of Switchyard writes it: built with
pyiso20022's dataclasses (generated from ISO's XSD) and written by xsdata, never by our own writer.
Shared by the unit (tests/unit/switch/scheme/test_pain.py), integration and e2e tests of payroll files.

A treasury names its payment informations as it likes (`PmtInfId` is free text) and says what each
payment is for in the standard elements: `PmtTpInf/CtgyPurp` (Cd SSBE or PENS, or Prtry with the
program's code) and, per transaction, `Purp` (Cd, or Prtry with the program's code).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from pyiso20022.pain.pain_001_001_09 import pain_001_001_09 as iso
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.models.datatype import XmlDate, XmlDateTime

TREASURY = "999999"  # the State Treasury's BIN in the sandbox
TREASURY_ACCOUNT = "9527010000001"
CREATED = datetime(2026, 11, 28, 9, 15, tzinfo=timezone(timedelta(hours=7)))

Code = tuple[str, str]  # ("Cd", "SSBE") or ("Prtry", "merit_person"): an ISO code choice


@dataclass(frozen=True, slots=True)
class Payment:
    end_to_end_id: str
    citizen_id: str
    name: str
    amount_vnd: int
    purpose: Code | None = None  # CdtTrfTxInf/Purp
    category: Code | None = None  # CdtTrfTxInf/PmtTpInf/CtgyPurp


@dataclass(frozen=True, slots=True)
class PaymentGroup:
    payment_info_id: str
    payments: Sequence[Payment]
    execution: date | datetime = date(2026, 12, 1)  # ReqdExctnDt: Dt for a date, DtTm for a datetime
    category: Code | None = ("Cd", "SSBE")  # PmtInf/PmtTpInf/CtgyPurp
    debtor_agent: str = TREASURY


def _code(choice: type, code: Code | None) -> object | None:
    if code is None:
        return None
    kind, value = code
    return choice(cd=value) if kind == "Cd" else choice(prtry=value)


def _payment_type(code: Code | None) -> iso.PaymentTypeInformation26 | None:
    return None if code is None else iso.PaymentTypeInformation26(ctgy_purp=_code(iso.CategoryPurpose1Choice, code))


def _execution(when: date | datetime) -> iso.DateAndDateTime2Choice:
    if isinstance(when, datetime):
        return iso.DateAndDateTime2Choice(dt_tm=XmlDateTime.from_datetime(when))
    return iso.DateAndDateTime2Choice(dt=XmlDate.from_date(when))


def _transaction(payment: Payment) -> iso.CreditTransferTransaction34:
    citizen = iso.GenericPersonIdentification1(
        id=payment.citizen_id, schme_nm=iso.PersonIdentificationSchemeName1Choice(cd="NIDN")
    )
    return iso.CreditTransferTransaction34(
        pmt_id=iso.PaymentIdentification6(end_to_end_id=payment.end_to_end_id),
        pmt_tp_inf=_payment_type(payment.category),
        amt=iso.AmountType4Choice(
            instd_amt=iso.ActiveOrHistoricCurrencyAndAmount(value=Decimal(payment.amount_vnd), ccy="VND")
        ),
        cdtr=iso.PartyIdentification135(
            nm=payment.name, id=iso.Party38Choice(prvt_id=iso.PersonIdentification13(othr=[citizen]))
        ),
        purp=_code(iso.Purpose2Choice, payment.purpose),
        rmt_inf=iso.RemittanceInformation16(ustrd=["Trợ cấp hằng tháng"]),
    )


def _payment_info(group: PaymentGroup) -> iso.PaymentInstruction30:
    agent = iso.FinancialInstitutionIdentification18(
        clr_sys_mmb_id=iso.ClearingSystemMemberIdentification2(mmb_id=group.debtor_agent)
    )
    return iso.PaymentInstruction30(
        pmt_inf_id=group.payment_info_id,
        pmt_mtd=iso.PaymentMethod3Code.TRF,
        nb_of_txs=str(len(group.payments)),
        ctrl_sum=Decimal(sum(p.amount_vnd for p in group.payments)),
        pmt_tp_inf=_payment_type(group.category),
        reqd_exctn_dt=_execution(group.execution),
        dbtr=iso.PartyIdentification135(nm="Kho bạc Nhà nước"),
        dbtr_acct=iso.CashAccount38(id=iso.AccountIdentification4Choice(othr=iso.GenericAccountIdentification1(
            id=TREASURY_ACCOUNT
        ))),
        dbtr_agt=iso.BranchAndFinancialInstitutionIdentification6(fin_instn_id=agent),
        cdt_trf_tx_inf=[_transaction(p) for p in group.payments],
    )  # fmt: skip


def treasury_pain001(message_id: str, groups: Sequence[PaymentGroup], created: datetime = CREATED) -> bytes:
    """The groups as one pain.001.001.09, written by xsdata (namespace prefix ns0, as it likes)."""
    payments = [p for g in groups for p in g.payments]
    header = iso.GroupHeader85(
        msg_id=message_id,
        cre_dt_tm=XmlDateTime.from_datetime(created),
        nb_of_txs=str(len(payments)),
        ctrl_sum=Decimal(sum(p.amount_vnd for p in payments)),
        initg_pty=iso.PartyIdentification135(nm="Kho bạc Nhà nước - TABMIS"),
    )
    document = iso.Document(
        cstmr_cdt_trf_initn=iso.CustomerCreditTransferInitiationV09(
            grp_hdr=header, pmt_inf=[_payment_info(g) for g in groups]
        )
    )
    return XmlSerializer(config=SerializerConfig(indent="  ")).render(document).encode("utf-8")
