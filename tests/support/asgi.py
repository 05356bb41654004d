"""Drive an ASGI app directly, for paths a client library cannot reach."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.types import ASGIApp, Message


def http_scope(
    path: str = "/",
    headers: Iterable[tuple[bytes, bytes]] = (),
    client: tuple[str, int] | None = ("127.0.0.1", 50000),
    scope_type: str = "http",
) -> dict[str, Any]:
    """Return a fresh HTTP (or WebSocket) scope for ``path``."""
    return {
        "type": scope_type,
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http" if scope_type == "http" else "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": list(headers),
        "client": client,
        "server": ("127.0.0.1", 8000),
    }


async def call_app(
    app: ASGIApp,
    scope: dict[str, Any],
    incoming: Iterable[Message] = ({"type": "http.request", "body": b""},),
    *,
    disconnect_after_first_body: bool = False,
) -> list[Message]:
    """Run ``app`` on ``scope``; return the messages it sent.

    Feeds ``incoming`` then ``http.disconnect``. With
    ``disconnect_after_first_body``, sending fails like a gone client after
    the first body chunk.
    """
    queue = list(incoming)
    sent: list[Message] = []
    gone = asyncio.Event()

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            if disconnect_after_first_body:
                gone.set()
                raise OSError("client disconnected")
            if not message.get("more_body", False):
                gone.set()

    await app(scope, receive, send)
    return sent


def run(coroutine_function: Callable[[], Awaitable[Any]]) -> Any:
    """Run an async step body from a synchronous pytest-bdd step."""

    async def main() -> Any:
        return await coroutine_function()

    return asyncio.run(main())
