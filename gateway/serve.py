"""`switchyard serve`: the switch, the default network's banks and wallets and the payer's node
(MOLISA and the State Treasury's payment requests), each on its own port.

Every node is its own FastAPI app with its own runtime and database; every message between the
switch and a participant crosses real HTTP on loopback. The switch listens on --port, the
participants on the ports after it, in the order of the default network, and the payer's node on
the port after the last participant's. Credentials are printed and written to
<out>/credentials.json.

The payer's node runs in serve's own process, whatever --workers says: its database then has one
owner, a process that is never started again (the participants' process is restarted when it ends,
and the switch's workers are several), and its officers' keys never leave the process that made
them except in credentials.json.
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
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn

from banks.node import ParticipantNode
from banks.schemas import Customer
from gateway.dispatch import HttpDispatcher, Peer
from gateway.node_app import NodeApi, create_node_app
from gateway.observe import MULTIPROCESS_DIRECTORY_VARIABLE, configure_json_logging
from gateway.payer_node_app import PayerNodeApi, create_payer_node_app
from gateway.runtime import NodeRuntime, wall_clock_ms
from gateway.switch_app import connect, create_switch_app, networked_switch_api
from network import nodes, processes
from network.participants import (
    DEFAULT_PARTICIPANTS,
    DEFAULT_START,
    SAMPLE_OPENING_VND,
    SAMPLE_POPULATION_SEED,
    SERVE_TREASURY,
    ParticipantSpec,
    refusing_sample_customers,
    sample_customers,
    sample_population,
)
from network.storage import Storage
from payer.node import PAYER_NODE_NAME
from payer.registry import PopulationRegistry
from payer.requests.schemas import Officer, Role
from switch.node import SwitchNode
from switch.scheme.codes import WireFormat
from switch.scheme.spreadsheet import safe_row

log = logging.getLogger("switchyard.serve")


@dataclass(slots=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    database: str | None = None
    out: Path = Path("out/serve")
    admin_key: str | None = None
    workers: int = 1
    schema_prefix: str = "switchyard"  # PostgreSQL: each node's schema is <prefix>_<node>
    # Each simulated node's wire (by BIN; the others JSON): ISO 20022 XML or JSON with ISO names.
    wires: dict[str, WireFormat] = field(default_factory=dict)

    def participants(self) -> tuple[ParticipantSpec, ...]:
        """The default network with each node on the wire asked for."""
        return tuple(dataclasses.replace(s, wire=self.wires.get(s.bin, s.wire)) for s in DEFAULT_PARTICIPANTS)


async def serve(config: ServeConfig, ready: asyncio.Event | None = None) -> None:
    configure_json_logging()
    storage = _storage(config.database, config.out, config.schema_prefix)
    if config.workers > 1 and storage.url is None:
        raise ValueError("workers: several switch workers need PostgreSQL (--database postgresql://...)")
    registry = sample_population()
    switch = nodes.build_switch(storage, identities=registry)
    admin_key = config.admin_key or secrets.token_urlsafe(24)
    citizen_key = secrets.token_urlsafe(24)
    urls = {spec.bin: f"http://{config.host}:{config.port + 1 + n}" for n, spec in enumerate(DEFAULT_PARTICIPANTS)}
    switch_url = f"http://{config.host}:{config.port}"
    credentials = {spec.bin: _register(switch, spec, urls[spec.bin]) for spec in config.participants()}
    payer_key, _secret = _register(switch, SERVE_TREASURY, None)
    _write_population(config, registry)

    customer_keys = {spec.bin: secrets.token_urlsafe(24) for spec in DEFAULT_PARTICIPANTS}  # each bank's channel
    payer_node = _payer_node(config, storage, registry, admin_key)
    participants = Supervised(lambda: _start_participants(config, switch_url, credentials, admin_key, customer_keys))
    people = registry.people()
    samples = {spec.bin: sample_customers(spec, n, people) for n, spec in enumerate(DEFAULT_PARTICIPANTS)}
    workers: subprocess.Popen[bytes] | None = None
    try:
        async with _client() as client:
            servers = []
            if config.workers == 1:
                api = networked_switch_api(switch, admin_key, citizen_key)
                connect(api, client)
                assert api.runtime is not None
                await api.runtime.start()
                servers.append(_server(create_switch_app(api), config.host, config.port))
            else:
                switch.engine.dispose()
                workers = _start_switch_workers(config, storage, admin_key, citizen_key)
            servers.append(_server(create_payer_node_app(payer_node.api), config.host, payer_node.port))
            tasks = [asyncio.create_task(server.serve()) for server in servers]
            while not all(server.started for server in servers):
                await asyncio.sleep(0.05)
            for url in (switch_url, *urls.values(), payer_node.url):
                await _wait_healthy(client, url, participants.process)
            keys = Keys(admin_key, citizen_key, payer_key, customer_keys)
            _write_credentials(config, keys, switch_url, urls, credentials, samples, payer_node)
            if ready is not None:
                ready.set()
            await asyncio.gather(*tasks, _while_running(participants, workers))
    finally:
        for process in (workers, participants.process):
            if process is not None:
                process.terminate()
                process.wait(timeout=15)


PROCESS_POLL_S = 0.5
PARTICIPANT_RESTARTS_MAX = 10  # in one run of serve: past it, something is wrong that a restart will not fix
RESTART_BACKOFF_S = 0.5  # doubled after each restart: 0.5, 1, 2, 4, 8, then 8 s
RESTART_BACKOFF_S_MAX = 8.0


class Supervised:
    """The participants' process, started again when it ends: the switch outlives its participants.
    While it is down the switch's calls to them find no one and end AB08 (or AB05), each final."""

    def __init__(self, start: Callable[[], subprocess.Popen[bytes]]) -> None:
        self.start = start
        self.process = start()
        self.restarts = 0

    async def restart(self) -> None:
        code = self.process.returncode
        if self.restarts >= PARTICIPANT_RESTARTS_MAX:
            raise RuntimeError(f"the participants' process ended ({code}) after {self.restarts} restarts: serve stops")
        delay_s = min(RESTART_BACKOFF_S * 2**self.restarts, RESTART_BACKOFF_S_MAX)
        self.restarts += 1
        message = (
            f"The participants' process ended (exit code {code}); the switch goes on, its calls to them end"
            f" AB08 meanwhile. Starting it again in {delay_s:.1f} s (restart {self.restarts} of"
            f" {PARTICIPANT_RESTARTS_MAX})."
        )
        print(message, flush=True)
        log.warning(message)
        await asyncio.sleep(delay_s)
        self.process = self.start()


