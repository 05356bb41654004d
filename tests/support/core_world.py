"""What a core scenario builds and sees, and how its steps send a request.

The step modules of features/core_*.feature share these plain helpers;
tests/steps/core/conftest.py holds the ``world`` fixture and the shared steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.types import Message

from starlette_correlate import ContextStore, CorrelationCore, correlation_id_var
from starlette_correlate.fields import fields_var
from tests.support.apps import Probe, build_app
from tests.support.asgi import call_app, http_scope

UNSEEN = "<not observed>"


class ListHandler(logging.Handler):
    """Keep every record it handles."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class World:
    """What one scenario has built and seen."""

    stack: contextlib.ExitStack
    probe: Probe = field(default_factory=Probe)
    store: ContextStore = field(default_factory=ContextStore)
    options: dict[str, Any] = field(default_factory=dict)
    app: Starlette | None = None
    server_url: str | None = None
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    raw_value: bytes = b""
    client_context_id: str | None = UNSEEN
    client_context_fields: object = UNSEEN
    error: BaseException | None = None
    handler: ListHandler | None = None
    ws_messages: list[Message] = field(default_factory=list)
    ws_reply: str | None = None
    core: CorrelationCore | None = None
    phase_results: list[bool] = field(default_factory=list)
    contexts: dict[str, contextvars.Context] = field(default_factory=dict)
    lifespan_messages: list[Message] = field(default_factory=list)

    def build(self) -> Starlette:
        self.app = build_app(self.probe, {"store": self.store, **self.options})
        return self.app

    @property
    def ids(self) -> list[str]:
        return [value for name, value in self.headers if name == "x-request-id"]


def take_response(world: World, response: httpx.Response) -> None:
    world.status = response.status_code
    world.headers = [
        (name.decode("latin-1").lower(), value.decode("latin-1"))
        for name, value in response.headers.raw
    ]
    world.body = response.content


def send_request(
    world: World, path: str, headers: dict[str, str], *, raise_exceptions: bool = False
) -> None:
    if world.server_url is not None:
        with httpx.Client(base_url=world.server_url) as client:
            take_response(world, client.get(path, headers=headers))
        return
    app = world.app or world.build()

    async def exchange() -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_exceptions)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t"
        ) as client:
            try:
                take_response(world, await client.get(path, headers=headers))
            except Exception as exc:
                world.error = exc
        # httpx.ASGITransport runs the app in this very task: a leak shows here.
        observe_client_context(world)

    asyncio.run(exchange())


def take_messages(world: World, messages: list[Message]) -> None:
    for message in messages:
        if message["type"] == "http.response.start":
            world.status = message["status"]
            world.headers = [
                (name.decode("latin-1").lower(), value.decode("latin-1"))
                for name, value in message.get("headers", [])
            ]
        elif message["type"] == "http.response.body":
            world.body += message.get("body", b"")


def raw_request(
    world: World,
    headers: list[tuple[bytes, bytes]],
    client: tuple[str, int] = ("127.0.0.1", 40000),
) -> None:
    app = world.app or world.build()

    async def exchange() -> None:
        scope = http_scope("/async", headers=headers, client=client)
        take_messages(world, await call_app(app, scope))
        observe_client_context(world)

    asyncio.run(exchange())


def observe_client_context(world: World) -> None:
    """Record what the request left in the context the client ran it from."""
    world.client_context_id = correlation_id_var.get()
    world.client_context_fields = fields_var.get()
