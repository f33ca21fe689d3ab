"""The kit's HTTP client: it plays the switch against a participant's inbound API.

Every body is signed as the switch signs it (`X-Switchyard-Signature: t=<unix s>,id=<call id>,v1=<HMAC-SHA256
of "t.id." and the exact body>`, gateway.signing), and travels on the participant's wire: JSON as the switch sends it
(gateway.dispatch), or ISO 20022 XML under a Business Application Header from NAPAS to the
participant (switch.scheme.wire). Every call is timed and kept in `calls`, for the timing check.

The client waits ANSWER_WAIT_S, twice the switch's 5 s, so a late answer still arrives: the checks
judge what it says, and the timing check that it was late.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from gateway.batches import BATCH_PATH, AnswerLine, parse_answer_line, write_batch
from gateway.signing import SIGNATURE_HEADER, sign
from switch.scheme.acmt import ACMT024_NAME
from switch.scheme.codes import WireFormat
from switch.scheme.messages import (
    CreditTransfer,
    CreditTransferMessage,
    StatusReport,
    StatusReportMessage,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.pacs002 import PACS002_NAME
from switch.scheme.pacs008 import SWITCH_MEMBER_ID
from switch.scheme.wire import XML_MEDIA_TYPE, WireMessage, read_wire, write_wire

ANSWER_WAIT_S = 10.0
CONNECT_WAIT_S = 3.0
ANSWER_BYTES_MAX = 4 * 1024 * 1024  # a pacs.002 answering a full pacs.008 fits with room to spare
PROBLEM_CHARS_MAX = 300  # of a body quoted in a check's why
TRANSFERS_PATH = "/v1/inbound/transfers"
REPORTS_PATH = "/v1/inbound/status-reports"
VERIFICATIONS_PATH = "/v1/inbound/verifications"
MEDIA_TYPES = {WireFormat.JSON: "application/json", WireFormat.ISO20022_XML: XML_MEDIA_TYPE}


@dataclass(frozen=True, slots=True)
class Call:
    """One call the kit made: what it was, where, its HTTP status (None: no answer) and its time."""

    what: str
    path: str
    status: int | None
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class Reply:
    """A participant's answer: its HTTP status (None when none came), what it said read as the
    answer expected (reports, a verification report or batch lines), or why it could not be read."""

    status: int | None
    answers: tuple[Any, ...]
    problem: str | None
    elapsed_s: float

    def describe(self) -> str:
        """The answer in a few words, for a check's why."""
        if self.status is None:
            return f"no answer ({self.problem})"
        if self.problem:
            return f"HTTP {self.status}: {self.problem}"
        return f"HTTP {self.status}"


def new_ids() -> tuple[str, str, str]:
    """Fresh message, end-to-end and transaction ids (33 characters; ISO allows 35): the kit can
    run again and again against the same participant."""
    base = uuid.uuid4().hex
    return f"M{base}", f"E{base}", f"T{base}"


