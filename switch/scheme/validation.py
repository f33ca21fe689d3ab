"""Turning raw input into scheme messages, with errors that name the field, the rule and the code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from switch.scheme.codes import StatusReason

M = TypeVar("M", bound=BaseModel)


@dataclass(slots=True, frozen=True)
class FieldProblem:
    field: str
    rule: str
    reason: StatusReason


class MessageInvalid(ValueError):
    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.rule} ({p.reason})" for p in problems))
        self.problems = problems

    @property
    def reason(self) -> StatusReason:
        """CH20 wins when the only trouble is decimals; any other fault is a format fault, FF01."""
        reasons = {p.reason for p in self.problems}
        return StatusReason.CH20 if reasons == {StatusReason.CH20} else StatusReason.FF01


def parse_message(model: type[M], raw: Any) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise MessageInvalid(problems_of(error)) from None


def problems_of(error: ValidationError) -> list[FieldProblem]:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(message)"
        reason = StatusReason.CH20 if item["type"] == "decimals_not_allowed" else StatusReason.FF01
        problems.append(FieldProblem(field=field, rule=item["msg"], reason=reason))
    return problems
