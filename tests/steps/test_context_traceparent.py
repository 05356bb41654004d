"""Steps for features/context_traceparent.feature."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from starlette_correlate import (
    CorrelationIdFilter,
    CorrelationMiddleware,
    get_correlation_id,
)
from starlette_correlate.fields import fields_var, get_fields
from starlette_correlate.integrations.httpx import instrument
from starlette_correlate.logs import KeyValueFormatter
from starlette_correlate.traceparent import traceparent_var

scenarios("context_traceparent.feature")

handler_logger = logging.getLogger("tests.traceparent")


def render(fields: Mapping[str, str]) -> str:
    return " ".join(f"{key}={value}" for key, value in sorted(fields.items()))


@dataclass
class World:
    options: dict[str, Any] = field(default_factory=dict)
    ids: list[str | None] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    outbound: list[httpx.Headers] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    after: tuple[str, str | None] | None = None
    response: httpx.Response | None = None


class LineCollector(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    collector = LineCollector(world.lines)
    collector.addFilter(CorrelationIdFilter())
    collector.setFormatter(KeyValueFormatter(timestamp=False))
    handler_logger.addHandler(collector)
    handler_logger.setLevel(logging.INFO)
    token = fields_var.set(None)
    try:
        yield world
    finally:
        fields_var.reset(token)
        handler_logger.removeHandler(collector)


def build_app(world: World) -> Starlette:
    def downstream(request: httpx.Request) -> httpx.Response:
        world.outbound.append(request.headers)
        return httpx.Response(204)

    async def handler(request: Request) -> JSONResponse:
        world.ids.append(get_correlation_id())
        world.seen.append(render(get_fields()))
        handler_logger.info("handled")
        client = instrument(
            httpx.AsyncClient(transport=httpx.MockTransport(downstream))
        )
        async with client:
            await client.get("http://downstream.test/")
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/", handler)])
    app.add_middleware(CorrelationMiddleware, **world.options)
    return app


@given("an app with trace context on")
def trace_on(world: World) -> None:
    world.options["trace_context"] = True


@given("an app with trace context on and adoption")
def trace_adopt(world: World) -> None:
    world.options.update(trace_context=True, adopt_trace_id=True)


@given("an app without trace context")
def trace_off(world: World) -> None:
    world.options.clear()


def send(world: World, headers: dict[str, str]) -> None:
    app = build_app(world)

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as client:
            world.response = await client.get("/", headers=headers)
        # Still in the task that ran the app: nothing may be left behind.
        world.after = (render(get_fields()), traceparent_var.get())

    asyncio.run(go())
    assert world.response is not None
    assert world.response.status_code == 200


@when(
    parsers.parse(
        'a request arrives with traceparent "{value}" and X-Request-ID "{cid}"'
    )
)
def request_with_both(world: World, value: str, cid: str) -> None:
    send(world, {"traceparent": value, "X-Request-ID": cid})


@when(parsers.parse('a request arrives with traceparent "{value}"'))
def request_with_traceparent(world: World, value: str) -> None:
    send(world, {"traceparent": value})


@then(parsers.parse('the handler ran under ID "{cid}"'))
def ran_under(world: World, cid: str) -> None:
    assert world.ids == [cid]


@then("the handler ran under a generated ID")
def ran_under_generated(world: World) -> None:
    [cid] = world.ids
    assert cid is not None
    assert uuid.UUID(cid).version == 7


@then(parsers.parse('the handler saw "{expected}"'))
def handler_saw(world: World, expected: str) -> None:
    assert world.seen == [expected]


@then("the handler saw no fields")
def handler_saw_none(world: World) -> None:
    assert world.seen == [""]


@then(parsers.parse('the handler\'s log line has "{expected}"'))
def log_line_has(world: World, expected: str) -> None:
    [line] = world.lines
    assert expected in line.split()


@then("nothing of the trace is left after the request")
def nothing_left(world: World) -> None:
    assert world.after == ("", None)


@then(parsers.parse('the response header X-Request-ID is "{cid}"'))
def response_header(world: World, cid: str) -> None:
    assert world.response is not None
    assert world.response.headers.get_list("X-Request-ID") == [cid]


@then(parsers.parse('the outbound call carried traceparent "{value}"'))
def outbound_traceparent(world: World, value: str) -> None:
    [headers] = world.outbound
    assert headers.get_list("traceparent") == [value]


@then(parsers.parse('the outbound call carried X-Request-ID "{cid}"'))
def outbound_id(world: World, cid: str) -> None:
    [headers] = world.outbound
    assert headers.get_list("X-Request-ID") == [cid]


@then("the outbound call carried no traceparent")
def outbound_no_traceparent(world: World) -> None:
    [headers] = world.outbound
    assert "traceparent" not in headers
