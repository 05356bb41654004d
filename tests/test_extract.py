"""Extractors on WebSocket handshakes, and the cost-free default."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Scope, Send

from starlette_correlate import CorrelationMiddleware, from_header, get_fields
from starlette_correlate.config import CorrelationConfig
from starlette_correlate.features import build_features
from tests.support.asgi import http_scope


def test_a_websocket_handshake_gets_its_fields() -> None:
    seen: list[dict[str, str]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        seen.append(dict(get_fields()))
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})

    middleware = CorrelationMiddleware(
        app, extractors={"session_id": from_header("X-Session-ID")}
    )
    scope = http_scope(
        "/ws", headers=[(b"x-session-id", b"s-ws")], scope_type="websocket"
    )
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    assert seen == [{"session_id": "s-ws"}]
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]


def test_no_options_means_no_feature() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    middleware = CorrelationMiddleware(app)
    assert middleware._features == ()
    assert middleware._trace is None
    assert build_features(CorrelationConfig(extractors={})) == (None, ())
    trace, features = build_features(CorrelationConfig(adopt_trace_id=True))
    assert trace is not None
    assert features == (trace,)
