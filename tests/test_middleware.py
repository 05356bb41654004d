"""The ASGI middleware: the response it stamps, its error answer, its trust.

And a property: arbitrary header bytes never break its invariants.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import types
import uuid
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from starlette_correlate import (
    ContextStore,
    CorrelationCore,
    CorrelationIdFilter,
    CorrelationMiddleware,
    Refusal,
    correlation_id_var,
    get_correlation_id,
    is_safe_id,
)
from starlette_correlate.context import correlation_header_var
from starlette_correlate.ids import is_safe_raw_id
from starlette_correlate.provenance import refusal_of, source_of
from starlette_correlate.traceparent import traceparent_var
from tests.support.asgi import call_app, http_scope

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


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


# The request path: the byte-level safety check, resets, headers. The ID
# rule exists once, in the core, specialised at construction into a plain
# chooser and a checked one (D-rule-4); these tests drive both through the
# middleware.


async def _respond_ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@settings(max_examples=500)
@given(raw=st.binary(max_size=140), max_length=st.integers(min_value=1, max_value=140))
def test_the_byte_level_safety_check_matches_the_text_one(
    raw: bytes, max_length: int
) -> None:
    assert is_safe_raw_id(raw, max_length) == is_safe_id(
        raw.decode("latin-1"), max_length
    )


@types.coroutine
def _pause() -> Generator[None, None, None]:
    yield


async def _pausing(scope: Scope, receive: Receive, send: Send) -> None:
    await _pause()
    await _respond_ok(scope, receive, send)


async def _receive() -> dict[str, object]:
    return {"type": "http.request", "body": b""}


async def _discard(message: object) -> None:
    return None


def _drive_across(second: contextvars.Context | None) -> contextvars.Context:
    """Start a request in one context and finish it in ``second`` (or a fresh one)."""
    store = ContextStore()
    app = CorrelationMiddleware(_pausing, store=store)
    request = app(
        http_scope("/", headers=[(b"x-request-id", b"abc")]), _receive, _discard
    )
    first = contextvars.copy_context()
    first.run(request.send, None)
    assert first.run(correlation_id_var.get) == "abc"
    if second is None:
        second = first.copy()  # made after the request set the ID
    with pytest.raises(StopIteration):  # the request finished there
        second.run(request.send, None)
    return second


def test_a_reset_from_another_context_neither_raises_nor_leaves_the_id() -> None:
    copied = _drive_across(None)
    assert copied.run(correlation_id_var.get) is None
    unrelated = _drive_across(contextvars.copy_context())
    assert unrelated.run(correlation_id_var.get) is None


@pytest.mark.parametrize(
    ("options", "inlined"),
    [({}, True), ({"validator": lambda _: True}, False)],
)
@pytest.mark.parametrize(
    ("header_name", "published"),
    [
        ("X-Request-ID", None),
        ("x-request-id", None),
        ("X-Correlation-ID", "X-Correlation-ID"),
    ],
)
def test_both_paths_publish_a_non_default_header_name_and_reset_it(
    options: dict[str, object],
    inlined: bool,
    header_name: str,
    published: str | None,
) -> None:
    seen: list[str | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(correlation_header_var.get())
        await _respond_ok(scope, receive, send)

    middleware = CorrelationMiddleware(app, header_name=header_name, **options)  # type: ignore[arg-type]
    assert middleware.core.plain is inlined

    async def request_then_read() -> str | None:
        await call_app(middleware, http_scope("/"))
        return correlation_header_var.get()  # in the context the request ran in

    assert asyncio.run(request_then_read()) is None
    assert seen == [published]


@settings(max_examples=300)
@given(
    raw=st.one_of(
        st.binary(max_size=140),
        # Mostly safe bytes, around every length limit.
        st.from_regex(rb"[!-~]{0,141}", fullmatch=True),
    ),
    max_length=st.integers(min_value=1, max_value=140),
)
def test_the_plain_chooser_keeps_exactly_the_safe_ids(
    raw: bytes, max_length: int
) -> None:
    core = CorrelationCore(max_length=max_length, generator=lambda: "n")
    assert core.plain
    expected: tuple[str, str, Refusal | None]
    if is_safe_raw_id(raw, max_length):
        expected = (raw.decode("ascii"), "incoming", None)
    else:
        reason = "too_long" if len(raw) > max_length else "unsafe"
        expected = ("n", "replaced", Refusal(reason, len(raw)))
    correlation_id = core.choose(raw, None, None)
    assert (
        correlation_id,
        source_of(correlation_id),
        refusal_of(correlation_id),
    ) == expected


def test_strict_mode_answers_under_the_header_and_survives_a_gone_client() -> None:
    called: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope)

    middleware = CorrelationMiddleware(
        app, header_name="X-Correlation-ID", on_invalid="reject", max_length=4
    )
    scope = http_scope(headers=[(b"x-correlation-id", b"longer")])
    messages = asyncio.run(call_app(middleware, scope))
    start = messages[0]
    assert start["status"] == 400
    (fresh,) = [v for k, v in start["headers"] if k == b"x-correlation-id"]
    assert b"longer" not in messages[1]["body"]
    assert fresh in messages[1]["body"]
    assert called == []

    async def gone(message: Message) -> None:
        raise OSError("client disconnected")

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    asyncio.run(
        middleware(http_scope(headers=[(b"x-correlation-id", b"a b")]), receive, gone)
    )
    assert called == []