async def _while_running(participants: Supervised, workers: subprocess.Popen[bytes] | None) -> None:
    """Returns (raising) when the switch's workers end: serve does not go on without its switch. The
    participants' process is started again when it ends, a bounded number of times."""
    while True:
        if workers is not None and workers.poll() is not None:
            raise RuntimeError(f"{workers.args!r} ended with exit code {workers.returncode}")
        if participants.process.poll() is not None:
            await participants.restart()
        await asyncio.sleep(PROCESS_POLL_S)


async def serve_participants(settings: dict[str, Any]) -> None:
    """The simulated banks and wallets, each its own FastAPI app on its own port, in a process of
    their own (`python -m gateway.participants_process`), so the switch and its participants each
    have a core and a GIL of their own rather than sharing one."""
    configure_json_logging()
    storage = _storage(settings["database"], Path(settings["out"]), settings["schema_prefix"])
    people = sample_population().people()
    host, switch_url = settings["host"], settings["switch_url"]
    async with contextlib.AsyncExitStack() as clients:
        servers = []
        for n, spec in enumerate(DEFAULT_PARTICIPANTS):
            node = nodes.build_participant(spec, storage)
            customers = sample_customers(spec, n, people) + refusing_sample_customers(spec, n, people)
            _open_sample_accounts(node, customers, spec.prefund_vnd, wall_clock_ms())
            key, secret = settings["credentials"][spec.bin]
            runtime = NodeRuntime(node)
            wire = WireFormat(settings["wires"][spec.bin])
            to_switch = _fixed_peer(Peer(switch_url, api_key=key, wire=wire))
            node_client = await clients.enter_async_context(_client())
            runtime.dispatcher = HttpDispatcher(spec.bin, to_switch, runtime.deliver, node_client)
            await runtime.start()
            customer_key = settings["customer_keys"][spec.bin]
            app = create_node_app(NodeApi(node, runtime, secret, settings["admin_key"], customer_key))
            servers.append(_server(app, host, settings["port"] + 1 + n))
        await asyncio.gather(*(server.serve() for server in servers))


def _start_participants(
    config: ServeConfig,
    switch_url: str,
    credentials: dict[str, tuple[str, str]],
    admin_key: str,
    customer_keys: dict[str, str],
) -> subprocess.Popen[bytes]:
    settings = {
        "host": config.host, "port": config.port, "database": config.database, "out": str(config.out),
        "schema_prefix": config.schema_prefix, "switch_url": switch_url, "admin_key": admin_key,
        "credentials": credentials, "wires": {s.bin: s.wire.value for s in config.participants()},
        "customer_keys": customer_keys,
    }  # fmt: skip
    path = config.out / "participants.json"  # keys and secrets: written next to credentials.json
    path.write_text(json.dumps(settings), encoding="utf-8")
    command = [sys.executable, "-m", "gateway.participants_process", str(path)]
    return processes.start_child(command)  # the participants go when serve goes, even on SIGKILL


