"""Regressions found in review: each test failed before its fix."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from starlette_correlate import (
    ContextStore,
    CorrelationIdFilter,
    CorrelationMiddleware,
    TrustedSources,
    correlation_id_from_exception,
    correlation_id_var,
    uuid7,
)
from starlette_correlate.errors import attach_correlation_id
from starlette_correlate.logs.formatters import KeyValueFormatter
from starlette_correlate.traceparent import traceparent_var
from tests.support.asgi import call_app, http_scope

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def test_a_future_traceparent_is_forwarded_in_the_version_we_understood() -> None:
    seen: list[str | None] = []

    async def handler(request: Request) -> PlainTextResponse:
        seen.append(traceparent_var.get())
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", handler)])
    app.add_middleware(CorrelationMiddleware, trace_context=True)
    hostile = f"01-{TRACE}-{PARENT}-01-\xe9\xe9 , x=y".encode("latin-1")
    asyncio.run(call_app(app, http_scope("/", headers=[(b"traceparent", hostile)])))
    assert seen == [f"00-{TRACE}-{PARENT}-01"]


def test_a_reused_start_message_never_carries_another_requests_id() -> None:
    start: dict[str, Any] = {
        "type": "http.response.start",
        "status": 200,
        "headers": [],
    }

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start)
        await send({"type": "http.response.body", "body": b""})

    middleware = CorrelationMiddleware(app)
    ids = []
    for cid in (b"id-A", b"id-B"):
        sent = asyncio.run(
            call_app(middleware, http_scope("/", headers=[(b"x-request-id", cid)]))
        )
        ids.append(dict(sent[0]["headers"])[b"x-request-id"])
    assert ids == [b"id-A", b"id-B"]
    assert start["headers"] == []


def test_the_access_log_does_not_repeat_root_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Starlette(routes=[Route("/items", lambda request: PlainTextResponse("ok"))])
    app.add_middleware(CorrelationMiddleware, access_log=True)
    scope = http_scope("/api/items")
    scope["root_path"] = "/api"
    with caplog.at_level(logging.INFO, logger="starlette_correlate.access"):
        asyncio.run(call_app(app, scope))
    assert [getattr(r, "path", None) for r in caplog.records] == ["/api/items"]


def test_a_generator_that_turns_unsafe_later_falls_back_to_uuid7() -> None:
    answers = iter(["first-ok", "id\u2603"])
    store = ContextStore()
    middleware = CorrelationMiddleware(
        _ok, generator=lambda: next(answers), store=store
    )

    async def exchange() -> tuple[list[Message], str | None]:
        sent = await call_app(middleware, http_scope("/"))
        return sent, correlation_id_var.get()

    sent, after = asyncio.run(exchange())
    chosen = dict(sent[0]["headers"])[b"x-request-id"].decode()
    assert chosen != "id\u2603"
    assert len(chosen) == 36
    assert after is None
    assert len(store) == 0


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def test_the_innermost_request_names_the_exception() -> None:
    exc = RuntimeError("boom")
    attach_correlation_id(exc, "inner")
    attach_correlation_id(exc, "outer")
    assert correlation_id_from_exception(exc) == "inner"
    assert exc.__notes__ == ["correlation ID: inner"]


def test_the_id_is_found_through_an_explicit_cause() -> None:
    inner = ValueError("inner")
    attach_correlation_id(inner, "abc")
    outer = RuntimeError("outer")
    outer.__cause__ = inner
    assert correlation_id_from_exception(outer) == "abc"


def test_a_websocket_denial_response_carries_the_id() -> None:
    async def deny(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send(
            {"type": "websocket.http.response.start", "status": 403, "headers": []}
        )
        await send({"type": "websocket.http.response.body", "body": b"no"})

    middleware = CorrelationMiddleware(deny)
    scope = http_scope(
        "/ws", headers=[(b"x-request-id", b"ws-deny")], scope_type="websocket"
    )
    sent = asyncio.run(call_app(middleware, scope, [{"type": "websocket.connect"}]))
    assert dict(sent[0]["headers"])[b"x-request-id"] == b"ws-deny"


def test_ipv4_mapped_clients_match_ipv4_ranges() -> None:
    trusted = TrustedSources(["10.0.0.0/8"])
    assert "::ffff:10.1.2.3" in trusted
    assert "::ffff:192.0.2.1" not in trusted


def test_a_str_subclass_cannot_forge_a_key_value_line() -> None:
    class Sneaky(str):
        def __str__(self) -> str:
            return "evil\nlevel=ERROR"

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationIdFilter())
    handler.setFormatter(KeyValueFormatter(timestamp=False))
    logger = logging.getLogger("tests.review.kv")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.error("ok", extra={"s": Sneaky("x")})
    finally:
        logger.removeHandler(handler)
    assert len(stream.getvalue().splitlines()) == 1


def test_a_uuid7_is_still_accepted_after_the_changes() -> None:
    async def handler(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", handler)])
    app.add_middleware(CorrelationMiddleware)
    cid = uuid7()

    async def exchange() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return (await c.get("/", headers={"X-Request-ID": cid})).headers[
                "x-request-id"
            ]

    assert asyncio.run(exchange()) == cid


def test_an_http2_500_does_not_say_connection_close() -> None:
    async def boom(request: Request) -> PlainTextResponse:
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/", boom)])
    app.add_middleware(CorrelationMiddleware)
    for version, expected in (("1.1", True), ("2", False)):
        scope = http_scope("/")
        scope["http_version"] = version
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b""}

        async def send(message: Message, sent: list[Message] = sent) -> None:
            sent.append(message)

        with pytest.raises(RuntimeError):
            asyncio.run(app(scope, receive, send))
        names = [name for name, _ in sent[0]["headers"]]
        assert (b"connection" in names) is expected
        assert sent[0]["status"] == 500


@pytest.mark.parametrize(
    ("client", "expected"),
    [("10.1.2.3", f"00-{TRACE}-{PARENT}-01"), ("192.0.2.9", None)],
)
def test_an_untrusted_clients_traceparent_is_ignored(
    client: str, expected: str | None
) -> None:
    seen: list[str | None] = []

    async def handler(request: Request) -> PlainTextResponse:
        seen.append(traceparent_var.get())
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", handler)])
    app.add_middleware(
        CorrelationMiddleware, trace_context=True, trusted_sources=["10.0.0.0/8"]
    )
    header = f"00-{TRACE}-{PARENT}-01".encode()
    scope = http_scope("/", headers=[(b"traceparent", header)], client=(client, 1234))
    asyncio.run(call_app(app, scope))
    assert seen == [expected]


def test_the_access_log_shows_the_status_a_custom_error_response_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def boom(request: Request) -> PlainTextResponse:
        raise RuntimeError("boom")

    def unavailable(request: Request, exc: Exception, cid: str) -> PlainTextResponse:
        return PlainTextResponse(f"try later, {cid}", status_code=503)

    app = Starlette(routes=[Route("/", boom)])
    app.add_middleware(
        CorrelationMiddleware, access_log=True, error_response=unavailable
    )
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = http_scope("/", headers=[(b"x-request-id", b"err-503")])
    caplog.handler.addFilter(CorrelationIdFilter())
    with (
        caplog.at_level(logging.INFO, logger="starlette_correlate.access"),
        pytest.raises(RuntimeError),
    ):
        asyncio.run(app(scope, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert [m["status"] for m in starts] == [503]
    assert dict(starts[0]["headers"])[b"x-request-id"] == b"err-503"
    lines = [r for r in caplog.records if r.name == "starlette_correlate.access"]
    assert [
        (getattr(r, "status", None), getattr(r, "request_id", None)) for r in lines
    ] == [(503, "err-503")]


@pytest.mark.parametrize(
    "options", [{}, {"validator": lambda _: True}], ids=["inlined", "general"]
)
def test_response_headers_given_as_a_one_shot_iterable_are_all_kept(
    options: dict[str, Any],
) -> None:
    async def generator_headers(scope: Scope, receive: Receive, send: Send) -> None:
        names = (b"content-type", b"set-cookie", b"set-cookie")
        values = (b"text/plain", b"a=1", b"b=2")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": (pair for pair in zip(names, values, strict=True)),
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})

    app = CorrelationMiddleware(generator_headers, **options)
    messages = asyncio.run(call_app(app, http_scope("/")))

    names = [name for name, _ in messages[0]["headers"]]
    assert names == [b"content-type", b"set-cookie", b"set-cookie", b"x-request-id"]
