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
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from gateway import problems
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


def payer_router(api: Any) -> APIRouter:
    """`api` is the switch app's SwitchApi (node, runtime, clock)."""

    def payer(authorization: Annotated[str | None, Header()] = None) -> str:
        found = api.caller(authorization)
        participant = api.participant(found)
        if participant is None or participant.kind != ParticipantKind.TREASURY:
            kind = participant.kind.value if participant is not None else "unknown"
            raise PayerOnly("debtor_agent", f"{found} is a {kind}: only a Treasury participant pays payrolls")
        return str(found)

    router = APIRouter()

    @router.post("", status_code=201, responses={200: {"description": "the same file again: its disbursement"}})
    async def submit(
        request: Request,
        message_id: Annotated[str | None, Query(max_length=35)] = None,
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

    @router.get("")
    def disbursements(bin_code: str = Depends(payer)) -> list[dict[str, Any]]:
        return [_disbursement_out(b) for b in api.node.disbursements(bin_code)]

    @router.get("/{disbursement_id}")
    def summary(disbursement_id: DisbursementId, bin_code: str = Depends(payer)) -> DisbursementSummary:
        return api.node.disbursement_summary(bin_code, disbursement_id)

    @router.get("/{disbursement_id}/items")
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

    @router.get("/{disbursement_id}/row-errors")
    def row_errors(disbursement_id: DisbursementId, bin_code: str = Depends(payer)) -> list[dict[str, Any]]:
        errors = api.node.disbursement_row_errors(bin_code, disbursement_id)
        return [_row_error(e) for e in errors]

    def export(kind: str, media_type: str) -> Any:
        def read(disbursement_id: DisbursementId, bin_code: str = Depends(payer)) -> Response:
            data = api.node.disbursement_export(bin_code, disbursement_id, kind, api.clock_ms())
            return Response(data, media_type=media_type)

        return read

    router.add_api_route("/{disbursement_id}/items.csv", export("items", "text/csv"), methods=["GET"])
    router.add_api_route("/{disbursement_id}/report", export("pain.002", "application/xml"), methods=["GET"])
    router.add_api_route("/{disbursement_id}/cash-list", export("cash-list", "text/csv"), methods=["GET"])
    return router


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
    return {
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


def _row_error(error: Any) -> dict[str, Any]:
    return {
        "row": error.row,
        "field": error.field,
        "rule": error.rule,
        "reason": error.reason.value,
        "end_to_end_id": error.end_to_end_id,
    }
