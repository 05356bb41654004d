"""Scenarios of features/fastapi_app.feature: a real FastAPI app, real clients.

HTTP requests go through ``httpx.ASGITransport``, which awaits the whole app
call (background tasks included) before returning; the WebSocket scenario
runs uvicorn in a thread on 127.0.0.1 and connects with ``websockets``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pytest_bdd import given, parsers, scenarios, then, when
from websockets.sync.client import connect as websocket_connect

from starlette_correlate import CorrelationIdFilter
from tests.support.fastapi_app import LOGGER_NAME, Sightings, build_fastapi_app
from tests.support.logparse import LineCollector, on_logger
from tests.support.servers import serve_in_thread

scenarios("fastapi_app.feature")


@dataclass
class World:
    """What one scenario has built and seen."""

    stack: contextlib.ExitStack
    app: FastAPI | None = None
    sightings: Sightings | None = None
    collector: LineCollector | None = None
    server_url: str | None = None
    responses: list[httpx.Response] = field(default_factory=list)
    ws_reply: str | None = None

    @property
    def response(self) -> httpx.Response:
        assert self.responses, "no request was sent"
        return self.responses[-1]


@pytest.fixture
def world() -> Iterator[World]:
    with contextlib.ExitStack() as stack:
        yield World(stack=stack)


def _send(world: World, method: str, path: str, headers: dict[str, str]) -> None:
    assert world.app is not None
    app = world.app

    async def exchange() -> httpx.Response:
        # raise_app_exceptions=False: the client sees what a server would send.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://fastapi.test"
        ) as client:
            return await client.request(method, path, headers=headers)

    world.responses.append(asyncio.run(exchange()))


@given("a FastAPI app with the correlation middleware added in one line")
def _app(world: World) -> None:
    world.app, world.sightings = build_fastapi_app()


@given("a log handler with the correlation filter on the app's logger")
def _log_handler(world: World) -> None:
    collector = LineCollector()
    collector.addFilter(CorrelationIdFilter())
    world.collector = collector
    world.stack.enter_context(on_logger(collector, LOGGER_NAME, logging.INFO))


@given("the app is served by uvicorn on 127.0.0.1")
def _served(world: World) -> None:
    assert world.app is not None
    world.server_url = world.stack.enter_context(serve_in_thread(world.app))


@when(parsers.parse('a client sends {method} "{path}" with X-Request-ID "{cid}"'))
@when(parsers.parse('another client sends {method} "{path}" with X-Request-ID "{cid}"'))
def _send_with_id(world: World, method: str, path: str, cid: str) -> None:
    _send(world, method, path, {"X-Request-ID": cid})


@when(parsers.parse('a client sends {method} "{path}" without an ID header'))
def _send_without_id(world: World, method: str, path: str) -> None:
    _send(world, method, path, {})


@when(
    parsers.parse('a WebSocket client connects to "{path}" with X-Request-ID "{cid}"')
)
def _websocket(world: World, path: str, cid: str) -> None:
    assert world.server_url is not None
    url = world.server_url.replace("http://", "ws://") + path
    with websocket_connect(url, additional_headers={"X-Request-ID": cid}) as socket:
        reply = socket.recv(timeout=5)
        world.ws_reply = reply if isinstance(reply, str) else reply.decode()


@then(parsers.parse("the response status is {status:d}"))
def _status(world: World, status: int) -> None:
    assert world.response.status_code == status, world.response.text


@then(parsers.parse('the response header X-Request-ID is "{cid}"'))
def _header(world: World, cid: str) -> None:
    assert world.response.headers.get_list("x-request-id") == [cid]


@then(parsers.parse('the response JSON field "{name}" is "{value}"'))
def _json_field(world: World, name: str, value: str) -> None:
    body: dict[str, Any] = world.response.json()
    assert body[name] == value


@then(
    parsers.parse(
        'the response JSON field "{name}" equals the response header X-Request-ID'
    )
)
def _json_field_is_header(world: World, name: str) -> None:
    (header,) = world.response.headers.get_list("x-request-id")
    assert header
    assert world.response.json()[name] == header


@then(
    parsers.parse(
        'the logged line "{message}" of the {which} request has request_id "{cid}"'
    )
)
def _logged(world: World, message: str, which: str, cid: str) -> None:
    assert world.collector is not None
    records = [r for r in world.collector.records if r.getMessage() == message]
    assert len(records) == len(world.responses)
    index = {"first": 0, "second": 1}[which]
    assert records[index].__dict__["request_id"] == cid


@then(parsers.parse('the app\'s handler for Exception saw the ID "{cid}"'))
def _handler_saw(world: World, cid: str) -> None:
    assert world.sightings is not None
    assert world.sightings.from_exception == [cid]
    # It runs outside the middleware: the context has been reset by then.
    assert world.sightings.from_context == [None]


@then(parsers.parse('the yield dependency\'s teardown saw the ID "{cid}"'))
def _teardown_saw(world: World, cid: str) -> None:
    assert world.sightings is not None
    assert world.sightings.teardown == [cid]


@then(parsers.parse('the WebSocket replies "{reply}"'))
def _ws_reply(world: World, reply: str) -> None:
    assert world.ws_reply == reply
