"""Scenarios of features/core_strict.feature and the steps only they use."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.types import Message

from starlette_correlate import CorrelationConfig
from tests.support.asgi import http_scope
from tests.support.core_world import World

scenarios("core_strict.feature")


# Given ---------------------------------------------------------------------


@given(parsers.parse('the probe app with the option on_invalid "{value}"'))
def _with_on_invalid(world: World, value: str) -> None:
    world.options["on_invalid"] = value
    world.build()


# When ----------------------------------------------------------------------


def _websocket(world: World, cid: str, *, denial: bool) -> None:
    app = world.app or world.build()
    incoming: list[Message] = [{"type": "websocket.connect"}]

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(0)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        world.ws_messages.append(message)

    scope = http_scope(
        "/ws", headers=[(b"x-request-id", cid.encode())], scope_type="websocket"
    )
    if denial:
        scope["extensions"] = {"websocket.http.response": {}}
    asyncio.run(app(scope, receive, send))


@when(parsers.parse('a WebSocket client connects to "/ws" with X-Request-ID "{cid}"'))
def _ws_with_denial(world: World, cid: str) -> None:
    _websocket(world, cid, denial=True)


@when(
    parsers.parse(
        'a WebSocket without the denial extension connects with X-Request-ID "{cid}"'
    )
)
def _ws_without_denial(world: World, cid: str) -> None:
    _websocket(world, cid, denial=False)


@when(parsers.parse('the middleware is configured with on_invalid "{value}"'))
def _configure(world: World, value: str) -> None:
    with pytest.raises(ValueError, match="on_invalid") as caught:
        CorrelationConfig(on_invalid=value)  # type: ignore[arg-type]
    world.error = caught.value


# Then ----------------------------------------------------------------------


@then(parsers.parse('the response JSON names that ID and the reason "{reason}"'))
def _json_names(world: World, reason: str) -> None:
    body = json.loads(world.body)
    assert body["request_id"] == world.ids[0]
    assert body["reason"] == reason


@then("the handshake is denied with a 400 that carries a fresh ID")
def _denied(world: World) -> None:
    start, body = world.ws_messages
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 400
    ids = [v.decode() for k, v in start["headers"] if k == b"x-request-id"]
    assert len(ids) == 1
    assert uuid.UUID(ids[0]).version == 7
    assert json.loads(body["body"])["request_id"] == ids[0]


@then(parsers.parse("the socket is closed with code {code:d} before it is accepted"))
def _closed(world: World, code: int) -> None:
    assert world.ws_messages == [{"type": "websocket.close", "code": code}]


@then("the error names on_invalid and its two values")
def _error_names(world: World) -> None:
    message = str(world.error)
    assert "on_invalid" in message
    assert "'replace'" in message
    assert "'reject'" in message
