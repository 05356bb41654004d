"""The middleware's request path: the byte-level safety check, resets, headers.

The ID rule exists once, in :mod:`starlette_correlate.core`, specialised at
construction into a plain chooser and a checked one (D-rule-4); these tests
drive both through the middleware.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Generator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from starlette_correlate import (
    ContextStore,
    CorrelationCore,
    CorrelationMiddleware,
    correlation_id_var,
)
from starlette_correlate.context import correlation_header_var
from starlette_correlate.ids import is_safe_id, is_safe_raw_id
from tests.support.asgi import call_app, http_scope


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
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
    await _ok(scope, receive, send)


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
    assert len(store) == 0  # the ASGI path keeps its tokens in its frame
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
        await _ok(scope, receive, send)

    middleware = CorrelationMiddleware(app, header_name=header_name, **options)  # type: ignore[arg-type]
    assert middleware.core.plain is inlined

    async def request_then_read() -> str | None:
        await call_app(middleware, http_scope("/"))
        return correlation_header_var.get()  # in the context the request ran in

    assert asyncio.run(request_then_read()) is None
    assert seen == [published]
    assert len(middleware.store) == 0


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
    expected = raw.decode("ascii") if is_safe_raw_id(raw, max_length) else "n"
    assert core.choose(raw, None, None) == expected
