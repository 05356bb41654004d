"""Steps for features/logs_formats.feature: lines that parse back intact."""

from __future__ import annotations

import ast
import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from starlette_correlate import CorrelationIdFilter
from starlette_correlate.logs import JsonFormatter, KeyValueFormatter
from tests.support.logparse import LineCollector, on_logger, parse_kv, run_with_id

scenarios("logs_formats.feature")

LOGGER = "tests.logs.formats"


@dataclass
class World:
    kv: LineCollector = field(
        default_factory=lambda: LineCollector(KeyValueFormatter())
    )
    json: LineCollector = field(default_factory=lambda: LineCollector(JsonFormatter()))
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def parsed(self) -> tuple[dict[str, str], dict[str, object]]:
        (kv_line,) = self.kv.lines
        (json_line,) = self.json.lines
        return parse_kv(kv_line), json.loads(json_line)


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    with world.stack:
        yield world


@given("the key=value and JSON formatters behind the correlation filter")
def formatters(world: World) -> None:
    for collector in (world.kv, world.json):
        collector.addFilter(CorrelationIdFilter())
        world.stack.enter_context(on_logger(collector, LOGGER))


@when(parsers.parse('the message {literal} is logged inside a request with ID "{cid}"'))
def log_hostile(literal: str, cid: str) -> None:
    message = ast.literal_eval(literal)
    run_with_id(cid, lambda: logging.getLogger(LOGGER).info(message))


@when(parsers.parse('an exception is logged inside a request with ID "{cid}"'))
def log_exception(cid: str) -> None:
    def raise_it() -> None:
        raise ValueError('bad "value"\nlevel=ERROR request_id=forged')

    def fail() -> None:
        try:
            raise_it()
        except ValueError:
            logging.getLogger(LOGGER).exception("it failed")

    run_with_id(cid, fail)


@when(
    parsers.parse(
        '"{message}" is logged with extra order_id "{order}" outside any request'
    )
)
def log_extra(message: str, order: str) -> None:
    logging.getLogger(LOGGER).info(message, extra={"order_id": order})


@then("each format wrote exactly one line")
def one_line_each(world: World) -> None:
    for collector in (world.kv, world.json):
        assert len(collector.lines) == 1
        assert collector.lines[0].splitlines() == [collector.lines[0]]


@then("both lines parse back to the same fields")
def same_fields(world: World) -> None:
    from_kv, from_json = world.parsed()
    assert from_kv == {key: str(value) for key, value in from_json.items()}


@then(parsers.parse('the parsed message is {literal} and request_id is "{cid}"'))
def parsed_message(world: World, literal: str, cid: str) -> None:
    from_kv, _ = world.parsed()
    assert from_kv["message"] == ast.literal_eval(literal)
    assert from_kv["request_id"] == cid
    assert from_kv["level"] == "INFO"


@then(
    parsers.parse('the parsed exc_info holds the traceback and request_id is "{cid}"')
)
def parsed_exception(world: World, cid: str) -> None:
    from_kv, _ = world.parsed()
    assert from_kv["exc_info"].startswith("Traceback (most recent call last):\n")
    assert (
        'ValueError: bad "value"\nlevel=ERROR request_id=forged' in from_kv["exc_info"]
    )
    assert (from_kv["request_id"], from_kv["level"]) == (cid, "ERROR")


@then(
    parsers.parse('the parsed fields include order_id "{order}" and request_id "{cid}"')
)
def parsed_extra(world: World, order: str, cid: str) -> None:
    from_kv, _ = world.parsed()
    assert (from_kv["order_id"], from_kv["request_id"]) == (order, cid)
