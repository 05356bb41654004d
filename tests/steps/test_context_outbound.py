"""Steps for features/context_outbound.feature: real services, real carriers.

The calling service and the echo service are both real uvicorn servers on
127.0.0.1. The calling service's requests endpoint is a sync function, run
in Starlette's threadpool as users write one; its aiohttp endpoint is async.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
import pytest
import requests
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from starlette_correlate import CorrelationMiddleware
from starlette_correlate.integrations.aiohttp import trace_config
from starlette_correlate.integrations.requests import instrument
from tests.support.servers import serve_in_thread

scenarios("context_outbound.feature")

Pairs = list[list[str]]
TIMEOUT = 10


async def echo(request: Request) -> JSONResponse:
    """Answer with every incoming header, repeated ones included."""
    return JSONResponse([[name, value] for name, value in request.headers.items()])


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    with serve_in_thread(Starlette(routes=[Route("/echo", echo)])) as url:
        yield f"{url}/echo"


@dataclass(frozen=True)
class Call:
    """One outbound call: its carrier and what the caller sets."""

    carrier: str
    header_name: str | None = None
    headers: dict[str, str] | None = None
    session_headers: dict[str, str] = field(default_factory=dict)


def call_with_requests(url: str, call: Call) -> Pairs:
    with instrument(requests.Session(), header_name=call.header_name) as session:
        session.headers.update(call.session_headers)
        answer = session.get(url, headers=call.headers, timeout=TIMEOUT)
        answer.raise_for_status()
        received: Pairs = answer.json()
        return received


async def call_with_aiohttp(url: str, call: Call) -> Pairs:
    async with (
        aiohttp.ClientSession(
            headers=call.session_headers,
            trace_configs=[trace_config(header_name=call.header_name)],
            timeout=aiohttp.ClientTimeout(total=TIMEOUT),
        ) as session,
        session.get(url, headers=call.headers) as answer,
    ):
        answer.raise_for_status()
        received: Pairs = await answer.json()
        return received


def calling_service(url: str, call: Call, **options: Any) -> Starlette:
    """A service under ``CorrelationMiddleware(**options)`` whose endpoint
    makes ``call`` to ``url`` and answers with what the echo service got."""

    def sync_endpoint(request: Request) -> JSONResponse:  # in the threadpool
        return JSONResponse(call_with_requests(url, call))

    async def async_endpoint(request: Request) -> JSONResponse:
        return JSONResponse(await call_with_aiohttp(url, call))

    endpoint = sync_endpoint if call.carrier == "requests" else async_endpoint
    app = Starlette(routes=[Route("/", endpoint)])
    app.add_middleware(CorrelationMiddleware, **options)
    return app


@dataclass
class World:
    stack: contextlib.ExitStack
    service_url: str = ""
    received: Pairs = field(default_factory=list)


@pytest.fixture
def world() -> Iterator[World]:
    with contextlib.ExitStack() as stack:
        yield World(stack)


def start(world: World, app: Starlette) -> None:
    world.service_url = world.stack.enter_context(serve_in_thread(app))


@given("a real echo service on 127.0.0.1")
def echo_service(echo_url: str) -> None:
    assert echo_url.startswith("http://127.0.0.1:")


@given(
    parsers.re(
        r"a real service under CorrelationMiddleware that calls the echo "
        r"service with (?P<carrier>\w+)$"
    )
)
def plain_service(world: World, echo_url: str, carrier: str) -> None:
    start(world, calling_service(echo_url, Call(carrier)))


@given(
    parsers.parse(
        "a real service under CorrelationMiddleware that calls the echo service "
        'with {carrier} setting {header} "{value}"'
    )
)
def service_setting_header(
    world: World, echo_url: str, carrier: str, header: str, value: str
) -> None:
    start(world, calling_service(echo_url, Call(carrier, headers={header: value})))


@given(
    parsers.parse(
        "a real service under CorrelationMiddleware that calls the echo service "
        'with {carrier} whose session sets {header} "{value}"'
    )
)
def service_with_session_header(
    world: World, echo_url: str, carrier: str, header: str, value: str
) -> None:
    call = Call(carrier, session_headers={header: value})
    start(world, calling_service(echo_url, call))


@given(
    parsers.re(
        r'a real service under CorrelationMiddleware with header "(?P<header>[^"]+)" '
        r"that calls the echo service with (?P<carrier>\w+)$"
    )
)
def service_with_header(world: World, echo_url: str, header: str, carrier: str) -> None:
    start(world, calling_service(echo_url, Call(carrier), header_name=header))


@given(
    parsers.parse(
        'a real service under CorrelationMiddleware with header "{header}" that '
        'calls the echo service with {carrier} for header "{carrier_header}"'
    )
)
def service_with_carrier_header(
    world: World, echo_url: str, header: str, carrier: str, carrier_header: str
) -> None:
    call = Call(carrier, header_name=carrier_header)
    start(world, calling_service(echo_url, call, header_name=header))


@given(
    parsers.parse(
        "a real service under CorrelationMiddleware with trace context that "
        "calls the echo service with {carrier}"
    )
)
def service_with_trace_context(world: World, echo_url: str, carrier: str) -> None:
    start(world, calling_service(echo_url, Call(carrier), trace_context=True))


def call_service(world: World, headers: dict[str, str]) -> None:
    with httpx.Client(timeout=TIMEOUT) as client:
        response = client.get(world.service_url, headers=headers)
    assert response.status_code == 200, response.text
    world.received = response.json()


@when(parsers.re(r'the service is called with (?P<header>[\w-]+) "(?P<value>[^"]+)"$'))
def called_with(world: World, header: str, value: str) -> None:
    call_service(world, {header: value})


@when(
    parsers.parse(
        'the service is called with X-Request-ID "{cid}" and traceparent "{value}"'
    )
)
def called_with_traceparent(world: World, cid: str, value: str) -> None:
    call_service(world, {"X-Request-ID": cid, "traceparent": value})


@when(
    parsers.parse(
        "an instrumented {carrier} session calls the echo service outside any request"
    )
)
def called_outside(world: World, echo_url: str, carrier: str) -> None:
    call = Call(carrier)
    if carrier == "requests":
        world.received = call_with_requests(echo_url, call)
    else:
        world.received = asyncio.run(call_with_aiohttp(echo_url, call))


@then(parsers.parse('the echo service received {header} "{value}" exactly once'))
def received_once(world: World, header: str, value: str) -> None:
    values = [v for name, v in world.received if name == header.lower()]
    assert values == [value]


@then(parsers.parse("the echo service received no {header}"))
def received_none(world: World, header: str) -> None:
    assert [v for name, v in world.received if name == header.lower()] == []
