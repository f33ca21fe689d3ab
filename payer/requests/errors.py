"""Refusals of payment-request actions. A refused action changes nothing.

Each carries the field it concerns and the rule broken; the HTTP layer maps the four kinds
(input, not found, conflict, forbidden) to problem+json in one place, as it does the switch's.

    RequestError
    ├── InputInvalid            a field breaks a rule (an empty list, a line twice, a digest that is not the list's)
    ├── NotFound
    │   └── RequestNotFound
    ├── Conflict
    │   ├── RequestExists           the request id was filed with other content
    │   ├── AlreadyApproved         an approved request changes no more (a second approval too)
    │   ├── NotFiled                only a filed version is checked, returned or approved
    │   ├── NotReturned             only a returned request is corrected and filed again
    │   ├── NotApproved             nothing is paid before approval
    │   ├── ReviewNotApproving      an approval needs a review of this version without findings
    │   ├── VersionsExhausted       a request is corrected a limited number of times
    │   └── DecidedMeanwhile        another officer returned or approved the version first
    └── Forbidden
        ├── RoleRefused             the officer's role does not do this
        └── MakerCannotCheck        whoever prepared or filed a request never checks it (maker–checker)
"""

from __future__ import annotations


class RequestError(Exception):
    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class InputInvalid(RequestError):
    pass


class NotFound(RequestError):
    pass


class RequestNotFound(NotFound):
    pass


class Conflict(RequestError):
    pass


class RequestExists(Conflict):
    pass


class AlreadyApproved(Conflict):
    pass


class NotFiled(Conflict):
    pass


class NotReturned(Conflict):
    pass


class NotApproved(Conflict):
    pass


class ReviewNotApproving(Conflict):
    pass


class VersionsExhausted(Conflict):
    pass


class DecidedMeanwhile(Conflict):
    pass


class Forbidden(RequestError):
    pass


class RoleRefused(Forbidden):
    pass


class MakerCannotCheck(Forbidden):
    pass
