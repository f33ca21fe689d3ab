"""The payer API on the switch: disbursements in (JSON, CSV, pain.001), their summary, items,
row errors, pain.002 report and cash list out. The key is a Treasury participant's.

POST /v1/disbursements                 the file as the body; Content-Type picks the parser:
                                       application/json, text/csv (?message_id=...),
                                       application/xml (pain.001.001.09); 201 a new disbursement
                                       (also a corrected file under the message id of one refused
                                       whole: that one is then `superseded_by` it), 200 the same file again
GET  /v1/disbursements                 the payer's disbursements
GET  /v1/disbursements/{id}            the summary, with progress_percent while it runs
GET  /v1/disbursements/{id}/items      a page of items (?after=<row>&limit=&status=)
GET  /v1/disbursements/{id}/items.csv  every item as CSV
GET  /v1/disbursements/{id}/row-errors rows refused at intake, with field, rule and reason
GET  /v1/disbursements/{id}/report     pain.002.001.12
GET  /v1/disbursements/{id}/cash-list  the post offices' list, CSV
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from gateway import problems
from gateway.schemas import (
    ID_LENGTH_MAX,
    DisbursementAccepted,
    DisbursementFileIn,
    DisbursementOut,
    ItemsPage,
    RowErrorOut,
)
from switch.disbursements.reports import item_fields
from switch.disbursements.schemas import DisbursementRecord
from switch.errors import PayerOnly
from switch.scheme.codes import ItemStatus, ParticipantKind
from switch.scheme.disbursement import FILE_BYTES_MAX, read_upload
from switch.scheme.summary import DisbursementSummary

ITEMS_PAGE_MAX = 1_000
DisbursementId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ROW_ERRORS_SHOWN_MAX = 1_000
DISBURSEMENTS_PATH = "/v1/disbursements"
PAYER_KEY = problems.Bearer("payerKey", "a Treasury participant's API key")
CSV_MEDIA_TYPE = "text/csv"
TEXT_DOCUMENT = {"schema": {"type": "string"}}
# What the payer reads of one disbursement: refused as another's or unknown alike (404).
READ_ANSWERS = problems.answers(403, 404)
SUBMITTED_ANSWERS: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "a new disbursement (or a corrected file under the message id of one refused whole)",
        "model": DisbursementAccepted,
        "headers": {"Location": {"description": "the disbursement's summary", "schema": {"type": "string"}}},
    },
    200: {
        "description": "the same file again: its disbursement",
        "model": DisbursementAccepted,
        "headers": {"Location": {"description": "the disbursement's summary", "schema": {"type": "string"}}},
    },
    **problems.answers(400, 403, 409),
}
# The file as the body, its format named by Content-Type.
FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{DisbursementFileIn.__name__}"}},
            CSV_MEDIA_TYPE: {
                "schema": {"type": "string", "description": "end_to_end_id,citizen_id,name,amount_vnd,program,cycle"}
            },
            "application/xml": {"schema": {"type": "string", "description": "pain.001.001.09"}},
        },
    }
}


def payer_router(api: Any) -> APIRouter:
    """`api` is the switch app's SwitchApi (node, runtime, clock)."""

    def payer(authorization: Annotated[str | None, Depends(PAYER_KEY)]) -> str:
        found = api.caller(authorization)
        participant = api.participant(found)
        if participant is None or participant.kind != ParticipantKind.TREASURY:
            kind = participant.kind.value if participant is not None else "unknown"
            raise PayerOnly("debtor_agent", f"{found} is a {kind}: only a Treasury participant pays payrolls")
        return str(found)

    router = APIRouter()

    @router.post("", status_code=201, responses=SUBMITTED_ANSWERS, openapi_extra=FILE_BODY)
    async def submit(
        request: Request,
        message_id: Annotated[str | None, Query(min_length=1, max_length=ID_LENGTH_MAX)] = None,
        bin_code: str = Depends(payer),
    ) -> Any:
        body = await _body(request)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        file = read_upload(content_type, body, message_id)
        # 200 for a file sent again (it answers the disbursement it made), 201 for a new one: one indexed
        # read, not a list of every disbursement the payer ever sent.
        known = await asyncio.to_thread(api.node.disbursement_for_message, bin_code, file.message_id)
        disbursement, out = await asyncio.to_thread(api.node.submit_disbursement, bin_code, file, api.clock_ms())
        if api.runtime is not None:
            api.runtime.emit(out)
        errors = api.node.disbursement_row_errors(bin_code, disbursement.id)
        status = 200 if known is not None and known.id == disbursement.id else 201
        return JSONResponse(
            _accepted(disbursement, errors), status_code=status, headers={"Location": _location(disbursement)}
        )

    _reads(router, api, payer)
    return router


