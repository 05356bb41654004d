"""Bound fields: merging makes new mappings, and the "in use" flag never leaks."""

from __future__ import annotations

import asyncio
import contextvars
import logging

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from starlette_correlate import CorrelationIdFilter, CorrelationMiddleware
from starlette_correlate.fields import (
    bind_fields,
    fields_in_use,
    fields_var,
    get_fields,
    merge_fields,
    set_fields,
)

keys = st.text(alphabet="abcdef_", min_size=1, max_size=4)
values = st.text(min_size=0, max_size=5)


@given(
    base=st.dictionaries(keys, values),
    changes=st.dictionaries(keys, st.none() | values | st.integers()),
)
def test_merge_is_an_update_that_leaves_the_base_alone(
    base: dict[str, str], changes: dict[str, object]
) -> None:
    original = dict(base)
    merged = merge_fields(base, changes)
    expected = dict(base)
    for key, value in changes.items():
        if value is None:
            expected.pop(key, None)
        else:
            expected[key] = str(value)
    assert dict(merged or {}) == expected
    assert (merged is None) == (not expected)
    assert base == original


def test_binding_nothing_in_a_fresh_context_keeps_the_none_value() -> None:
    def run() -> object:
        bind_fields(user_id=None)
        return fields_var.get()

    assert contextvars.copy_context().run(run) is None
    assert dict(get_fields()) == {}


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend nothing in this process has set fields yet."""
    monkeypatch.setattr(fields_in_use, "seen", False)


@pytest.mark.usefixtures("fresh_process")
def test_set_fields_flips_the_flag() -> None:
    assert fields_in_use.seen is False
    contextvars.copy_context().run(set_fields, {"a": "1"})
    assert fields_in_use.seen is True


@pytest.mark.usefixtures("fresh_process")
def test_a_first_bind_inside_a_request_is_still_undone() -> None:
    async def handler(request: Request) -> PlainTextResponse:
        bind_fields(user_id="first-ever")
        return PlainTextResponse(get_fields()["user_id"])

    app = Starlette(routes=[Route("/", handler)])
    app.add_middleware(CorrelationMiddleware)

    async def exchange() -> tuple[str, object]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            body = (await c.get("/")).text
        # The app ran in this task: a field left behind would show here.
        return body, fields_var.get()

    assert asyncio.run(exchange()) == ("first-ever", None)


@pytest.mark.usefixtures("fresh_process")
def test_the_filter_adds_fields_once_any_are_set() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "m", None, None)
    CorrelationIdFilter().filter(record)
    assert not hasattr(record, "user_id")

    def bound() -> logging.LogRecord:
        bind_fields(user_id="u-7")
        later = logging.LogRecord("t", logging.INFO, __file__, 1, "m", None, None)
        CorrelationIdFilter().filter(later)
        return later

    assert getattr(contextvars.copy_context().run(bound), "user_id", None) == "u-7"
