"""The process-wide "fields in use" flag: exact, and never a leak."""

from __future__ import annotations

import asyncio
import contextvars
import logging

import httpx
import pytest
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
    set_fields,
)


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