class ParticipantClient:
    def __init__(
        self, base_url: str, bin_code: str, secret: str, wire: WireFormat, http: httpx.Client | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.bin = bin_code
        self.secret = secret
        self.wire = wire
        self.http = http or httpx.Client(timeout=httpx.Timeout(ANSWER_WAIT_S, connect=CONNECT_WAIT_S))
        # One creation time for the run: the same message encodes to the same bytes, as a switch's
        # retry does.
        self.created = datetime.now(UTC)
        self.calls: list[Call] = []

    def close(self) -> None:
        self.http.close()

    def credit(self, transfers: Sequence[CreditTransfer], what: str, secret: str | None = None) -> Reply:
        """A pacs.008 of these transactions (one, on the JSON wire), answered by a pacs.002."""
        if self.wire == WireFormat.JSON:
            assert len(transfers) == 1, "the JSON wire carries one transfer a call"
            body = transfers[0].model_dump_json().encode()
        else:
            message = CreditTransferMessage(message_id=transfers[0].message_id, transactions=tuple(transfers))
            body = self._xml(message)
        return self._post(TRANSFERS_PATH, body, what, self._read_reports, secret)

    def report(self, report: StatusReport, what: str) -> Reply:
        """The switch's final status of a transaction; a participant takes it with 204."""
        if self.wire == WireFormat.JSON:
            body = report.model_dump_json().encode()
        else:
            body = self._xml(StatusReportMessage(message_id=new_ids()[0], reports=(report,)))
        return self._post(REPORTS_PATH, body, what, None)

    def verify(self, request: VerificationRequest, what: str) -> Reply:
        """An acmt.023, answered by an acmt.024."""
        body = request.model_dump_json().encode() if self.wire == WireFormat.JSON else self._xml(request)
        return self._post(VERIFICATIONS_PATH, body, what, self._read_verification)

    def batch(self, messages: list[BaseModel], what: str) -> Reply:
        """The inbound batch call (JSON only, gateway.batches): its NDJSON answer lines."""

        def read(content: bytes, _content_type: str) -> tuple[AnswerLine, ...]:
            return tuple(parse_answer_line(line, messages) for line in content.splitlines() if line.strip())

        return self._post(BATCH_PATH, write_batch(messages), what, read, media_type="application/json")

    # --- the wire ---------------------------------------------------------------------------

    def _xml(self, message: WireMessage) -> bytes:
        return write_wire(message, SWITCH_MEMBER_ID, self.bin, self.created)

    def _read_reports(self, content: bytes, content_type: str) -> tuple[StatusReport, ...]:
        if self.wire == WireFormat.JSON:
            return (StatusReport.model_validate_json(content),)
        message = self._read_xml(content, content_type, PACS002_NAME)
        if message.refused:
            refused = "; ".join(f"{p.field}: {p.rule}" for r in message.refused for p in r.problems)
            raise ValueError(f"the pacs.002 has reports that cannot be read: {refused}")
        return tuple(message.reports)

    def _read_verification(self, content: bytes, content_type: str) -> tuple[VerificationReport, ...]:
        if self.wire == WireFormat.JSON:
            return (VerificationReport.model_validate_json(content),)
        message = self._read_xml(content, content_type, ACMT024_NAME)
        assert isinstance(message, VerificationReport), type(message)
        return (message,)

    def _read_xml(self, content: bytes, content_type: str, definition: str) -> Any:
        """The Document of an XML answer, read and validated by the scheme (switch.scheme.wire), from
        the participant to NAPAS. An answer in another kind (JSON to an XML call) is no answer here."""
        if not content_type.startswith(XML_MEDIA_TYPE):
            raise ValueError(f"answered {content_type or 'no Content-Type'} to an {XML_MEDIA_TYPE} call")
        read = read_wire(content)
        header = read.header
        if header.message_definition != definition:
            raise ValueError(f"AppHdr/MsgDefIdr is {header.message_definition}, expected {definition}")
        if (header.sender, header.receiver) != (self.bin, SWITCH_MEMBER_ID):
            expected = f"from {self.bin} to {SWITCH_MEMBER_ID}"
            raise ValueError(f"AppHdr Fr/To are {header.sender}/{header.receiver}, expected {expected}")
        return read.message

    # --- HTTP -------------------------------------------------------------------------------

    def _post(
        self, path: str, body: bytes, what: str, read: Any, secret: str | None = None, media_type: str | None = None
    ) -> Reply:
        headers = {
            "Content-Type": media_type or MEDIA_TYPES[self.wire],
            SIGNATURE_HEADER: sign(self.secret if secret is None else secret, body),
        }
        started = time.perf_counter()
        try:
            status, content, content_type = self._exchange(path, body, headers)
        except httpx.HTTPError as error:
            elapsed_s = time.perf_counter() - started
            self.calls.append(Call(what, path, None, elapsed_s))
            return Reply(None, (), f"{type(error).__name__}: {error}", elapsed_s)
        elapsed_s = time.perf_counter() - started
        self.calls.append(Call(what, path, status, elapsed_s))
        if status != 200 or read is None:
            return Reply(status, (), _problem_text(status, content), elapsed_s)
        try:
            return Reply(status, read(content, content_type), None, elapsed_s)
        except (ValueError, ValidationError) as error:  # MessageInvalid and ValidationError are ValueErrors
            return Reply(status, (), f"the answer cannot be read: {_short(str(error))}", elapsed_s)

    def _exchange(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
        """POST and read the answer, at most ANSWER_BYTES_MAX of it."""
        with self.http.stream("POST", self.base_url + path, content=body, headers=headers) as response:
            content = b""
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > ANSWER_BYTES_MAX:
                    raise httpx.DecodingError(f"answer larger than {ANSWER_BYTES_MAX} bytes")
            return response.status_code, content, response.headers.get("content-type", "")


def _problem_text(status: int, content: bytes) -> str | None:
    """What an unexpected status said: a problem+json's detail and errors, else the body's start."""
    if status in (200, 204) or not content:
        return None
    try:
        problem = json.loads(content)
    except ValueError:
        return _short(content.decode(errors="replace"))
    if isinstance(problem, dict):
        parts = [str(problem.get("title") or ""), str(problem.get("detail") or "")]
        return _short(": ".join(part for part in parts if part)) or _short(str(problem))
    return _short(str(problem))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PROBLEM_CHARS_MAX else text[: PROBLEM_CHARS_MAX - 1] + "…"
