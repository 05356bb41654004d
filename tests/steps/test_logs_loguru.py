"""Steps for features/logs_loguru.feature: real loguru sinks, a real uvicorn."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from loguru import logger
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from starlette_correlate import (
    CorrelationMiddleware,
    bind_fields,
    run_in_executor,
    submit_with_context,
)
from starlette_correlate.integrations.loguru import InterceptHandler, patcher
from tests.support.asgi import run
from tests.support.loguru_server import ROUTE_VARIABLE
from tests.support.servers import ServerProcess, serve_in_subprocess

scenarios("logs_loguru.feature")

stdlib_logger = logging.getLogger("tests.loguru")


async def hello(request: Request) -> PlainTextResponse:
    bind_fields(user_id="u-1")
    logger.info("hello")
    return PlainTextResponse("hello")


async def work(request: Request) -> PlainTextResponse:
    await run_in_executor(None, logger.info, "from run_in_executor")
    with ThreadPoolExecutor(max_workers=1) as pool:
        submit_with_context(pool, logger.info, "from submit_with_context").result()
    return PlainTextResponse(
        "queued", background=BackgroundTask(logger.info, "from a background task")
    )


async def bound(request: Request) -> PlainTextResponse:
    bind_fields(user_id="u-1")
    logger.bind(request_id="mine", user_id="someone").info("bound by hand")
    return PlainTextResponse("bound")


async def stdlib(request: Request) -> PlainTextResponse:
    stdlib_logger.warning("from the stdlib")
    return PlainTextResponse("stdlib")


async def fail(request: Request) -> PlainTextResponse:
    raise RuntimeError("loguru scenario broke in /fail")


app = Starlette(
    routes=[
        Route("/hello", hello),
        Route("/work", work),
        Route("/bound", bound),
        Route("/stdlib", stdlib),
        Route("/fail", fail),
    ]
)
app.add_middleware(CorrelationMiddleware)


@dataclass
class World:
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    sink: io.StringIO = field(default_factory=io.StringIO)
    server: ServerProcess | None = None
    server_output: str = ""
    ids: dict[str, str] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        # serialize=True: one JSON object per line, the record under "record".
        return [
            json.loads(line)["record"]
            for line in self.sink.getvalue().split("\n")
            if line
        ]

    def line(self, message: str) -> dict[str, Any]:
        (found,) = [r for r in self.records() if r["message"] == message]
        return found


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    with world.stack:
        yield world


def _no_patch(record: Any) -> None:
    """Stand in for the patcher once a test is done (loguru keeps one)."""


@given("loguru configured with the correlation patcher and a JSON sink")
def loguru_configured(world: World) -> None:
    logger.configure(patcher=patcher)
    sink_id = logger.add(world.sink, serialize=True, level="DEBUG")
    world.stack.callback(logger.configure, patcher=_no_patch)
    world.stack.callback(logger.remove, sink_id)


@given(parsers.parse('the intercept handler on the stdlib logger "{name}"'))
def intercept_on(world: World, name: str) -> None:
    target = logging.getLogger(name)
    handler = InterceptHandler()
    target.addHandler(handler)
    previous = target.level
    target.setLevel(logging.INFO)
    world.stack.callback(target.setLevel, previous)
    world.stack.callback(target.removeHandler, handler)


def _call(path: str, request_id: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as client:
            return await client.get(path, headers={"X-Request-ID": request_id})

    response: httpx.Response = run(go)
    return response


@when(parsers.parse('a client calls "{path}" with ID "{cid}"'))
def client_calls(path: str, cid: str) -> None:
    response = _call(path, cid)
    assert response.status_code == 200
    assert response.headers["x-request-id"] == cid


@when(
    parsers.parse(
        'a client calls "{path}" with ID "{cid}" and logs the exception it raised'
    )
)
def client_fails(path: str, cid: str) -> None:
    # ASGITransport re-raises the app's exception into the caller, after
    # the middleware has reset the request's context.
    try:
        _call(path, cid)
    except RuntimeError:
        logger.exception("the request failed")
    else:
        pytest.fail("the app did not raise")


@when(parsers.parse('a loguru line "{message}" is logged outside any request'))
def outside(message: str) -> None:
    logger.info(message)


@then(parsers.parse('the loguru line "{message}" has {key} "{value}"'))
def line_has(world: World, message: str, key: str, value: str) -> None:
    assert world.line(message)["extra"][key] == value


@then(parsers.parse('the loguru line "{message}" is at level "{level}"'))
def line_level(world: World, message: str, level: str) -> None:
    assert world.line(message)["level"]["name"] == level


@given("uvicorn serving an app module that routes every logger into loguru")
def uvicorn_loguru(world: World) -> None:
    world.server = world.stack.enter_context(
        serve_in_subprocess(
            "tests.support.loguru_server:app",
            extra_args=["--log-level", "info"],
            env={ROUTE_VARIABLE: "1"},
        )
    )


@when(parsers.parse('a client calls "{first}" and then "{second}" on that server'))
def server_calls(world: World, first: str, second: str) -> None:
    assert world.server is not None
    with httpx.Client(base_url=world.server.url) as client:
        for path, status in ((first, 200), (second, 500)):
            response = client.get(path)
            assert response.status_code == status
            world.ids[path] = response.headers["x-request-id"]
    world.server_output = world.server.stop()


def _server_records(world: World) -> list[dict[str, Any]]:
    # Every line the server printed must be one whole loguru JSON record.
    return [
        json.loads(line)["record"]
        for line in world.server_output.splitlines()
        if line.strip()
    ]


def _server_line(world: World, needle: str) -> dict[str, Any]:
    (found,) = [r for r in _server_records(world) if needle in r["message"]]
    return found


@then(
    parsers.parse(
        'the server\'s loguru line "{message}" carries the ID of its response'
    )
)
def server_line(world: World, message: str) -> None:
    (line,) = [r for r in _server_records(world) if r["message"] == message]
    assert line["extra"]["request_id"] == world.ids["/hello"]


@then(
    parsers.parse(
        'uvicorn\'s access line for "{path}" in loguru carries the ID of its response'
    )
)
def server_access_line(world: World, path: str) -> None:
    line = _server_line(world, f'"GET {path} HTTP/1.1"')
    assert line["extra"]["request_id"] == world.ids[path]


@then(
    'the "Exception in ASGI application" loguru line carries the ID of the 500 response'
)
def server_error_line(world: World) -> None:
    line = _server_line(world, "Exception in ASGI application")
    assert line["extra"]["request_id"] == world.ids["/fail"]
    assert line["level"]["name"] == "ERROR"
    assert line["exception"]["type"] == "RuntimeError"


@then("the loguru traceback was written exactly once")
def server_traceback_once(world: World) -> None:
    assert world.server_output.count("Traceback (most recent call last)") == 1
