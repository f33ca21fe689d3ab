"""A bare FastAPI endpoint: what one uvicorn process on this machine serves when the handler does
nothing. `switchyard loadtest` measures it in the same run as the switch, as the ceiling."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI(title="Bare FastAPI ceiling")

    @app.post("/v1/transfers")
    def echo(body: dict[str, Any]) -> dict[str, Any]:
        return {"original_transaction_id": body.get("transaction_id"), "transaction_status": "ACSC"}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
