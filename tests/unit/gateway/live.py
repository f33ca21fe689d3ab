"""What the gateway's tests on real sockets share: free ports of 127.0.0.1, apps served by uvicorn
or aiohttp inside the test's own event loop (one `asyncio.run` per test), a simulated BIDV served as
`switchyard serve` runs it, a recorder of the calls an app takes, and the customers and messages of
a small network (BIDV 970418 and its customers, Vietcombank 970436, VietinBank 970415).

Imported by bare name (`from live import ...`), as pytest puts this folder on sys.path."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import uvicorn
from aiohttp import web
from starlette.types import ASGIApp, Receive, Scope, Send

from banks.node import ParticipantNode
from banks.schemas import AccountStatus, Customer
from gateway.node_app import NodeApi, create_node_app
from gateway.runtime import NodeRuntime
from gateway.switch_app import SwitchApi, connect, create_switch_app
from ledger.storage import open_engine
from switch.node import SwitchNode
from switch.scheme.codes import TransactionStatus
from switch.scheme.messages import CreditTransfer, StatusReport
from switch.scheme.pacs008 import SWITCH_MEMBER_ID
from switch.scheme.transport import Envelope

BIDV, VIETCOMBANK, VIETINBANK = "970418", "970436", "970415"
NAPAS = SWITCH_MEMBER_ID
SECRET = "a1" * 32  # the signing secret the switch gave BIDV at registration
NOW = 1_796_083_200_000  # 1 December 2026
CREATED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
AN = Customer("12010000123456", "LE VAN AN", "048070012345")
HONG = Customer("12010000234567", "NGUYEN THI HONG", "079185012345")
BINH = Customer("12010000345678", "TRAN VAN BINH", "001090012345", status=AccountStatus.CLOSED)
UNKNOWN_ACCOUNT = "12019999999999"
WAIT_S = 5.0  # the most any test waits for something that normally takes milliseconds


def acsp(transfer: CreditTransfer) -> StatusReport:
    """BIDV's answer to a credit it accepted, pending the switch's final status."""
    return StatusReport(
        original_message_id=transfer.message_id, original_end_to_end_id=transfer.end_to_end_id,
        original_transaction_id=transfer.transaction_id, debtor_agent=transfer.debtor_agent,
        transaction_status=TransactionStatus.ACSP, creditor_agent=BIDV,
    )  # fmt: skip


# --- serving on real sockets -----------------------------------------------------------------------


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()
    return f"http://{host}:{port}"


async def eventually(check: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "waited too long"
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def uvicorn_serving(app: Any) -> AsyncIterator[str]:
    """The app on a free port of 127.0.0.1, in this event loop; its base URL."""
    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done())
        assert server.started, "uvicorn did not start"
        yield url_of(sock)
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def aiohttp_serving(app: web.Application) -> AsyncIterator[str]:
    sock = free_socket()
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield url_of(sock)
    finally:
        await runner.cleanup()
        sock.close()


class Calls:
    """An ASGI app's calls as they come in: (path, content type), to see what the switch sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            content_type = dict(scope["headers"]).get(b"content-type", b"").decode()
            self.seen.append((scope["path"], content_type))
        await self.app(scope, receive, send)


# --- a simulated BIDV --------------------------------------------------------------------------------


class Outbox:
    """The bank's dispatcher: what it sends that no waiting request took (late answers, its pacs.028)."""

    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    async def send(self, envelope: Envelope) -> None:
        self.sent.append(envelope)


@dataclass
class Bank:
    node: ParticipantNode
    runtime: NodeRuntime
    outbox: Outbox
    url: str
    calls: Calls

    def state(self) -> tuple[Any, ...]:
        balances = {account: a.balance_vnd for account, a in self.node.balances().items()}
        return self.node.inbound_counts(), balances, self.node.books()

    def balance_vnd(self, customer: Customer) -> int:
        return self.node.balances()[f"c:{customer.account}"].balance_vnd


def bidv_node(tmp_path: Path) -> ParticipantNode:
    """BIDV's node on its own database, with An's and Hồng's accounts open and Bình's closed."""
    node = ParticipantNode(BIDV, "BIDV", open_engine(f"sqlite:///{tmp_path / 'bidv.db'}"))
    node.setup()
    node.open_accounts([(AN, 0), (HONG, 2_000_000), (BINH, 0)], NOW)
    return node


@contextlib.asynccontextmanager
async def bidv_serving(tmp_path: Path) -> AsyncIterator[Bank]:
    """BIDV as `switchyard serve` runs it: its own database, open accounts, a runtime, the node app."""
    node = bidv_node(tmp_path)
    outbox = Outbox()
    runtime = NodeRuntime(node, outbox)
    await runtime.start()
    calls = Calls(create_node_app(NodeApi(node, runtime, SECRET)))
    try:
        async with uvicorn_serving(calls) as url:
            yield Bank(node, runtime, outbox, url, calls)
    finally:
        await runtime.stop()
        node.engine.dispose()


# --- a switch and creditor banks on real sockets, the participants registered over HTTP -------------

ADMIN_KEY = "admin-key-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
CAP_VND = 10_000_000_000


class Nowhere:
    """A creditor bank's dispatcher: it sends nothing that a waiting request does not take here."""

    async def send(self, envelope: Envelope) -> None:
        raise AssertionError(f"a creditor bank sent {envelope!r} outside an answer")


@dataclass
class ServedBank:
    node: ParticipantNode
    api: NodeApi
    calls: Calls
    url: str


@contextlib.asynccontextmanager
async def served_bank(node: ParticipantNode) -> AsyncIterator[ServedBank]:
    """A bank as `switchyard serve` runs it; its signing secret is set once the switch gave it one."""
    runtime = NodeRuntime(node, None)
    api = NodeApi(node, runtime, signing_secret="")
    runtime.dispatcher = Nowhere()
    await runtime.start()
    calls = Calls(create_node_app(api))
    try:
        async with uvicorn_serving(calls) as url:
            yield ServedBank(node, api, calls, url)
    finally:
        await runtime.stop()
        node.engine.dispose()


@contextlib.asynccontextmanager
async def served_switch(tmp_path: Path) -> AsyncIterator[tuple[SwitchApi, str]]:
    """The switch on its own SQLite file with its runtime and HTTP client: its API and base URL."""
    switch = SwitchNode(open_engine(f"sqlite:///{tmp_path / 'switch.db'}"))
    switch.setup()
    api = SwitchApi(switch, ADMIN_KEY, runtime=NodeRuntime(switch))
    async with aiohttp.ClientSession() as client:
        connect(api, client)
        assert api.runtime is not None
        await api.runtime.start()
        try:
            async with uvicorn_serving(create_switch_app(api)) as switch_url:
                yield api, switch_url
        finally:
            await api.runtime.stop()
            switch.engine.dispose()


async def register(
    http: httpx.AsyncClient, bin_code: str, name: str, base_url: str, batches: bool, wire: str = "json"
) -> dict[str, Any]:
    """A bank registered by the admin on `wire`: its answer (API key and signing secret)."""
    body = {"bin": bin_code, "name": name, "kind": "bank", "net_debit_cap_vnd": CAP_VND, "base_url": base_url,
            "inbound_batches": batches, "wire": wire}  # fmt: skip
    answer = await http.post("/v1/admin/participants", json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    assert answer.json()["wire"] == wire
    return dict(answer.json())
