"""Steps for features/logs_filter.feature: the filter on real logging."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from starlette_correlate import CorrelationIdFilter
from starlette_correlate.fields import bound_fields
from tests.support.apps import Probe, build_app
from tests.support.asgi import run
from tests.support.logparse import LineCollector, on_logger, run_with_id

scenarios("logs_filter.feature")


@dataclass
class World:
    collector: LineCollector = field(default_factory=LineCollector)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    parent: str = ""


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    with world.stack:
        yield world


@given("a filtered handler on the root logger")
def filtered_root(world: World) -> None:
    world.collector.addFilter(CorrelationIdFilter())
    world.stack.enter_context(on_logger(world.collector))


@given(
    parsers.parse(
        'the filter attached to the logger "{name}" and a plain handler on it'
    )
)
def filter_on_logger(world: World, name: str) -> None:
    logger = logging.getLogger(name)
    log_filter = CorrelationIdFilter()
    logger.addFilter(log_filter)
    world.stack.callback(logger.removeFilter, log_filter)
    world.stack.enter_context(on_logger(world.collector, name))
    world.parent = name


@when("the filter is attached to the handler instead")
def filter_on_handler(world: World) -> None:
    for log_filter in list(logging.getLogger(world.parent).filters):
        logging.getLogger(world.parent).removeFilter(log_filter)
    world.collector.addFilter(CorrelationIdFilter())


@when(parsers.parse('a client calls "{path}" with the header X-Request-ID "{cid}"'))
def client_calls(path: str, cid: str) -> None:
    app = build_app(Probe())

    async def call() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t"
        ) as client:
            response = await client.get(path, headers={"X-Request-ID": cid})
        assert response.status_code == 200

    run(call)


@when(parsers.parse('"{message}" is logged outside any request'))
def log_outside(message: str) -> None:
    logging.getLogger("tests.logs").info(message)


@when(
    parsers.parse(
        '"{message}" is logged with extra request_id "{value}" inside a request '
        'with ID "{cid}"'
    )
)
def log_with_extra(message: str, value: str, cid: str) -> None:
    run_with_id(
        cid,
        lambda: logging.getLogger("tests.logs").info(
            message, extra={"request_id": value}
        ),
    )


@when(
    parsers.parse(
        '"{message}" is logged by the logger "{name}" inside a request with ID "{cid}"'
    )
)
def log_by_child(message: str, name: str, cid: str) -> None:
    run_with_id(cid, lambda: logging.getLogger(name).info(message))


@then(parsers.parse('the record "{message}" has request_id "{value}"'))
def record_has_id(world: World, message: str, value: str) -> None:
    assert world.collector.by_message(message).__dict__.get("request_id") == value


@then(parsers.parse('the record "{message}" has no request_id'))
def record_has_no_id(world: World, message: str) -> None:
    assert "request_id" not in world.collector.by_message(message).__dict__


@when(
    parsers.parse(
        '"{message}" is logged with the field user_id "{user}" bound and extra '
        'session "{explicit}" over the bound session "{bound}"'
    )
)
def log_with_fields(message: str, user: str, explicit: str, bound: str) -> None:
    def log() -> None:
        with bound_fields(user_id=user, session=bound):
            logging.getLogger("tests.logs").info(message, extra={"session": explicit})

    run_with_id("req-filter-4", log)


@then(
    parsers.parse('the record "{message}" has user_id "{user}" and session "{session}"')
)
def record_has_fields(world: World, message: str, user: str, session: str) -> None:
    record = world.collector.by_message(message)
    assert (record.__dict__["user_id"], record.__dict__["session"]) == (user, session)
