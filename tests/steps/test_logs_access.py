"""Steps for features/logs_access.feature: one access line per request."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route
from starlette.types import Message

from starlette_correlate import CorrelationIdFilter, CorrelationMiddleware
from starlette_correlate.fields import bind_fields
from starlette_correlate.logs import ACCESS_LOGGER, AccessLogMiddleware
from tests.support.asgi import http_scope, run
from tests.support.logparse import LineCollector, on_logger

scenarios("logs_access.feature")

app_logger = logging.getLogger("tests.access.app")


async def hello(request: Request) -> PlainTextResponse:
    bind_fields(user_id="u-hello")
    app_logger.info("saying hello")
    return PlainTextResponse("hello")


async def stream(request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for index in range(3):
            await asyncio.sleep(0)
            app_logger.info("chunk %d", index)
            yield f"chunk {index}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


async def boom(request: Request) -> PlainTextResponse:
    raise RuntimeError("the endpoint failed")


async def upload(request: Request) -> PlainTextResponse:
    body = await request.body()  # raises ClientDisconnect if the client left
    return PlainTextResponse(f"{len(body)} bytes")


async def wait(request: Request) -> PlainTextResponse:
    # Answer once the client is gone, as a slow handler would; a server
    # silently drops the response (uvicorn does).
    message = await request.receive()
    assert message["type"] == "http.disconnect"
    return PlainTextResponse("too late")


def build(access_log: bool) -> Starlette:
    app = Starlette(
        routes=[
            Route("/hello", hello),
            Route("/stream", stream),
            Route("/boom", boom),
            Route("/upload", upload, methods=["POST"]),
            Route("/wait", wait),
        ]
    )
    app.add_middleware(CorrelationMiddleware, access_log=access_log)
    return app


@dataclass
class World:
    collector: LineCollector = field(default_factory=LineCollector)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    app: Starlette | None = None
    response: httpx.Response | None = None

    def access_records(self) -> list[logging.LogRecord]:
        return [r for r in self.collector.records if r.name == ACCESS_LOGGER]

    def access(self) -> dict[str, Any]:
        (record,) = self.access_records()
        return record.__dict__


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    world.collector.addFilter(CorrelationIdFilter())
    with world.stack:
        world.stack.enter_context(on_logger(world.collector))
        yield world


@given("an app with the access log on and a filtered handler on the root logger")
def access_on(world: World) -> None:
    world.app = build(access_log=True)


@given("an app with the access log off")
def access_off(world: World) -> None:
    world.app = build(access_log=False)


def get(world: World, path: str, headers: dict[str, str] | None = None) -> None:
    assert world.app is not None
    app = world.app

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t"
        ) as client:
            return await client.get(path, headers=headers)

    world.response = run(call)


@when(parsers.parse('a client calls "{path}" with the header X-Request-ID "{cid}"'))
def client_calls(world: World, path: str, cid: str) -> None:
    get(world, path, {"X-Request-ID": cid})


@when(parsers.parse('a client calls "{path}" and the app raises'))
def client_calls_failing(world: World, path: str) -> None:
    get(world, path)


@when(parsers.parse('the client of "{path}" disconnects after the first chunk'))
def client_disconnects(world: World, path: str) -> None:
    assert world.app is not None
    app = world.app
    sent: list[Message] = []
    requested: list[bool] = []

    async def call() -> None:
        first_chunk = asyncio.Event()

        async def receive() -> Message:
            if not requested:
                requested.append(True)
                return {"type": "http.request", "body": b""}
            await first_chunk.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and message.get("body"):
                first_chunk.set()
                # Leave the app a moment to notice the disconnect, as a
                # server's slow socket would.
                await asyncio.sleep(0.01)

        await app(http_scope(path), receive, send)

    run(call)
    assert any(m["type"] == "http.response.start" for m in sent)
    assert not any(
        m["type"] == "http.response.body" and not m.get("more_body", False)
        for m in sent
    )


def drive(
    world: World,
    scope: dict[str, Any],
    incoming: list[Message],
    *,
    failing_send: bool = False,
) -> list[Message]:
    """Run the app on ``scope``: ``incoming``, then ``http.disconnect``."""
    assert world.app is not None
    app = world.app
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if failing_send:
            raise OSError("client disconnected")
        sent.append(message)

    async def call() -> None:
        # A gone client makes the app raise: OSError from send, or
        # Starlette's ClientDisconnect from reading the body.
        with contextlib.suppress(OSError, ClientDisconnect):
            await app(scope, receive, send)

    run(call)
    return sent


@when(
    parsers.parse(
        'a client announces a body of {size:d} bytes to "{path}", sends {sent:d} '
        "and goes away"
    )
)
def dropped_upload(world: World, size: int, path: str, sent: int) -> None:
    scope = http_scope(path, headers=[(b"content-length", str(size).encode())])
    scope["method"] = "POST"
    chunk: Message = {"type": "http.request", "body": b"x" * sent, "more_body": True}
    drive(world, scope, [chunk])


@when(parsers.parse('the client of "{path}" goes away before the response'))
def gone_before_response(world: World, path: str) -> None:
    messages = drive(world, http_scope(path), [])
    # The app did answer, into a closed connection.
    assert any(m["type"] == "http.response.start" for m in messages)


@when(parsers.parse('the server fails the first send of "{path}" with OSError'))
def failing_first_send(world: World, path: str) -> None:
    drive(
        world,
        http_scope(path),
        [{"type": "http.request", "body": b""}],
        failing_send=True,
    )


@then("there is exactly one access line")
def one_line(world: World) -> None:
    assert len(world.access_records()) == 1


@then("there is no access line")
def no_line(world: World) -> None:
    assert world.access_records() == []


@then(
    parsers.parse(
        'the access line has method "{method}", path "{path}", status {status:d} '
        'and request_id "{cid}"'
    )
)
def line_fields(world: World, method: str, path: str, status: int, cid: str) -> None:
    line = world.access()
    assert (line["method"], line["path"], line["status"], line["request_id"]) == (
        method,
        path,
        status,
        cid,
    )
    assert "incomplete" not in line
    assert world.response is not None
    assert world.response.headers["x-request-id"] == cid


@then("the access line has the client address and a duration in milliseconds")
def line_client_duration(world: World) -> None:
    line = world.access()
    assert line["client"] == "127.0.0.1:123"
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert line["msg"] == '%s "%s %s" %d %.1fms'


@then(
    parsers.parse(
        'the access line carries the field user_id "{user}" bound by the handler'
    )
)
def line_field(world: World, user: str) -> None:
    assert world.access()["user_id"] == user


@then(parsers.parse("the response status is {status:d}"))
def response_status(world: World, status: int) -> None:
    assert world.response is not None
    assert world.response.status_code == status


@then("the access line has status 500 and the response's request_id")
def line_500(world: World) -> None:
    assert world.response is not None
    line = world.access()
    assert line["status"] == 500
    assert "incomplete" not in line
    assert line["request_id"] == world.response.headers["x-request-id"]
    assert world.response.json()["request_id"] == line["request_id"]


@then("the access line comes after the line of the last chunk")
def after_last_chunk(world: World) -> None:
    records = world.collector.records
    chunk = world.collector.by_message("chunk 2")
    (access,) = world.access_records()
    assert records.index(chunk) < records.index(access)
    assert chunk.__dict__["request_id"] == world.access()["request_id"]


@then("the access line has status 200 and is marked incomplete")
def line_incomplete(world: World) -> None:
    line = world.access()
    assert (line["status"], line["incomplete"]) == (200, True)
    assert line["request_id"] != "-"


@then("the access line has status 499 and is marked incomplete")
def line_closed(world: World) -> None:
    line = world.access()
    assert (line["status"], line["incomplete"]) == (499, True)
    assert line["request_id"] != "-"


@then("the middleware calls the app directly")
def no_wrapper() -> None:
    inner = Starlette()
    plain = CorrelationMiddleware(inner)
    assert plain.app is inner
    assert plain._access_log is None
    logged = CorrelationMiddleware(inner, access_log=True)
    # With the access log on, the request's responder (which answers a 500)
    # runs inside it, so its line shows the status sent; the app is the same.
    assert isinstance(logged._access_log, AccessLogMiddleware)
    assert logged.app is inner
