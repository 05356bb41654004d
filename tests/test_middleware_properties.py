"""Arbitrary header bytes never break the middleware's invariants."""

from __future__ import annotations

import asyncio
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Message

from starlette_correlate import (
    ContextStore,
    CorrelationMiddleware,
    correlation_id_var,
    get_correlation_id,
    is_safe_id,
)
from tests.support.asgi import call_app, http_scope

store = ContextStore()


async def echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(get_correlation_id() or "")


app = Starlette(routes=[Route("/", echo)])
app.add_middleware(CorrelationMiddleware, store=store)

header_values = st.lists(st.binary(max_size=300), min_size=0, max_size=3)
other_headers = st.lists(
    st.tuples(st.binary(min_size=1, max_size=20), st.binary(max_size=50)), max_size=5
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(values=header_values, noise=other_headers)
def test_any_incoming_bytes_yield_one_safe_id_and_no_leak(
    values: list[bytes], noise: list[tuple[bytes, bytes]]
) -> None:
    headers = [(b"x-request-id", value) for value in values] + [
        (name.lower(), value)
        for name, value in noise
        if name.lower() != b"x-request-id"
    ]

    async def exchange() -> tuple[list[Message], str | None]:
        messages = await call_app(app, http_scope("/", headers=headers))
        return messages, correlation_id_var.get()

    messages, after = asyncio.run(exchange())
    start = messages[0]
    assert start["type"] == "http.response.start"
    assert start["status"] == 200
    ids = [v for k, v in start["headers"] if k == b"x-request-id"]
    assert len(ids) == 1
    chosen = ids[0].decode("ascii")
    assert is_safe_id(chosen)
    body = b"".join(m.get("body", b"") for m in messages[1:])
    assert body.decode() == chosen
    if len(values) == 1 and chosen == values[0].decode("latin-1"):
        assert is_safe_id(values[0].decode("latin-1"))
    else:
        assert uuid.UUID(chosen).version == 7
    assert after is None
    assert len(store) == 0
