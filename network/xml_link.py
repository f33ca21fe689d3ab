"""An XML participant on the in-process network: each scheme message it sends or receives is
written as its ISO 20022 document under a head.001 header and read back before delivery, as it
would cross HTTP. The nodes still exchange message objects; what a scenario gains is that every
message of an `iso20022-xml` participant has been through the codec, and a message the codec
cannot carry fails the run where it happened.

The creation time in the header is fixed: it is not carried into the message objects, and a
scenario's report stays byte-identical for the same seed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from switch.scheme.messages import (
    CreditTransfer,
    CreditTransferMessage,
    StatusReport,
    StatusReportMessage,
    StatusRequest,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.pacs002 import ReadStatusReports
from switch.scheme.pacs008 import ReadCreditTransfers
from switch.scheme.transport import Envelope
from switch.scheme.wire import carrying, member_id, read_wire, write_wire

HEADER_CREATED = datetime(2026, 1, 1, tzinfo=UTC)
CARRIED = (
    CreditTransfer, CreditTransferMessage, StatusReport, StatusReportMessage, StatusRequest, VerificationRequest,
    VerificationReport,
)  # fmt: skip


def through_iso20022(envelope: Envelope) -> Envelope:
    """The envelope with its message written to XML and read back; other messages (timers,
    notices, the customer channel's orders) as they were."""
    message = envelope.message
    if not isinstance(message, CARRIED):
        return envelope
    document = carrying(message, message.original_transaction_id if isinstance(message, StatusReport) else "")
    data = write_wire(document, member_id(envelope.sender), member_id(envelope.receiver), HEADER_CREATED)
    read = _carried(read_wire(data).message, message)
    assert read == message, f"{type(message).__name__} changed on its way through XML: {message!r} -> {read!r}"
    return dataclasses.replace(envelope, message=read)


def _carried(read: object, sent: object) -> object:
    """What a document read back carries, in the shape it was sent: a transaction alone, or a
    message of many."""
    if isinstance(read, ReadCreditTransfers):
        assert not read.refused, f"the codec refused what the scheme wrote: {read.refused}"
        if isinstance(sent, CreditTransferMessage):
            return CreditTransferMessage(message_id=sent.message_id, transactions=tuple(read.transactions))
        return read.transactions[0]
    if isinstance(read, ReadStatusReports):
        assert not read.refused, f"the codec refused what the scheme wrote: {read.refused}"
        if isinstance(sent, StatusReportMessage):
            return StatusReportMessage(message_id=sent.message_id, reports=tuple(read.reports))
        return read.reports[0]
    return read
