"""Errors of the audit trail. A broken chain is a verify result, not an error.

AuditError
├── AuditEventInvalid     a step's event breaks a rule (names the field); nothing was appended
├── AppendBatchTooLarge   more events than one append takes; nothing was appended
├── ExpectedHeadInvalid   an expected head that is not SEQ:HASH
└── AuditLogMissing       no audit trail there: no such file or schema, or no audit table
"""

from __future__ import annotations


class AuditError(Exception):
    """Base of every audit-trail error."""


class AuditEventInvalid(AuditError):
    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class AppendBatchTooLarge(AuditError):
    def __init__(self, size: int, size_max: int) -> None:
        super().__init__(f"events: {size} in one append is over the limit of {size_max}")
        self.size = size
        self.size_max = size_max


class ExpectedHeadInvalid(AuditError):
    def __init__(self, text: str, rule: str) -> None:
        super().__init__(f"expected head {text!r}: {rule}")
        self.text = text
        self.rule = rule


class AuditLogMissing(AuditError):
    def __init__(self, where: str, problem: str = "no audit trail here (no table payer_audit_entry)") -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem
