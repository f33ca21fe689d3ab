"""`switchyard serve`: the switch and the default network's banks and wallets, each on its own port.

Every node is its own FastAPI app with its own runtime and database; every message between the
switch and a participant crosses real HTTP on loopback. The switch listens on --port, the
participants on the ports after it, in the order of the default network. Credentials are printed
and written to <out>/credentials.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from banks.node import ParticipantNode
from banks.schemas import Customer
from gateway.dispatch import HttpDispatcher, Peer
from gateway.node_app import NodeApi, create_node_app
from gateway.observe import configure_json_logging
from gateway.runtime import NodeRuntime, wall_clock_ms
from gateway.switch_app import connect, create_switch_app, networked_switch_api
from payer.registry import Person, PopulationRegistry, generate_population
from scenarios.sandbox import DEFAULT_PARTICIPANTS, DEFAULT_START, TREASURY, ParticipantSpec, sample_account
from scenarios.storage import Storage
from switch.errors import ParticipantExists
from switch.node import SwitchNode
from switch.participants.schemas import Participant
from switch.scheme.codes import ParticipantKind
from switch.scheme.names import normalize_name
from wallets.node import WalletNode

log = logging.getLogger("switchyard.serve")

CUSTOMERS_PER_PARTICIPANT = 50
OPENING_VND = 50_000_000


@dataclass(slots=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    database: str | None = None
    out: Path = Path("out/serve")
    admin_key: str | None = None
    workers: int = 1
    schema_prefix: str = "switchyard"  # PostgreSQL: each node's schema is <prefix>_<node>


async def serve(config: ServeConfig, ready: asyncio.Event | None = None) -> None:
    configure_json_logging()
    storage = Storage.from_option(config.database, config.out / "db")
    if storage.url is not None:
        storage = Storage(url=storage.url, schema_prefix=config.schema_prefix)
    if config.workers > 1 and storage.url is None:
        raise ValueError("workers: several switch workers need PostgreSQL (--database postgresql://...)")
    registry = serve_registry()
    switch = SwitchNode(storage.engine_for("switch"), identities=registry)
    switch.setup()
    admin_key = config.admin_key or secrets.token_urlsafe(24)
    citizen_key = secrets.token_urlsafe(24)
    urls = {spec.bin: f"http://{config.host}:{config.port + 1 + n}" for n, spec in enumerate(DEFAULT_PARTICIPANTS)}
    switch_url = f"http://{config.host}:{config.port}"
    credentials = {spec.bin: _register(switch, spec, urls[spec.bin]) for spec in DEFAULT_PARTICIPANTS}
    payer_key, _secret = _register(switch, SERVE_TREASURY, None)
    _write_population(config, registry)

    async with contextlib.AsyncExitStack() as clients:
        client = await clients.enter_async_context(_client())
        servers = []
        workers: subprocess.Popen[bytes] | None = None
        if config.workers == 1:
            api = networked_switch_api(switch, admin_key, citizen_key)
            connect(api, client)
            assert api.runtime is not None
            await api.runtime.start()
            servers.append(_server(create_switch_app(api), config.host, config.port))
        else:
            switch.engine.dispose()
            workers = _start_switch_workers(config, storage, admin_key, citizen_key)
        samples: dict[str, list[Customer]] = {}
        people = registry.people()
        for n, spec in enumerate(DEFAULT_PARTICIPANTS):
            node = _participant_node(spec, storage)
            holders = people[n * CUSTOMERS_PER_PARTICIPANT : (n + 1) * CUSTOMERS_PER_PARTICIPANT]
            samples[spec.bin] = _open_sample_accounts(node, spec, holders, wall_clock_ms())
            key, secret = credentials[spec.bin]
            runtime = NodeRuntime(node)
            to_switch = _fixed_peer(Peer(switch_url, api_key=key))
            node_client = await clients.enter_async_context(_client())
            runtime.dispatcher = HttpDispatcher(spec.bin, to_switch, runtime.deliver, node_client)
            await runtime.start()
            servers.append(
                _server(create_node_app(NodeApi(node, runtime, secret, admin_key)), config.host, config.port + 1 + n)
            )
        tasks = [asyncio.create_task(server.serve()) for server in servers]
        try:
            while not all(server.started for server in servers):
                await asyncio.sleep(0.05)
            await _wait_healthy(client, switch_url)
            _write_credentials(config, admin_key, citizen_key, switch_url, urls, credentials, samples, payer_key)
            if ready is not None:
                ready.set()
            await asyncio.gather(*tasks)
        finally:
            if workers is not None:
                workers.terminate()
                workers.wait(timeout=15)


def _start_switch_workers(config: ServeConfig, storage: Storage, admin_key: str, citizen_key: str) -> Any:
    """N uvicorn worker processes of the switch on one PostgreSQL (gateway.switch_process)."""
    if storage.url is None:
        raise ValueError("workers: several switch workers need PostgreSQL (--database postgresql://...)")
    environment = {
        **os.environ,
        "SWITCHYARD_DATABASE": storage.url,
        "SWITCHYARD_SCHEMA_PREFIX": storage.schema_prefix,
        "SWITCHYARD_ADMIN_KEY": admin_key,
        "SWITCHYARD_CITIZEN_KEY": citizen_key,
    }
    command = [
        sys.executable, "-m", "uvicorn", "gateway.switch_process:create_app", "--factory",
        "--host", config.host, "--port", str(config.port), "--workers", str(config.workers), "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, env=environment)


def _client() -> httpx.AsyncClient:
    """One keep-alive pool per node: httpcore scans its whole pool on every request, so one pool of
    200 connections shared by nine nodes spent a quarter of the server's time looking for an idle one."""
    return httpx.AsyncClient(limits=httpx.Limits(max_connections=CONNECTIONS_PER_NODE_MAX))


