"""Scenarios of features/core_request_header.feature and the steps only they use.

The app behind the middleware is a real Starlette app whose endpoints
report what ``request.headers`` (and ``websocket.headers``) hold; requests
are raw ASGI scopes, so hostile bytes reach the middleware as a server
would deliver them.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message
from starlette.websockets import WebSocket

from starlette_correlate import CorrelationMiddleware
from tests.support.asgi import call_app, http_scope
from tests.support.servers import serve_in_thread

scenarios("core_request_header.feature")

_NAMES = ("x-request-id", "x-correlation-id")


@dataclass
class Seen:
    """What the app read and what the client got."""

    options: dict[str, Any] = field(
        default_factory=lambda: {"set_request_header": True}
    )
    read: dict[str, list[str]] = field(default_factory=dict)
    response_id: str | None = None
    sent: bytes = b""


@pytest.fixture
def seen() -> Seen:
    return Seen()


def _app(options: dict[str, Any]) -> Starlette:
    async def headers(request: Request) -> JSONResponse:
        return JSONResponse({name: request.headers.getlist(name) for name in _NAMES})

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        read = {name: websocket.headers.getlist(name) for name in _NAMES}
        await websocket.send_text(json.dumps(read))
        await websocket.close()

    app = Starlette(
        routes=[Route("/headers", headers), WebSocketRoute("/socket", socket)]
    )
    app.add_middleware(CorrelationMiddleware, **options)
    return app


def _request(seen: Seen, headers: list[tuple[bytes, bytes]]) -> None:
    seen.sent = b"".join(value for _, value in headers)
    app = _app(seen.options)
    messages = asyncio.run(call_app(app, http_scope("/headers", headers=headers)))
    for message in messages:
        if message["type"] == "http.response.start":
            ids = [v for n, v in message["headers"] if n == b"x-request-id"]
            assert len(ids) == 1, message["headers"]
            seen.response_id = ids[0].decode("latin-1")
        elif message["type"] == "http.response.body":
            seen.read = json.loads(message["body"])


# Given ---------------------------------------------------------------------


@given(
    "an app that reads its ID headers, behind the middleware with set_request_header"
)
def _background() -> None:
    """The app is built per request, from ``seen.options``."""


@given(parsers.parse('the option incoming_headers "{names}"'))
def _incoming(seen: Seen, names: str) -> None:
    seen.options["incoming_headers"] = [name.strip() for name in names.split(",")]


@given("the app without set_request_header")
def _off(seen: Seen) -> None:
    del seen.options["set_request_header"]


# When ----------------------------------------------------------------------


@when("a client sends a request without an ID header")
def _without(seen: Seen) -> None:
    _request(seen, [(b"accept", b"*/*")])


@when(parsers.re(r'a client sends the raw X-Request-ID (?P<value>".*"|\d+ times ".")'))
def _raw(seen: Seen, value: str) -> None:
    repeated = re.fullmatch(r'(\d+) times "(.)"', value)
    text = (
        repeated.group(2) * int(repeated.group(1))
        if repeated
        else ast.literal_eval(value)
    )
    _request(seen, [(b"x-request-id", text.encode("latin-1"))])


@when(
    parsers.parse('a client sends the raw X-Request-ID twice, "{first}" and "{second}"')
)
def _twice(seen: Seen, first: str, second: str) -> None:
    _request(
        seen, [(b"x-request-id", first.encode()), (b"x-request-id", second.encode())]
    )


@when(
    parsers.parse(
        'a client sends X-Request-ID twice, "{first}" and "{second}", '
        "to the app served by uvicorn"
    )
)
def _twice_served(seen: Seen, first: str, second: str) -> None:
    headers = [("X-Request-ID", first), ("X-Request-ID", second)]
    with (
        serve_in_thread(_app(seen.options)) as url,
        httpx.Client(base_url=url) as client,
    ):
        response = client.get("/headers", headers=headers)
    assert response.status_code == 200, response.text
    (seen.response_id,) = response.headers.get_list("x-request-id")
    seen.read = response.json()


@when(parsers.parse('a client sends a request with {name} "{value}"'))
def _with(seen: Seen, name: str, value: str) -> None:
    _request(seen, [(name.lower().encode(), value.encode())])


@when(parsers.parse('a WebSocket client connects with X-Request-ID "{value}"'))
def _websocket(seen: Seen, value: str) -> None:
    seen.sent = value.encode()
    app = _app(seen.options)
    incoming: list[Message] = [{"type": "websocket.connect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(0)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = http_scope(
        "/socket", headers=[(b"x-request-id", seen.sent)], scope_type="websocket"
    )
    asyncio.run(app(scope, receive, send))
    accept = next(m for m in sent if m["type"] == "websocket.accept")
    ids = [v for n, v in accept["headers"] if n == b"x-request-id"]
    assert len(ids) == 1, accept
    seen.response_id = ids[0].decode("latin-1")
    seen.read = json.loads(
        next(m["text"] for m in sent if m["type"] == "websocket.send")
    )


# Then ----------------------------------------------------------------------


@then("the app read exactly one X-Request-ID, the ID of the response")
@then("the WebSocket read exactly one X-Request-ID, the ID of the handshake")
def _read_response_id(seen: Seen) -> None:
    assert seen.read["x-request-id"] == [seen.response_id]


@then(parsers.parse('the app read exactly one X-Request-ID, "{value}"'))
def _read_value(seen: Seen, value: str) -> None:
    assert seen.read["x-request-id"] == [value]
    assert seen.response_id == value


@then("the app never read the hostile value")
def _never_hostile(seen: Seen) -> None:
    assert seen.sent.decode("latin-1") not in json.dumps(seen.read)


@then(parsers.parse('the app never read "{first}" or "{second}"'))
def _never_either(seen: Seen, first: str, second: str) -> None:
    assert {first, second}.isdisjoint(seen.read["x-request-id"])


@then("the app read no X-Correlation-ID")
def _no_alias(seen: Seen) -> None:
    assert seen.read["x-correlation-id"] == []


@then(parsers.parse('the app read the X-Request-ID values "{first}" and "{second}"'))
def _read_both(seen: Seen, first: str, second: str) -> None:
    assert seen.read["x-request-id"] == [first, second]
