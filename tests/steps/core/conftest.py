"""Step definitions for the core lifecycle features (features/core_*.feature)."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, then, when
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send
from websockets.sync.client import connect as websocket_connect

from starlette_correlate import (
    ContextStore,
    CorrelationCore,
    CorrelationMiddleware,
    correlation_id_var,
    get_correlation_id,
    is_uuid,
)
from starlette_correlate.logs import CorrelationIdFilter
from tests.support.apps import Probe, build_app
from tests.support.asgi import call_app, http_scope
from tests.support.servers import serve_in_thread

_UNSEEN = "<not observed>"


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
    client_context_id: str | None = _UNSEEN
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


@pytest.fixture
def world() -> Iterator[World]:
    with contextlib.ExitStack() as stack:
        yield World(stack=stack)


def _take_response(world: World, response: httpx.Response) -> None:
    world.status = response.status_code
    world.headers = [
        (name.decode("latin-1").lower(), value.decode("latin-1"))
        for name, value in response.headers.raw
    ]
    world.body = response.content


def _take_messages(world: World, messages: list[Message]) -> None:
    for message in messages:
        if message["type"] == "http.response.start":
            world.status = message["status"]
            world.headers = [
                (name.decode("latin-1").lower(), value.decode("latin-1"))
                for name, value in message.get("headers", [])
            ]
        elif message["type"] == "http.response.body":
            world.body += message.get("body", b"")


def _request(
    world: World, path: str, headers: dict[str, str], *, raise_exceptions: bool = False
) -> None:
    if world.server_url is not None:
        with httpx.Client(base_url=world.server_url) as client:
            _take_response(world, client.get(path, headers=headers))
        return
    app = world.app or world.build()

    async def exchange() -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_exceptions)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t"
        ) as client:
            try:
                _take_response(world, await client.get(path, headers=headers))
            except Exception as exc:
                world.error = exc
        # httpx.ASGITransport runs the app in this very task: a leak shows here.
        world.client_context_id = correlation_id_var.get()

    asyncio.run(exchange())


# Given ---------------------------------------------------------------------


@given("the probe app behind the correlation middleware")
def _probe_app(world: World) -> None:
    world.build()


@given("the probe app with the option validator is_uuid")
def _with_validator(world: World) -> None:
    world.options["validator"] = is_uuid
    world.build()


@given(parsers.parse('the probe app with trusted sources "{sources}"'))
def _with_trusted(world: World, sources: str) -> None:
    world.options["trusted_sources"] = [s.strip() for s in sources.split(",")]
    world.build()


@given("the probe app with a custom error response")
def _with_custom_error(world: World) -> None:
    def custom(
        request: Request, exc: Exception, correlation_id: str
    ) -> PlainTextResponse:
        return PlainTextResponse(
            f"custom failure for {correlation_id}", status_code=500
        )

    world.options["error_response"] = custom
    world.build()


@given("the probe app in debug mode")
def _debug_app(world: World) -> None:
    world.build().debug = True


@given("the app is served by uvicorn on 127.0.0.1")
def _served(world: World) -> None:
    app = world.app or world.build()
    world.server_url = world.stack.enter_context(serve_in_thread(app))


@given(parsers.parse('a log handler with the correlation filter captures "{name}"'))
def _capture(world: World, name: str) -> None:
    handler = ListHandler()
    handler.addFilter(CorrelationIdFilter())
    logger = logging.getLogger(name)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    world.handler = handler

    def detach() -> None:
        logger.removeHandler(handler)
        logger.setLevel(old_level)

    world.stack.callback(detach)


@given("an app whose lifespan fails at startup behind the middleware")
def _failing_lifespan(world: World) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield  # pragma: no cover

    app = Starlette(lifespan=lifespan)
    app.add_middleware(CorrelationMiddleware, store=world.store)
    world.app = app


@given("a correlation core with its own context store")
def _core(world: World) -> None:
    world.core = CorrelationCore(store=world.store)

    def release_everything() -> None:
        # A failed scenario must not leave its ID in the test's own context.
        for key in ("r1", "outer", "inner", "hop"):
            world.store.release(key)

    world.stack.callback(release_everything)


# When ----------------------------------------------------------------------


@when(parsers.parse('a client sends GET "{path}" with X-Request-ID "{cid}"'))
@when(parsers.parse('an HTTP client sends GET "{path}" with X-Request-ID "{cid}"'))
def _send_with_id(world: World, path: str, cid: str) -> None:
    _request(world, path, {"X-Request-ID": cid})


@when(parsers.parse('a client sends GET "{path}" with header "{name}" "{value}"'))
def _send_with_header(world: World, path: str, name: str, value: str) -> None:
    _request(world, path, {name: value})


@when(parsers.parse('a client sends GET "{path}" without an ID header'))
@when(parsers.parse('an HTTP client sends GET "{path}" without an ID header'))
def _send_without_id(world: World, path: str) -> None:
    _request(world, path, {})


@when(parsers.parse('a client that raises app exceptions sends GET "{path}"'))
def _send_raising(world: World, path: str) -> None:
    _request(world, path, {}, raise_exceptions=True)


def _raw_request(
    world: World,
    headers: list[tuple[bytes, bytes]],
    client: tuple[str, int] = ("127.0.0.1", 40000),
) -> None:
    app = world.app or world.build()

    async def exchange() -> None:
        scope = http_scope("/async", headers=headers, client=client)
        _take_messages(world, await call_app(app, scope))
        world.client_context_id = correlation_id_var.get()

    asyncio.run(exchange())


@when(parsers.parse("the raw header X-Request-ID {value} reaches the app"))
def _raw_hostile(world: World, value: str) -> None:
    repeated = re.fullmatch(r'(\d+) times "(.)"', value)
    if repeated:
        text = repeated.group(2) * int(repeated.group(1))
    else:
        text = ast.literal_eval(value)
    world.raw_value = text.encode("latin-1")
    _raw_request(world, [(b"x-request-id", world.raw_value)])


@when(
    parsers.parse(
        'the raw header X-Request-ID is sent twice with "{first}" and "{second}"'
    )
)
def _raw_twice(world: World, first: str, second: str) -> None:
    _raw_request(
        world, [(b"x-request-id", first.encode()), (b"x-request-id", second.encode())]
    )


@when(parsers.parse('a raw app answers with its own header "{name}" "{value}"'))
def _raw_app_own_header(world: World, name: str, value: str) -> None:
    # Starlette lowercases the names of its responses; a raw app may not.
    async def own_header(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/plain"), (name.encode(), value.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    app = CorrelationMiddleware(own_header, store=world.store)

    async def exchange() -> None:
        _take_messages(world, await call_app(app, http_scope("/")))

    asyncio.run(exchange())


@when(parsers.parse('the client {ip} sends X-Request-ID "{cid}"'))
def _from_client(world: World, ip: str, cid: str) -> None:
    world.raw_value = cid.encode()
    _raw_request(world, [(b"x-request-id", cid.encode())], client=(ip, 40000))


@when(parsers.parse('the client disconnects after the first chunk of "{path}"'))
def _disconnect(world: World, path: str) -> None:
    app = world.app or world.build()

    async def exchange() -> None:
        try:
            await call_app(app, http_scope(path), disconnect_after_first_body=True)
        except Exception as exc:
            world.error = exc
        world.client_context_id = correlation_id_var.get()

    asyncio.run(exchange())


@when(parsers.parse('a request to "{path}" is cancelled while its handler waits'))
def _cancel(world: World, path: str) -> None:
    app = world.app or world.build()

    async def run_and_observe() -> None:
        try:
            scope = http_scope(path, headers=[(b"x-request-id", b"cancel-me")])
            await call_app(app, scope)
        finally:
            world.client_context_id = correlation_id_var.get()

    async def exchange() -> None:
        task = asyncio.create_task(run_and_observe())
        for _ in range(1000):
            if world.probe.ids_at("slow"):
                break
            await asyncio.sleep(0.001)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(exchange())


@when(
    parsers.parse(
        "{count:d} requests run concurrently in process, each with its own ID"
    )
)
def _concurrent_in_process(world: World, count: int) -> None:
    app = world.app or world.build()

    async def one(client: httpx.AsyncClient, index: int) -> None:
        marker = f"iso-{index}"
        response = await client.get(
            "/async",
            params={"marker": marker, "hops": "5"},
            headers={"X-Request-ID": marker},
        )
        assert response.headers["x-request-id"] == marker
        assert response.json()["id"] == marker

    async def exchange() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t"
        ) as client:
            await asyncio.gather(*(one(client, index) for index in range(count)))

    asyncio.run(exchange())
    world.options["expected_requests"] = count


@when(
    parsers.parse("{count:d} requests run concurrently over HTTP, each with its own ID")
)
def _concurrent_http(world: World, count: int) -> None:
    assert world.server_url is not None

    async def one(client: httpx.AsyncClient, index: int) -> None:
        marker = f"iso-http-{index}"
        response = await client.get(
            "/async",
            params={"marker": marker, "hops": "5"},
            headers={"X-Request-ID": marker},
        )
        assert response.headers["x-request-id"] == marker

    async def exchange() -> None:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(
            base_url=world.server_url or "", limits=limits
        ) as client:
            await asyncio.gather(*(one(client, index) for index in range(count)))

    asyncio.run(exchange())
    world.options["expected_requests"] = count


@when(
    parsers.parse(
        'a WebSocket client connects to "{path}" with X-Request-ID "{cid}" '
        'and sends "{text}"'
    )
)
def _websocket_in_process(world: World, path: str, cid: str, text: str) -> None:
    app = world.app or world.build()
    incoming: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": text},
    ]

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(0)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        world.ws_messages.append(message)

    async def exchange() -> None:
        scope = http_scope(
            path, headers=[(b"x-request-id", cid.encode())], scope_type="websocket"
        )
        await app(scope, receive, send)
        world.client_context_id = correlation_id_var.get()

    asyncio.run(exchange())
    replies = [m["text"] for m in world.ws_messages if m["type"] == "websocket.send"]
    world.ws_reply = replies[0] if replies else None


@when(
    parsers.parse(
        'a websockets client connects over HTTP to "{path}" with X-Request-ID "{cid}" '
        'and sends "{text}"'
    )
)
def _websocket_real(world: World, path: str, cid: str, text: str) -> None:
    assert world.server_url is not None
    url = world.server_url.replace("http://", "ws://") + path
    with websocket_connect(url, additional_headers={"X-Request-ID": cid}) as socket:
        assert socket.response is not None
        world.headers = [(k.lower(), v) for k, v in socket.response.headers.raw_items()]
        socket.send(text)
        reply = socket.recv(timeout=5)
        world.ws_reply = reply if isinstance(reply, str) else reply.decode()


@when("the server runs the lifespan protocol")
def _lifespan(world: World) -> None:
    assert world.app is not None
    app = world.app
    incoming: list[Message] = [{"type": "lifespan.startup"}]

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)
        return {"type": "lifespan.shutdown"}  # pragma: no cover

    async def send(message: Message) -> None:
        world.lifespan_messages.append(message)

    async def exchange() -> None:
        try:
            await app(
                {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                receive,
                send,
            )
        except Exception as exc:
            world.error = exc

    asyncio.run(exchange())


@when(
    parsers.parse('the request phase runs for request "{key}" with incoming ID "{cid}"')
)
def _request_phase(world: World, key: str, cid: str) -> None:
    assert world.core is not None
    assert world.core.request_phase(key, cid) == cid


@when(parsers.parse('the response phase runs for request "{key}"'))
@when(parsers.parse('the response phase runs for request "{key}" again'))
def _response_phase(world: World, key: str) -> None:
    assert world.core is not None
    world.phase_results.append(world.core.response_phase(key))


@when(
    parsers.parse(
        'the request phase runs in a thread\'s context for request "{key}" '
        'with incoming ID "{cid}"'
    )
)
def _request_phase_in_thread(world: World, key: str, cid: str) -> None:
    assert world.core is not None
    core = world.core
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(context.run, core.request_phase, key, cid).result() == cid
    world.contexts["request"] = context
    world.options["key"] = key


@when("the response phase runs in a copy of that context made after the request phase")
def _response_phase_in_copy(world: World) -> None:
    assert world.core is not None
    copy = world.contexts["request"].copy()
    world.contexts["response"] = copy
    try:
        world.phase_results.append(
            copy.run(world.core.response_phase, world.options["key"])
        )
    except Exception as exc:
        world.error = exc


@when(
    parsers.parse(
        'the response phase runs in a fresh context that holds the ID "{cid}"'
    )
)
def _response_phase_in_other(world: World, cid: str) -> None:
    assert world.core is not None
    other = contextvars.Context()
    other.run(correlation_id_var.set, cid)
    world.contexts["response"] = other
    try:
        world.phase_results.append(
            other.run(world.core.response_phase, world.options["key"])
        )
    except Exception as exc:
        world.error = exc


# Then ----------------------------------------------------------------------


@then(parsers.parse("the response status is {status:d}"))
def _status(world: World, status: int) -> None:
    assert world.status == status, world.body


@then(parsers.parse('the response header X-Request-ID is "{cid}"'))
def _header_is(world: World, cid: str) -> None:
    assert world.ids == [cid]


@then(parsers.parse('the response header X-Request-ID is not "{cid}"'))
def _header_is_not(world: World, cid: str) -> None:
    assert len(world.ids) == 1
    assert world.ids[0] != cid


@then("the response header X-Request-ID is a UUID of version 7")
def _header_uuid7(world: World) -> None:
    assert len(world.ids) == 1
    assert uuid.UUID(world.ids[0]).version == 7


@then("the response carries a fresh generated ID exactly once")
def _fresh_id(world: World) -> None:
    assert len(world.ids) == 1
    assert uuid.UUID(world.ids[0]).version == 7
    assert world.ids[0].encode() != world.raw_value


@then("the hostile value appears nowhere in the response")
def _not_echoed(world: World) -> None:
    raw = world.raw_value
    if raw.strip():
        assert raw not in world.body
        assert all(raw not in value.encode("latin-1") for _, value in world.headers)


@then(parsers.parse('every ID recorded at "{place}" is "{cid}"'))
def _recorded_is(world: World, place: str, cid: str) -> None:
    seen = world.probe.ids_at(place)
    assert seen, f"nothing was recorded at {place}"
    assert set(seen) == {cid}


@then(parsers.parse('every ID recorded at "{place}" is the response\'s ID'))
def _recorded_is_response(world: World, place: str) -> None:
    assert len(world.ids) == 1
    _recorded_is(world, place, world.ids[0])


@then(parsers.parse('every ID recorded at "{place}" is the same generated ID'))
def _recorded_same(world: World, place: str) -> None:
    seen = world.probe.ids_at(place)
    assert seen
    assert len(set(seen)) == 1
    only = seen[0]
    assert only is not None
    assert uuid.UUID(only).version == 7


@then(parsers.parse('the response JSON field "{name}" is "{value}"'))
def _json_field(world: World, name: str, value: str) -> None:
    assert json.loads(world.body)[name] == value


@then(parsers.re(r'the response body mentions "(?P<text>[^"]+)" (?P<count>\d+) times$'))
def _mentions_exactly(world: World, text: str, count: str) -> None:
    assert world.body.decode().count(text) == int(count)


@then(
    parsers.re(
        r'the response body mentions "(?P<text>[^"]+)" (?P<count>\d+) times or more'
    )
)
def _mentions_at_least(world: World, text: str, count: str) -> None:
    assert world.body.decode().count(text) >= int(count)


@then(parsers.parse('the response body is "{text}"'))
def _body_is(world: World, text: str) -> None:
    assert world.body.decode() == text


@then(parsers.parse('the captured record "{message}" has request_id "{cid}"'))
def _captured(world: World, message: str, cid: str) -> None:
    assert world.handler is not None
    handler = world.handler
    # A server logs the traceback after the client already has the 500.
    deadline = time.monotonic() + 5
    while True:
        records = [r for r in handler.records if r.getMessage().startswith(message)]
        if records or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert records, [r.getMessage() for r in handler.records]
    assert [getattr(r, "request_id", None) for r in records] == [cid] * len(records)


@then("the response asks the client to close the connection")
def _connection_close(world: World) -> None:
    assert ("connection", "close") in world.headers


@then("exactly one captured record has a traceback")
def _one_traceback(world: World) -> None:
    assert world.handler is not None
    assert len([r for r in world.handler.records if r.exc_info]) == 1


@then("the correlation ID is unset in the client's context")
def _unset_in_client(world: World) -> None:
    assert world.client_context_id != _UNSEEN, "the step did not observe the context"
    assert world.client_context_id is None


@then("the context store is empty")
def _store_empty(world: World) -> None:
    assert len(world.store) == 0


@then(parsers.parse("the response has {count:d} set-cookie headers"))
def _cookies(world: World, count: int) -> None:
    assert len([1 for name, _ in world.headers if name == "set-cookie"]) == count


@then(parsers.parse("the response has exactly {count:d} X-Request-ID header"))
def _id_header_count(world: World, count: int) -> None:
    assert len(world.ids) == count


@then(parsers.parse('the client sees the RuntimeError "{message}"'))
def _client_error(world: World, message: str) -> None:
    assert isinstance(world.error, RuntimeError)
    assert str(world.error) == message


@then("every request saw only its own ID at every point")
def _isolated(world: World) -> None:
    rows = [
        (marker, cid) for place, marker, cid in world.probe.seen if place == "async"
    ]
    assert len(rows) == world.options["expected_requests"] * 6
    assert all(marker == cid for marker, cid in rows)


@then(parsers.parse('the accept headers carry X-Request-ID "{cid}"'))
def _accept_headers(world: World, cid: str) -> None:
    accepts = [m for m in world.ws_messages if m["type"] == "websocket.accept"]
    assert len(accepts) == 1
    assert accepts[0]["headers"] == [(b"x-request-id", cid.encode())]


@then(parsers.parse('the WebSocket reply is "{text}"'))
def _ws_reply(world: World, text: str) -> None:
    assert world.ws_reply == text


@then(parsers.parse('the handshake response header X-Request-ID is "{cid}"'))
def _handshake_header(world: World, cid: str) -> None:
    assert world.ids == [cid]


@then(parsers.parse('after the server stops the lifespan saw "{first}" and "{second}"'))
def _lifespan_events(world: World, first: str, second: str) -> None:
    world.stack.close()
    assert world.probe.lifespan_events == [first, second]


@then(parsers.parse('the server receives "{kind}" with the message "{text}"'))
def _lifespan_failed(world: World, kind: str, text: str) -> None:
    failed = [m for m in world.lifespan_messages if m["type"] == kind]
    assert len(failed) == 1
    assert text in failed[0].get("message", "")


@then(parsers.parse('the current correlation ID is "{cid}"'))
def _current_is(cid: str) -> None:
    assert get_correlation_id() == cid


@then("the current correlation ID is unset")
def _current_unset() -> None:
    assert get_correlation_id() is None


@then(parsers.parse("the store holds {count:d} entry"))
@then(parsers.parse("the store holds {count:d} entries"))
def _store_holds(world: World, count: int) -> None:
    assert len(world.store) == count


@then("the second response phase reports nothing to reset")
def _second_phase(world: World) -> None:
    assert world.phase_results == [True, False]


@then("the response phase reports nothing to reset")
def _phase_nothing(world: World) -> None:
    assert world.phase_results == [False]


@then("no error reached the host")
def _no_error(world: World) -> None:
    assert world.error is None
    assert world.phase_results == [True]


@then("the copy's correlation ID is unset")
def _copy_unset(world: World) -> None:
    assert world.contexts["response"].get(correlation_id_var) is None


@then(parsers.parse('that context\'s correlation ID is still "{cid}"'))
def _other_untouched(world: World, cid: str) -> None:
    assert world.contexts["response"].get(correlation_id_var) == cid
