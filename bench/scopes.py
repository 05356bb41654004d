"""Synthetic ASGI scopes and receive channels, as a server would make them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from starlette.types import Message, Receive

_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}


def make_scope(
    headers: Sequence[tuple[bytes, bytes]], path: str = "/"
) -> dict[str, Any]:
    """Return a fresh HTTP scope, as a server builds one per request.

    With a ``state`` dict, as uvicorn gives every request (a copy of the
    lifespan state, empty without one).
    """
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": list(headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def receive_request() -> Message:
    """Return an empty request body; enough for endpoints that never wait."""
    return _REQUEST


def server_receive(done: asyncio.Event) -> Receive:
    """Return a ``receive`` that gives the body once, then waits for ``done``.

    Like a server's: after the body it blocks until the response is over
    or the client is gone, then reports ``http.disconnect``. Streaming
    responses listen on it, so it must not return immediately.
    """
    body_sent = False

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return _REQUEST
        await done.wait()
        return {"type": "http.disconnect"}

    return receive