def _storage(database: str | None, out: Path, schema_prefix: str) -> Storage:
    storage = Storage.from_option(database, out / "db")
    if storage.url is not None:
        return Storage(url=storage.url, schema_prefix=schema_prefix)
    return storage


def _start_switch_workers(config: ServeConfig, storage: Storage, admin_key: str, citizen_key: str) -> Any:
    """N uvicorn worker processes of the switch on one PostgreSQL (gateway.switch_process)."""
    if storage.url is None:
        raise ValueError("workers: several switch workers need PostgreSQL (--database postgresql://...)")
    environment = {
        **os.environ,
        # Each worker counts in files here and a scrape of any worker sums them all (gateway.observe).
        MULTIPROCESS_DIRECTORY_VARIABLE: str(_fresh_directory(config.out / "metrics")),
        "SWITCHYARD_DATABASE": storage.url,
        "SWITCHYARD_SCHEMA_PREFIX": storage.schema_prefix,
        "SWITCHYARD_ADMIN_KEY": admin_key,
        "SWITCHYARD_CITIZEN_KEY": citizen_key,
    }
    command = [
        sys.executable, "-m", "uvicorn", "gateway.switch_process:create_app", "--factory",
        "--host", config.host, "--port", str(config.port), "--workers", str(config.workers), "--log-level", "warning",
    ]  # fmt: skip
    return processes.start_child(command, env=environment)  # the workers go when serve goes


def _fresh_directory(path: Path) -> Path:
    """Emptied first: a previous run's counts must not be added to this run's."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _client() -> aiohttp.ClientSession:
    """One keep-alive pool per node. aiohttp rather than httpx: a streamed call costs a fraction
    of httpx's CPU, and outbound calls are most of what a node does under load (BENCHMARKS.md)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS_PER_NODE_MAX))


async def _wait_healthy(
    client: aiohttp.ClientSession, url: str, process: subprocess.Popen[bytes], timeout_s: float = 60.0
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the participants' process ended with exit code {process.returncode}")
        try:
            async with client.get(url + "/health", timeout=aiohttp.ClientTimeout(total=1.0)) as response:
                if response.status == 200:
                    return
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy in {timeout_s:.0f} s")


def _write_population(config: ServeConfig, registry: PopulationRegistry) -> None:
    config.out.mkdir(parents=True, exist_ok=True)
    with (config.out / "population.csv").open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("citizen_id", "name", "birth_date", "province_code", "alive"))
        for person in registry.people():
            alive = registry.alive(person.citizen_id)
            row = (person.citizen_id, person.name, person.birth_date.isoformat(), person.province_code, alive)
            writer.writerow(safe_row(row))


def _register(switch: SwitchNode, spec: ParticipantSpec, base_url: str | None) -> tuple[str, str]:
    """Admitted (once: a restart on the same database finds it there) and given new credentials.
    Every simulated node serves the inbound batch call (gateway.batches)."""
    now_ms = wall_clock_ms()
    if not nodes.admit(switch, spec, now_ms, base_url, inbound_batches=base_url is not None):
        switch.set_wire(spec.bin, spec.wire)  # known from an earlier run: on the wire asked for now
    credentials = switch.issue_credentials(spec.bin, now_ms)
    return credentials.api_key, credentials.signing_secret


PAYER_NODE_PORT_OFFSET = 1 + len(DEFAULT_PARTICIPANTS)  # the port after the last participant's


@dataclass(frozen=True, slots=True)
class ServeOfficer:
    """A person with a key to the payer's node. The node knows the person and the role; the office is
    for the people who read credentials.json."""

    officer: Officer
    office: str


SERVE_OFFICERS: tuple[ServeOfficer, ...] = (
    ServeOfficer(
        Officer(officer_id="molisa.hanoi.nguyen.thi.hanh", name="Nguyễn Thị Hạnh", role=Role.MOLISA_OFFICER),
        "Sở Lao động – Thương binh và Xã hội Hà Nội",
    ),
    ServeOfficer(
        Officer(officer_id="kbnn.hanoi.tran.van.minh", name="Trần Văn Minh", role=Role.TREASURY_PREPARER),
        "Kho bạc Nhà nước Hà Nội, phòng kiểm soát chi",
    ),
    ServeOfficer(
        Officer(officer_id="kbnn.hanoi.le.thi.thu", name="Lê Thị Thu", role=Role.TREASURY_APPROVER),
        "Kho bạc Nhà nước Hà Nội, phòng kiểm soát chi",
    ),
)
POST_OFFICE = "Bưu điện Thành phố Hà Nội (Vietnam Post)"


@dataclass(frozen=True, slots=True)
class ServedPayerNode:
    api: PayerNodeApi
    port: int
    url: str
    keys: dict[str, ServeOfficer]  # each officer's key, made for this run
    trail: dict[str, str]  # where its audit trail is, for `switchyard audit verify`: its file, or its schema


