"""Errors of the switch's own operations (admin, directory, status look-ups).

A rejected transfer is not an error: it is a status report with a reason. These are for calls that
cannot go on, each carrying the field it concerns and the rule broken; the HTTP layer maps them to
problem+json in one place.

    SwitchError
    ├── InputInvalid            a field breaks a rule (FF01, CH20, ...)
    ├── NotFound
    │   ├── ParticipantNotFound     (RC04)
    │   ├── AliasNotFound           (BE23)
    │   ├── TransferNotFound        (NOOR)
    │   └── DisbursementNotFound    a payroll batch this payer does not have (NOOR)
    ├── Conflict
    │   ├── ParticipantExists
    │   ├── LimitInUse              the cap cannot be lowered below what is in use (AM04)
    │   └── DisbursementDuplicate   a payroll file's message id used for other content (DUPL)
    └── Forbidden
        ├── ParticipantSuspended    (RR04)
        └── PayerOnly               only a Treasury participant submits or reads payrolls (RR04)
"""

from __future__ import annotations

from switch.scheme.codes import StatusReason


class SwitchError(Exception):
    reason: StatusReason = StatusReason.FF01

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class InputInvalid(SwitchError):
    def __init__(self, field: str, rule: str, reason: StatusReason = StatusReason.FF01) -> None:
        super().__init__(field, rule)
        self.reason = reason


class NotFound(SwitchError):
    pass


class ParticipantNotFound(NotFound):
    reason = StatusReason.RC04


class AliasNotFound(NotFound):
    reason = StatusReason.BE23


class TransferNotFound(NotFound):
    reason = StatusReason.NOOR


class Conflict(SwitchError):
    pass


class ParticipantExists(Conflict):
    reason = StatusReason.DUPL


class LimitInUse(Conflict):
    reason = StatusReason.AM04


class Forbidden(SwitchError):
    pass


class ParticipantSuspended(Forbidden):
    reason = StatusReason.RR04


class DisbursementNotFound(NotFound):
    reason = StatusReason.NOOR


class DisbursementDuplicate(Conflict):
    reason = StatusReason.DUPL


class PayerOnly(Forbidden):
    reason = StatusReason.RR04