def _reads(router: APIRouter, api: Any, payer: Callable[..., str]) -> None:
    """What a payer reads of its own disbursements: list, summary, items, row errors and the files."""

    @router.get("", response_model=list[DisbursementOut], responses=problems.answers(403))
    def disbursements(bin_code: str = Depends(payer)) -> list[dict[str, Any]]:
        return [_disbursement_out(b) for b in api.node.disbursements(bin_code)]

    @router.get("/{disbursement_id}", responses=READ_ANSWERS)
    def summary(disbursement_id: DisbursementId, bin_code: str = Depends(payer)) -> DisbursementSummary:
        return api.node.disbursement_summary(bin_code, disbursement_id)

    @router.get("/{disbursement_id}/items", response_model=ItemsPage, responses=READ_ANSWERS)
    def items(
        disbursement_id: DisbursementId,
        after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
        limit: Annotated[int, Query(ge=1, le=ITEMS_PAGE_MAX)] = 100,
        status: ItemStatus | None = None,
        bin_code: str = Depends(payer),
    ) -> dict[str, Any]:
        page = api.node.disbursement_items(bin_code, disbursement_id, after, limit, status)
        next_after = page[-1].seq if len(page) == limit else None
        return {"items": [item_fields(i) for i in page], "next_after": next_after}

    @router.get("/{disbursement_id}/row-errors", response_model=list[RowErrorOut], responses=READ_ANSWERS)
    def row_errors(disbursement_id: DisbursementId, bin_code: str = Depends(payer)) -> list[dict[str, Any]]:
        errors = api.node.disbursement_row_errors(bin_code, disbursement_id)
        return [_row_error(e) for e in errors]

    def export(kind: str, media_type: str) -> Any:
        def read(disbursement_id: DisbursementId, bin_code: str = Depends(payer)) -> Response:
            data = api.node.disbursement_export(bin_code, disbursement_id, kind, api.clock_ms())
            return Response(data, media_type=media_type)

        return read

    for path, kind, media_type in (
        ("/{disbursement_id}/items.csv", "items", CSV_MEDIA_TYPE),
        ("/{disbursement_id}/report", "pain.002", "application/xml"),
        ("/{disbursement_id}/cash-list", "cash-list", CSV_MEDIA_TYPE),
    ):
        read = export(kind, media_type)
        documented = {200: {"description": kind, "content": {media_type: TEXT_DOCUMENT}}, **READ_ANSWERS}
        router.add_api_route(path, read, methods=["GET"], response_class=Response, responses=documented)


async def _body(request: Request) -> bytes:
    """Read at most FILE_BYTES_MAX: a larger file is refused, whatever Content-Length said."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > FILE_BYTES_MAX:
            raise problems.ApiProblem(
                413, "too-large", "File too large", f"at most {FILE_BYTES_MAX} bytes", "(body)",
                f"at most {FILE_BYTES_MAX} bytes",
            )  # fmt: skip
        chunks.append(chunk)
    return b"".join(chunks)


def _location(disbursement: DisbursementRecord) -> str:
    return f"{DISBURSEMENTS_PATH}/{disbursement.id}"


def _disbursement_out(disbursement: DisbursementRecord) -> dict[str, Any]:
    out = dataclasses.asdict(disbursement)
    out["status"] = disbursement.status.value
    out["reason"] = disbursement.reason.value if disbursement.reason else None
    out.pop("digest")
    return out


def _accepted(disbursement: DisbursementRecord, errors: list[Any]) -> dict[str, Any]:
    return DisbursementAccepted.model_validate(
        {
            **_disbursement_out(disbursement),
            "row_errors": [_row_error(e) for e in errors[:ROW_ERRORS_SHOWN_MAX]],
            "row_errors_total": len(errors),
            "links": {
                "summary": _location(disbursement),
                "items": f"{_location(disbursement)}/items",
                "report": f"{_location(disbursement)}/report",
                "cash_list": f"{_location(disbursement)}/cash-list",
            },
        }
    ).model_dump(mode="json")


def _row_error(error: Any) -> dict[str, Any]:
    return {
        "row": error.row,
        "field": error.field,
        "rule": error.rule,
        "reason": error.reason.value,
        "end_to_end_id": error.end_to_end_id,
    }
