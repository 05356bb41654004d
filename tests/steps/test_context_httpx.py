"""Steps for features/context_httpx.feature: real clients, a real server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from starlette_correlate.integrations.httpx import (
    AsyncCorrelationHook,
    CorrelationHook,
    instrument,
)
from starlette_correlate.scope import correlation_scope
from tests.support.servers import serve_in_thread

scenarios("context_httpx.feature")


async def echo(request: Request) -> JSONResponse:
    """Answer with every incoming header, repeated ones included."""
    return JSONResponse([[name, value] for name, value in request.headers.items()])


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    with serve_in_thread(Starlette(routes=[Route("/echo", echo)])) as url:
        yield url


@dataclass
class World:
    url: str = ""
    received: list[list[str]] = field(default_factory=list)
    client: httpx.Client | None = None


@pytest.fixture
def world() -> World:
    return World()


def call(
    world: World,
    kind: str,
    cid: str | None,
    headers: dict[str, str] | None = None,
    header_name: str = "X-Request-ID",
) -> None:
    url = f"{world.url}/echo"

    def sync_call() -> httpx.Response:
        with instrument(httpx.Client(), header_name=header_name) as client:
            return client.get(url, headers=headers)

    async def async_call() -> httpx.Response:
        async with instrument(httpx.AsyncClient(), header_name=header_name) as client:
            return await client.get(url, headers=headers)

    def run() -> httpx.Response:
        return sync_call() if kind == "sync" else asyncio.run(async_call())

    if cid is None:
        response = run()
    else:
        with correlation_scope(cid):
            response = run()
    assert response.status_code == 200
    world.received = response.json()


@given("a real echo service on 127.0.0.1")
def echo_service(world: World, echo_url: str) -> None:
    world.url = echo_url


@when(
    parsers.parse('the {kind} client calls the echo service in a scope with ID "{cid}"')
)
def call_in_scope(world: World, kind: str, cid: str) -> None:
    call(world, kind, cid)


@when(
    parsers.parse(
        'the {kind} client calls the echo service with X-Request-ID "{mine}" '
        'in a scope with ID "{cid}"'
    )
)
def call_with_own_header(world: World, kind: str, mine: str, cid: str) -> None:
    call(world, kind, cid, headers={"X-Request-ID": mine})


@when(parsers.parse("the {kind} client calls the echo service with no ID set"))
def call_outside(world: World, kind: str) -> None:
    call(world, kind, None)


@when(
    parsers.parse(
        'the async client with header "{header}" calls the echo service '
        'in a scope with ID "{cid}"'
    )
)
def call_custom_header(world: World, header: str, cid: str) -> None:
    call(world, "async", cid, header_name=header)


@when("a client is instrumented twice")
def instrumented_twice(world: World) -> None:
    world.client = instrument(instrument(httpx.Client()))


@then(parsers.parse('the echo service received {header} "{value}" exactly once'))
def received_once(world: World, header: str, value: str) -> None:
    values = [v for name, v in world.received if name == header.lower()]
    assert values == [value]


@then(parsers.parse("the echo service received no {header}"))
def received_none(world: World, header: str) -> None:
    assert [v for name, v in world.received if name == header.lower()] == []


@then("it has one correlation hook")
def one_hook(world: World) -> None:
    assert world.client is not None
    hooks = world.client.event_hooks["request"]
    assert len([h for h in hooks if isinstance(h, CorrelationHook)]) == 1
    assert not any(isinstance(h, AsyncCorrelationHook) for h in hooks)
    world.client.close()