async def _wait_healthy(client: httpx.AsyncClient, url: str, timeout_s: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        try:
            if (await client.get(url + "/health", timeout=1.0)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the switch at {url} did not become healthy in {timeout_s:.0f} s")


def serve_registry() -> PopulationRegistry:
    """The population the served switch checks payroll items against: the same for every worker
    (a fixed seed), and written to population.csv for a payer to build its files from."""
    return PopulationRegistry(generate_population(SERVE_POPULATION, SERVE_POPULATION_SEED, DEFAULT_START.date()))


def _write_population(config: ServeConfig, registry: PopulationRegistry) -> None:
    config.out.mkdir(parents=True, exist_ok=True)
    with (config.out / "population.csv").open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("citizen_id", "name", "birth_date", "province_code", "alive"))
        for person in registry.people():
            alive = registry.alive(person.citizen_id)
            writer.writerow(
                (person.citizen_id, person.name, person.birth_date.isoformat(), person.province_code, alive)
            )


def _register(switch: SwitchNode, spec: ParticipantSpec, base_url: str | None) -> tuple[str, str]:
    now_ms = wall_clock_ms()
    participant = Participant(
        spec.bin, spec.name, spec.kind, net_debit_cap_vnd=spec.net_debit_cap_vnd, base_url=base_url
    )
    try:
        switch.register_participant(participant, now_ms)
        if spec.prefund_vnd:
            switch.fund_in(spec.bin, spec.prefund_vnd, now_ms)
    except ParticipantExists:
        pass  # a restart on the same database: the participant and its money are there already
    credentials = switch.issue_credentials(spec.bin, now_ms)
    return credentials.api_key, credentials.signing_secret


def _fixed_peer(peer: Peer) -> Callable[[str], Peer | None]:
    """A participant talks to the switch only."""

    def lookup(_address: str) -> Peer | None:
        return peer

    return lookup


def _participant_node(spec: ParticipantSpec, storage: Storage) -> ParticipantNode:
    engine = storage.engine_for(f"{spec.kind.value}_{spec.bin}")
    node_class = WalletNode if spec.kind == ParticipantKind.WALLET else ParticipantNode
    node = node_class(spec.bin, spec.name, engine, spec.behaviour, spec.limits)
    node.setup()
    return node


def _open_sample_accounts(
    node: ParticipantNode, spec: ParticipantSpec, holders: list[Person], now_ms: int
) -> list[Customer]:
    """Funded accounts at each participant, held by people of population.csv, so a developer can pay
    at once, register an account for welfare and see a payroll paid to it (idempotent)."""
    assert len(holders) == CUSTOMERS_PER_PARTICIPANT, "the serve population has a holder for every sample account"
    wanted = [
        (Customer(sample_account(spec.bin, spec.kind, number), normalize_name(person.name), person.citizen_id),
         OPENING_VND)
        for number, person in enumerate(holders)
    ]  # fmt: skip
    if not node.customers():
        node.open_accounts(wanted, now_ms)
        if spec.prefund_vnd:
            node.record_funding(spec.prefund_vnd, now_ms)
    return [customer for customer, _opening in wanted]


CONNECTIONS_PER_NODE_MAX = 64
SAMPLES_SHOWN = 3  # with their holders in credentials.json; every account is listed, every holder is in population.csv
SERVE_POPULATION = 5_000
SERVE_POPULATION_SEED = 84
SERVE_TREASURY = dataclasses.replace(TREASURY, prefund_vnd=100_000_000_000)


def _server(app: Any, host: str, port: int) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))


def _write_credentials(
    config: ServeConfig,
    admin_key: str,
    citizen_key: str,
    switch_url: str,
    urls: dict[str, str],
    credentials: dict[str, tuple[str, str]],
    samples: dict[str, list[Customer]],
    payer_key: str,
) -> None:
    config.out.mkdir(parents=True, exist_ok=True)
    document = {
        "switch": switch_url,
        "admin_key": admin_key,
        "citizen_app_key": citizen_key,
        "payer": {"bin": SERVE_TREASURY.bin, "api_key": payer_key, "population": "population.csv"},
        "participants": {
            bin_code: {
                "base_url": urls[bin_code],
                "api_key": key,
                "signing_secret": secret,
                "sample_accounts": [c.account for c in samples[bin_code][:SAMPLES_SHOWN]],
                "sample_customers": [
                    {"account": c.account, "holder_name": c.holder_name, "citizen_id": c.citizen_id}
                    for c in samples[bin_code][:SAMPLES_SHOWN]
                ],
                "accounts": [c.account for c in samples[bin_code]],  # every funded sample account
            }
            for bin_code, (key, secret) in credentials.items()
        },
    }
    path = config.out / "credentials.json"
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"Switch on {switch_url}  (OpenAPI at {switch_url}/docs)", flush=True)
    for bin_code, url in urls.items():
        print(f"  participant {bin_code} on {url}", flush=True)
    print(f"Admin key: {admin_key}", flush=True)
    print(f"Keys, signing secrets and sample accounts: {path.resolve()}", flush=True)
