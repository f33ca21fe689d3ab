"""Refusals of the post office's operations. A refused operation changes nothing: no row, no
ledger transfer.

Each carries the field it concerns and the rule broken; an HTTP layer maps the three kinds
(input, not found, conflict) to problem+json in one place, as it does the payer's.

    PostOfficeError
    ├── InputInvalid
    │   ├── CashListInvalid         a line twice, an amount over the limit, totals that do not add up
    │   ├── FundingAmountWrong      the Treasury funds a list for exactly its total, never another amount
    │   ├── IdentityMismatch        the id presented is not the beneficiary's on the list
    │   ├── RepresentativeInvalid   a representative who is the beneficiary, or has no authorisation
    │   └── ReturnAmountWrong       a return larger than the money held, or other than what nobody claimed
    ├── NotFound
    │   ├── CashListNotFound
    │   └── NotOnCashList           a payout for someone not on the commune's cash list
    └── Conflict
        ├── CashListExists          the list was received before with other lines
        ├── AlreadyFunded           a second funding (another reference) for a funded list
        ├── NotFunded               nothing is paid before the Treasury's money is in hand
        ├── AlreadyPaid             a person is paid once
        ├── DeadlinePassed          nobody is paid after the collection deadline
        ├── CollectionOpen          a list is closed only once its deadline has passed
        ├── AlreadyClosed
        ├── NotClosed               unclaimed money is returned only after the list is closed
        └── AlreadyReturned
"""

from __future__ import annotations


class PostOfficeError(Exception):
    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class InputInvalid(PostOfficeError):
    pass


class CashListInvalid(InputInvalid):
    pass


class FundingAmountWrong(InputInvalid):
    pass


class IdentityMismatch(InputInvalid):
    pass


class RepresentativeInvalid(InputInvalid):
    pass


class ReturnAmountWrong(InputInvalid):
    pass


class NotFound(PostOfficeError):
    pass


class CashListNotFound(NotFound):
    pass


class NotOnCashList(NotFound):
    pass


class Conflict(PostOfficeError):
    pass


class CashListExists(Conflict):
    pass


class AlreadyFunded(Conflict):
    pass


class NotFunded(Conflict):
    pass


class AlreadyPaid(Conflict):
    pass


class DeadlinePassed(Conflict):
    pass


class CollectionOpen(Conflict):
    pass


class AlreadyClosed(Conflict):
    pass


class NotClosed(Conflict):
    pass


class AlreadyReturned(Conflict):
    pass
