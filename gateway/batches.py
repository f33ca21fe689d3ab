"""The inbound batch: many messages from the switch to one participant in one signed call, their
answers streamed back one line each as soon as each is ready.

    POST {base_url}/v1/inbound/batches
    {"messages": [{"type": "pacs.008", "message": {...}}, {"type": "pacs.002", "message": {...}}, ...]}

    200 application/x-ndjson, one line per message, in the order the answers come:
    {"index": 0, "status": 200, "answer": {...}}       pacs.008 -> pacs.002, acmt.023 -> acmt.024
    {"index": 1, "status": 204}                        pacs.002 (the final status) taken
    {"index": 2, "status": 400, "problem": {...}}      this message breaks the format; nothing done
    {"index": 3, "status": 504}                        no answer in time

Why: under load a call per message costs the switch and the participant more than the messages
themselves: the HTTP client would be most of the networked sandbox's work. A batch carries what
one switch batch decided for one participant. Answers stream because each message keeps its own
timing: one credit the bank answers 8 s late must not hold the batch's other answers back.

A participant says at registration that it serves this (`inbound_batches`); one that does not gets
a call per message. Parse, validate and write live here; the HTTP ends use them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeGuard

from pydantic import BaseModel

from switch.scheme.codes import StatusReason
from switch.scheme.messages import (
    CreditTransfer,
    StatusReport,
    StatusRequest,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.validation import FieldProblem, MessageInvalid, parse_message

BATCH_PATH = "/v1/inbound/batches"
MESSAGES_PER_BATCH_MAX = 1_000
BATCH_BYTES_MAX = 4 * 1024 * 1024  # a pacs.008 is under 1 KiB: a full batch fits with room to spare
NDJSON_MEDIA_TYPE = "application/x-ndjson"

TYPES: dict[str, type[BaseModel]] = {
    "pacs.008": CreditTransfer,
    "pacs.002": StatusReport,
    "acmt.023": VerificationRequest,
}
TYPE_OF: dict[type[BaseModel], str] = {model: name for name, model in TYPES.items()}
# What answers what, in a batch's lines and in a call of its own (gateway.dispatch).
ANSWERS: dict[type[BaseModel], type[BaseModel]] = {
    CreditTransfer: StatusReport,
    VerificationRequest: VerificationReport,
    StatusRequest: StatusReport,
}


class BatchInvalid(ValueError):
    """The batch as a whole cannot be read (not JSON, no list, too many messages): nothing is done."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field, self.rule = field, rule


@dataclass(frozen=True, slots=True)
class Item:
    """One message of a batch: the message, or why it cannot be read."""

    index: int
    message: BaseModel | None
    problems: tuple[FieldProblem, ...] = ()


def write_batch(messages: list[BaseModel]) -> bytes:
    """The body of a batch call. Each message is dumped by pydantic once, and the list joined."""
    if not 0 < len(messages) <= MESSAGES_PER_BATCH_MAX:
        raise ValueError(f"messages: a batch holds 1 to {MESSAGES_PER_BATCH_MAX}, not {len(messages)}")
    parts = [
        b'{"type":"' + TYPE_OF[type(m)].encode() + b'","message":' + m.model_dump_json().encode() + b"}"
        for m in messages
    ]
    return b'{"messages":[' + b",".join(parts) + b"]}"


def parse_batch(body: bytes) -> list[Item]:
    """Every message of a batch, each parsed on its own: one bad message does not spoil the rest."""
    if len(body) > BATCH_BYTES_MAX:
        raise BatchInvalid("(body)", f"at most {BATCH_BYTES_MAX} bytes")
    try:
        document = json.loads(body)
    except ValueError as error:
        raise BatchInvalid("(body)", f"must be JSON ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("messages"), list):
        raise BatchInvalid("messages", "must be a list of {type, message}")
    raw_items = document["messages"]
    if not 0 < len(raw_items) <= MESSAGES_PER_BATCH_MAX:
        raise BatchInvalid("messages", f"must hold 1 to {MESSAGES_PER_BATCH_MAX} messages, not {len(raw_items)}")
    return [_parse_item(index, raw) for index, raw in enumerate(raw_items)]


def _parse_item(index: int, raw: Any) -> Item:
    model = TYPES.get(str(raw.get("type"))) if isinstance(raw, dict) else None
    if model is None:
        rule = f"must be one of {sorted(TYPES)}"
        return Item(index, None, (FieldProblem(f"messages.{index}.type", rule, StatusReason.FF01),))
    try:
        return Item(index, parse_message(model, raw.get("message")))
    except MessageInvalid as error:
        return Item(index, None, tuple(FieldProblem(_path(index, p.field), p.rule, p.reason) for p in error.problems))


def _path(index: int, field: str) -> str:
    """Where in the batch a message's problem is: the message itself when the whole of it is wrong."""
    where = f"messages.{index}.message"
    return where if field == WHOLE_MESSAGE else f"{where}.{field}"


WHOLE_MESSAGE = "(message)"  # what parse_message names when the message is no object at all


def answer_line(
    index: int, status: int, answer: BaseModel | None = None, problem: dict[str, Any] | None = None
) -> bytes:
    line: dict[str, Any] = {"index": index, "status": status}
    if problem is not None:
        line["problem"] = problem
    if answer is None:
        return json.dumps(line, separators=(",", ":")).encode() + b"\n"
    head = json.dumps(line, separators=(",", ":")).encode()[:-1]  # the answer is dumped by pydantic, once
    return head + b',"answer":' + answer.model_dump_json().encode() + b"}\n"


def _is_number(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is no index


@dataclass(frozen=True, slots=True)
class AnswerLine:
    index: int
    status: int
    answer: BaseModel | None


def parse_answer_line(line: bytes, sent: list[BaseModel]) -> AnswerLine:
    """One line of a batch's answers, its answer read as the answer to the message at its index.
    Anything else raises ValueError (pydantic's ValidationError is one)."""
    document = json.loads(line)
    if not isinstance(document, dict):
        raise ValueError(f"answer line: must be an object: {line[:200]!r}")
    index, status = document.get("index"), document.get("status")
    if not _is_number(index) or not 0 <= index < len(sent) or not _is_number(status):
        raise ValueError(f"answer line: index must be 0 to {len(sent) - 1} and status a number: {line[:200]!r}")
    answer_type = ANSWERS.get(type(sent[index]))
    if status != 200 or answer_type is None:
        return AnswerLine(index, status, None)
    return AnswerLine(index, status, answer_type.model_validate(document["answer"]))
