"""Properties of the traceparent parser."""

from __future__ import annotations

import asyncio

from hypothesis import assume, given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from starlette_correlate import CorrelationMiddleware
from starlette_correlate.traceparent import parse_traceparent, traceparent_var
from tests.support.asgi import call_app, http_scope

HEX = "0123456789abcdef"


def hex_text(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=HEX, min_size=size, max_size=size)


@given(trace_id=hex_text(32), parent_id=hex_text(16), flags=hex_text(2))
def test_every_valid_version_00_header_parses_back(
    trace_id: str, parent_id: str, flags: str
) -> None:
    assume(set(trace_id) != {"0"} and set(parent_id) != {"0"})
    value = f"00-{trace_id}-{parent_id}-{flags}"
    parsed = parse_traceparent(value)
    assert parsed is not None
    assert str(parsed) == value
    assert parsed.trace_id == trace_id


@given(
    trace_id=hex_text(32),
    parent_id=hex_text(16),
    position=st.integers(min_value=0, max_value=54),
    replacement=st.characters(),
)
def test_changing_one_character_never_yields_another_valid_trace(
    trace_id: str, parent_id: str, position: int, replacement: str
) -> None:
    value = f"00-{trace_id}-{parent_id}-01"
    # A character replaced by itself is no change (a "-" by "-" once failed).
    assume(replacement != value[position])
    mutated = value[:position] + replacement + value[position + 1 :]
    parsed = parse_traceparent(mutated)
    if parsed is not None:
        # Only a change to another lowercase hex digit can still be valid.
        assert replacement in HEX
        assert value[position] != "-"
        assert str(parsed) == mutated


@given(st.text(max_size=80))
def test_arbitrary_text_never_raises(value: str) -> None:
    parsed = parse_traceparent(value)
    if parsed is not None:
        assert parsed.version != "ff"
        assert parsed.trace_id != "0" * 32
        assert parsed.parent_id != "0" * 16


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
