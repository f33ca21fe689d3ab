"""The switch as a uvicorn worker process: `serve --workers N` runs N of these on one PostgreSQL.

uvicorn starts workers from an import string, so the configuration comes from the environment:

    SWITCHYARD_DATABASE        postgresql://...
    SWITCHYARD_SCHEMA_PREFIX   the schema prefix the nodes were created under
    SWITCHYARD_ADMIN_KEY       the admin API key
    SWITCHYARD_CITIZEN_KEY     the citizen app's key

Each worker has its own runtime, timers and HTTP client. A transfer stays in the worker that took
it: the creditor's answer is the response to that worker's call, so its timer and its waiting
request are there too. Workers meet only in the database: row locks on the ledger's position
accounts decide a race for the last of a cap, and a unique key decides a race for one transfer id.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from fastapi import FastAPI

from gateway.observe import configure_json_logging
from gateway.switch_app import connect, create_switch_app, networked_switch_api
from network import collector, nodes, processes
from network.participants import sample_population
from network.storage import Storage

CONNECTIONS_MAX = 200


def create_app() -> FastAPI:
    configure_json_logging()
    collector.tune_for_throughput()
    processes.die_with_parent()  # a worker whose uvicorn master is killed outright ends too
    storage = Storage(url=os.environ["SWITCHYARD_DATABASE"], schema_prefix=os.environ["SWITCHYARD_SCHEMA_PREFIX"])
    # serve set the database up before it started the workers.
    switch = nodes.build_switch(storage, identities=sample_population(), set_up=False)
    api = networked_switch_api(switch, os.environ["SWITCHYARD_ADMIN_KEY"], os.environ.get("SWITCHYARD_CITIZEN_KEY"))
    app = create_switch_app(api)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS_MAX)) as client:
            connect(api, client)
            assert api.runtime is not None
            await api.runtime.start()
            yield
            await api.runtime.stop()

    app.router.lifespan_context = lifespan
    return app