def _payer_node(config: ServeConfig, storage: Storage, registry: PopulationRegistry, admin_key: str) -> ServedPayerNode:
    """The payer's node on its own database, its rolls the sandbox's population (the same seed as the
    population, so the same rolls every run), and a new key for each officer and the post office.
    The admin key opens its audit trail."""
    rolls = nodes.sandbox_rolls(registry, SAMPLE_POPULATION_SEED, DEFAULT_START.date())
    node = nodes.build_payer(storage, registry, rolls)
    keys = {secrets.token_urlsafe(24): officer for officer in SERVE_OFFICERS}
    officers = {key: served.officer for key, served in keys.items()}
    api = PayerNodeApi(node, officers, admin_key, post_office_key=secrets.token_urlsafe(24))
    port = config.port + PAYER_NODE_PORT_OFFSET
    if storage.url is None:
        trail = {"database": str(Path(node.engine.url.database or "").resolve())}
    else:  # the URL is the one serve was given: credentials.json does not repeat its password
        trail = {"schema": f"{storage.schema_prefix}_{PAYER_NODE_NAME}"}
    return ServedPayerNode(api, port, f"http://{config.host}:{port}", keys, trail)


def _payer_node_credentials(payer_node: ServedPayerNode) -> dict[str, Any]:
    """Its base URL, each officer's key by role (one person a role), the post office's key, and where
    its audit trail is. The admin key (admin_key) opens the trail's verification."""
    officers = {
        served.officer.role.value: {"api_key": key, **served.officer.model_dump(mode="json"), "office": served.office}
        for key, served in payer_node.keys.items()
    }
    return {
        "base_url": payer_node.url,
        "officers": officers,
        "post_office": {"name": POST_OFFICE, "api_key": payer_node.api.post_office_key},
        **payer_node.trail,
    }


def _fixed_peer(peer: Peer) -> Callable[[str], Peer | None]:
    """A participant talks to the switch only."""

    def lookup(_address: str) -> Peer | None:
        return peer

    return lookup


def _open_sample_accounts(node: ParticipantNode, customers: list[Customer], prefund_vnd: int, now_ms: int) -> None:
    """Funded accounts at each participant, held by people of population.csv, so a developer can pay
    at once, register an account for welfare and see a payroll paid to it (idempotent)."""
    if not node.customers():
        node.open_accounts([(customer, SAMPLE_OPENING_VND) for customer in customers], now_ms)
        if prefund_vnd:
            node.record_funding(prefund_vnd, now_ms)


CONNECTIONS_PER_NODE_MAX = 64
SAMPLES_SHOWN = 3  # with their holders in credentials.json; every account is listed, every holder is in population.csv


def _server(app: Any, host: str, port: int) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))


@dataclass(frozen=True)
class Keys:
    """The keys serve made for this run, each role's own (README's authorization table)."""

    admin: str
    citizen_app: str
    payer: str
    customers: dict[str, str]  # BIN -> the customer channel's key of that simulated bank or wallet


def _write_credentials(
    config: ServeConfig,
    keys: Keys,
    switch_url: str,
    urls: dict[str, str],
    credentials: dict[str, tuple[str, str]],
    samples: dict[str, list[Customer]],
    payer_node: ServedPayerNode,
) -> None:
    config.out.mkdir(parents=True, exist_ok=True)
    document = {
        "switch": switch_url,
        "admin_key": keys.admin,
        "citizen_app_key": keys.citizen_app,
        "payer": {"bin": SERVE_TREASURY.bin, "api_key": keys.payer, "population": "population.csv"},
        "participants": {
            bin_code: {
                "base_url": urls[bin_code],
                "api_key": key,
                "signing_secret": secret,
                "customer_key": keys.customers[bin_code],  # its customer channel: POST/GET /v1/payments
                "sample_accounts": [c.account for c in samples[bin_code][:SAMPLES_SHOWN]],
                "sample_customers": [
                    {"account": c.account, "holder_name": c.holder_name, "citizen_id": c.citizen_id}
                    for c in samples[bin_code][:SAMPLES_SHOWN]
                ],
                "accounts": [c.account for c in samples[bin_code]],  # every funded sample account
            }
            for bin_code, (key, secret) in credentials.items()
        },
        "payer_node": _payer_node_credentials(payer_node),
    }
    path = config.out / "credentials.json"
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"Switch on {switch_url}  (OpenAPI at {switch_url}/docs)", flush=True)
    for bin_code, url in urls.items():
        print(f"  participant {bin_code} on {url}", flush=True)
    print(f"Payer node (MOLISA and the Treasury's payment requests) on {payer_node.url}", flush=True)
    print(f"Admin key: {keys.admin}", flush=True)
    print(f"Keys, signing secrets and sample accounts: {path.resolve()}", flush=True)
