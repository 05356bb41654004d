"""Steps for features/logs_errors.feature: traceback lines and their IDs."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.types import Receive, Scope, Send

from starlette_correlate import (
    CorrelationIdFilter,
    CorrelationMiddleware,
    correlation_id_var,
)
from starlette_correlate.logs import ERROR_LOGGER, SkipLoggedErrors
from tests.support.asgi import call_app, http_scope, run
from tests.support.logparse import LineCollector, on_logger

scenarios("logs_errors.feature")

SERVER_LOGGER = "tests.errors.server"
server_logger = logging.getLogger(SERVER_LOGGER)


@dataclass
class World:
    collector: LineCollector = field(default_factory=LineCollector)
    app: CorrelationMiddleware | None = None
    shared: RuntimeError = field(default_factory=lambda: RuntimeError("shared"))
    # Which request each server record was about (the server knows; the
    # line must agree).
    about: dict[int, str] = field(default_factory=dict)

    def server_line(self, request: str) -> dict[str, Any]:
        (record,) = [
            r
            for r in self.collector.records
            if r.name == SERVER_LOGGER and self.about[id(r)] == request
        ]
        return record.__dict__

    def error_lines(self) -> list[logging.LogRecord]:
        return [r for r in self.collector.records if r.name == ERROR_LOGGER]


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    world.collector.addFilter(CorrelationIdFilter())
    with on_logger(world.collector):
        yield world


def failing_app(world: World, **options: Any) -> CorrelationMiddleware:
    both_in = asyncio.Event
    arrived: list[str] = []
    gate: dict[str, asyncio.Event] = {}

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        # Wait until every concurrent request is in, so they truly overlap.
        event = gate.setdefault("in", both_in())
        arrived.append(str(correlation_id_var.get()))
        if len(arrived) >= scope.get("expected", 1):
            event.set()
        await event.wait()
        raise world.shared

    return CorrelationMiddleware(endpoint, **options)


@given("an app whose requests all fail with one shared exception object")
def shared_app(world: World) -> None:
    world.app = failing_app(world)


@given(
    "an app whose requests all fail with one shared exception object, with error_log on"
)
def shared_app_error_log(world: World) -> None:
    world.app = failing_app(world, error_log=True)


def request(cid: str, expected: int = 1) -> dict[str, Any]:
    scope = http_scope("/fail", headers=[(b"x-request-id", cid.encode())])
    scope["expected"] = expected
    return scope


async def serve_one(world: World, cid: str, expected: int) -> None:
    """Run one request as uvicorn does: log its failure in its own task."""
    assert world.app is not None
    try:
        await call_app(world.app, request(cid, expected))
    except RuntimeError as exc:
        server_logger.error("Exception in ASGI application", exc_info=exc)  # noqa: TRY400 - as uvicorn logs it
        world.about[id(world.collector.records[-1])] = cid


@when(
    parsers.parse(
        'a server runs requests "{first}" and "{second}" at once and logs each '
        "failure in its task"
    )
)
def run_two(world: World, first: str, second: str) -> None:
    async def main() -> None:
        await asyncio.gather(
            asyncio.create_task(serve_one(world, first, 2)),
            asyncio.create_task(serve_one(world, second, 2)),
        )

    run(main)


@when(
    parsers.parse(
        'a server runs request "{cid}" and logs its failure from a callback '
        'whose context holds "{leftover}"'
    )
)
def run_with_leftover(world: World, cid: str, leftover: str) -> None:
    assert world.app is not None
    app = world.app

    async def main() -> None:
        failed: list[BaseException] = []

        async def one() -> None:
            try:
                await call_app(app, request(cid))
            except RuntimeError as exc:
                failed.append(exc)

        await asyncio.create_task(one())
        # daphne's reaper: a timer callback, in a context copied from some
        # earlier request that still holds that request's ID.
        stale = contextvars.copy_context()
        stale.run(correlation_id_var.set, leftover)
        done = asyncio.Event()

        def reap() -> None:
            server_logger.error("Exception inside application", exc_info=failed[0])
            world.about[id(world.collector.records[-1])] = cid
            done.set()

        asyncio.get_running_loop().call_soon(reap, context=stale)
        await done.wait()

    run(main)


@when(
    parsers.parse(
        'request "{origin}" fails and request "{bystander}" logs the caught exception'
    )
)
def bystander_logs(world: World, origin: str, bystander: str) -> None:
    assert world.app is not None
    app = world.app

    async def main() -> None:
        failed: list[BaseException] = []

        async def one() -> None:
            try:
                await call_app(app, request(origin))
            except RuntimeError as exc:
                failed.append(exc)

        await asyncio.create_task(one())

        async def other() -> None:
            correlation_id_var.set(bystander)
            try:
                raise failed[0]
            except RuntimeError:
                server_logger.exception("the cached result failed")
                world.about[id(world.collector.records[-1])] = bystander

        await asyncio.create_task(other())

    run(main)


@then(parsers.parse('the server\'s traceback line of "{request_id}" carries "{cid}"'))
@then(parsers.parse('the callback\'s traceback line carries "{cid}"'))
def server_line_carries(world: World, cid: str, request_id: str | None = None) -> None:
    line = world.server_line(request_id or cid)
    assert line["request_id"] == cid
    assert line["exc_info"][1] is world.shared


@then(parsers.parse('the bystander\'s line carries "{cid}"'))
def bystander_line(world: World, cid: str) -> None:
    assert world.server_line(cid)["request_id"] == cid


@then(
    parsers.parse(
        'the library logged one error line with the traceback for each of "{first}" '
        'and "{second}"'
    )
)
def library_lines(world: World, first: str, second: str) -> None:
    records = world.error_lines()
    assert sorted(r.__dict__["request_id"] for r in records) == [first, second]
    for record in records:
        assert record.levelno == logging.ERROR
        assert record.exc_info is not None
        assert record.exc_info[1] is world.shared
        assert record.getMessage() == 'Unhandled exception in "GET /fail"'


@then("with SkipLoggedErrors on the server's logger no server traceback line is left")
def server_lines_skipped(world: World) -> None:
    server_records = [r for r in world.collector.records if r.name == SERVER_LOGGER]
    assert len(server_records) == 2
    skip = SkipLoggedErrors()
    assert not any(skip.filter(record) for record in server_records)
    plain = logging.LogRecord(SERVER_LOGGER, logging.ERROR, "", 0, "m", None, None)
    assert skip.filter(plain)
