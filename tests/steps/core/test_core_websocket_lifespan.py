"""Scenarios of features/core_websocket_lifespan.feature and the steps only they use.

Steps other core features share live in conftest.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from pytest_bdd import given, parsers, scenarios, then, when
from starlette.applications import Starlette
from starlette.types import Message
from websockets.sync.client import connect as websocket_connect

from starlette_correlate import CorrelationMiddleware
from tests.support.asgi import http_scope
from tests.support.core_world import World, observe_client_context

scenarios("core_websocket_lifespan.feature")


# Given ---------------------------------------------------------------------


@given("an app whose lifespan fails at startup behind the middleware")
def _failing_lifespan(world: World) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield  # pragma: no cover

    app = Starlette(lifespan=lifespan)
    app.add_middleware(CorrelationMiddleware, store=world.store)
    world.app = app


# When ----------------------------------------------------------------------


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
        observe_client_context(world)

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


# Then ----------------------------------------------------------------------


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
