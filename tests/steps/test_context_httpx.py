"""Steps for features/context_httpx.feature: real clients, a real server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import httpx
import httpx2
import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from starlette_correlate import CorrelationMiddleware
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
    service: ASGIApp | None = None


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
    # "sync" and "async" are httpx clients; "sync httpx2" and "async httpx2"
    # are the same API under the module name httpx2.
    package: ModuleType = httpx2 if kind.endswith(" httpx2") else httpx

    def sync_call() -> Any:
        with instrument(package.Client(), header_name=header_name) as client:
            return client.get(url, headers=headers)

    async def async_call() -> Any:
        async with instrument(package.AsyncClient(), header_name=header_name) as client:
            return await client.get(url, headers=headers)

    def run() -> Any:
        return sync_call() if kind.startswith("sync") else asyncio.run(async_call())

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


def service_calling_echo(
    url: str, header: str, kind: str, client_header: str | None
) -> ASGIApp:
    """A service under ``header`` whose endpoint calls ``url`` and returns
    what the echo service received."""

    def client_of(made: Any) -> Any:
        if client_header is None:
            return instrument(made)
        return instrument(made, header_name=client_header)

    async def call_async(request: Request) -> JSONResponse:
        async with client_of(httpx.AsyncClient()) as client:
            return JSONResponse((await client.get(url)).json())

    def call_sync(request: Request) -> JSONResponse:  # run in a thread, as users do
        with client_of(httpx.Client()) as client:
            return JSONResponse(client.get(url).json())

    endpoint = call_sync if kind == "sync" else call_async
    app = Starlette(routes=[Route("/", endpoint)])
    app.add_middleware(CorrelationMiddleware, header_name=header)
    return app


@given(
    parsers.parse(
        'a service under CorrelationMiddleware with header "{header}" that calls '
        "the echo service with a {kind} client"
    )
)
def service_with_client(world: World, echo_url: str, header: str, kind: str) -> None:
    world.service = service_calling_echo(f"{echo_url}/echo", header, kind, None)


@given(
    parsers.parse(
        'a service under CorrelationMiddleware with header "{header}" that calls '
        'the echo service with a client for header "{client_header}"'
    )
)
def service_with_named_client(
    world: World, echo_url: str, header: str, client_header: str
) -> None:
    world.service = service_calling_echo(
        f"{echo_url}/echo", header, "async", client_header
    )


@when(parsers.parse('the service is called with {header} "{cid}"'))
def call_service(world: World, header: str, cid: str) -> None:
    service = world.service
    assert service is not None

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=service)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get("/", headers={header: cid})

    response = asyncio.run(go())
    assert response.status_code == 200
    assert response.headers[header] == cid
    world.received = response.json()


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
