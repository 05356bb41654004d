"""Steps for features/logs_formats.feature: lines that parse back intact."""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import json
import logging
import logging.config
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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
    configured: LineCollector | None = None
    configured_format: str = "JSON"

    def parsed(self) -> tuple[dict[str, str], dict[str, Any]]:
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


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


@when(
    parsers.parse(
        '"{message}" is logged with extra payload {payload} inside a request '
        'with ID "{cid}"'
    )
)
def log_payload(message: str, payload: str, cid: str) -> None:
    value = json.loads(payload)
    run_with_id(
        cid, lambda: logging.getLogger(LOGGER).info(message, extra={"payload": value})
    )


@then(parsers.parse("the JSON line's payload is {payload}"))
def json_payload(world: World, payload: str) -> None:
    _, from_json = world.parsed()
    assert from_json["payload"] == json.loads(payload)


@then("the key=value line's payload is the same JSON, as one quoted value")
def kv_payload(world: World) -> None:
    from_kv, from_json = world.parsed()
    assert json.loads(from_kv["payload"]) == from_json["payload"]
    assert ' payload="{' in world.kv.lines[0]


@when(
    "a record is logged whose fields hold a cycle, an object whose str() raises, "
    "a lone surrogate, NaN, a 10 MB string and an int of 100000 digits"
)
def log_hostile_values() -> None:
    cycle: list[object] = [1]
    cycle.append(cycle)
    extra = {
        "cycle": cycle,
        "object": Unprintable(),
        "surrogate": "a\udc80b",
        "ratio": math.nan,
        "huge": "x" * 10_000_000,
        "digits": 10**99_999,
        "nested": {"deep": [[[[[[[[[[["bottom"]]]]]]]]]]], "obj": Unprintable()},
    }
    run_with_id(
        "req-fmt-hostile",
        lambda: logging.getLogger(LOGGER).info("hostile", extra=extra),
    )


@then(
    parsers.parse(
        'the JSON line parses, with NaN as null, the int as "{marker}" and the '
        'cycle marked "<cycle>"'
    )
)
def hostile_parsed(world: World, marker: str) -> None:
    from_kv, from_json = world.parsed()
    assert from_json["ratio"] is None
    assert from_json["digits"] == marker == from_kv["digits"]
    assert from_json["cycle"] == [1, "<cycle>"]
    assert from_json["object"] == "<unprintable Unprintable>"
    assert from_json["surrogate"] == "a\udc80b" == from_kv["surrogate"]
    assert len(from_json["huge"]) == 10_000_000
    assert from_json["nested"]["obj"] == "<unprintable Unprintable>"
    assert "<too deep>" in json.dumps(from_json["nested"]["deep"])


DICTCONFIG_LOGGER = "tests.logs.formats.dictconfig"
FORMATTERS = {
    "key=value": "starlette_correlate.logs.KeyValueFormatter",
    "JSON": "starlette_correlate.logs.JsonFormatter",
}


def apply_dictconfig(world: World, formatter: dict[str, object]) -> None:
    logger = logging.getLogger(DICTCONFIG_LOGGER)

    def restore() -> None:
        logger.handlers[:] = []
        logger.propagate = True

    world.stack.callback(restore)
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {
                "correlation": {"()": "starlette_correlate.CorrelationIdFilter"}
            },
            "formatters": {"line": formatter},
            "handlers": {
                "collect": {
                    "()": "tests.support.logparse.LineCollector",
                    "filters": ["correlation"],
                    "formatter": "line",
                }
            },
            "loggers": {
                DICTCONFIG_LOGGER: {
                    "handlers": ["collect"],
                    "level": "INFO",
                    "propagate": False,
                }
            },
        }
    )
    (handler,) = logger.handlers
    assert isinstance(handler, LineCollector)
    world.configured = handler


@given(
    'a dictConfig whose "()" JSON formatter renames message to msg and request_id '
    'to correlation_id, and adds service "orders" and env "prod"'
)
def dictconfig_renamed(world: World) -> None:
    world.configured_format = "JSON"
    apply_dictconfig(
        world,
        {
            "()": FORMATTERS["JSON"],
            "rename_fields": {"message": "msg", "request_id": "correlation_id"},
            "static_fields": {"service": "orders", "env": "prod"},
        },
    )


@given(
    parsers.parse(
        'a dictConfig whose "{key}" {formatter} formatter has datefmt "{datefmt}"'
    )
)
def dictconfig_datefmt(world: World, key: str, formatter: str, datefmt: str) -> None:
    world.configured_format = formatter
    apply_dictconfig(world, {key: FORMATTERS[formatter], "datefmt": datefmt})


@when(
    parsers.parse('"{message}" is logged through it inside a request with ID "{cid}"')
)
def log_through_dictconfig(message: str, cid: str) -> None:
    run_with_id(cid, lambda: logging.getLogger(DICTCONFIG_LOGGER).info(message))


def configured_line(world: World) -> dict[str, object]:
    assert world.configured is not None
    (line,) = world.configured.lines
    if world.configured_format == "JSON":
        parsed: dict[str, object] = json.loads(line)
        return parsed
    return dict(parse_kv(line))


@then(
    'its line has msg "order placed", correlation_id "req-fmt-4", service "orders" '
    'and env "prod", and no message or request_id'
)
def renamed_line(world: World) -> None:
    fields = configured_line(world)
    assert fields["msg"] == "order placed"
    assert fields["correlation_id"] == "req-fmt-4"
    assert (fields["service"], fields["env"]) == ("orders", "prod")
    assert "message" not in fields
    assert "request_id" not in fields


@then("its line's time is today's UTC date")
def dated_line(world: World) -> None:
    before = dt.datetime.now(dt.UTC).date().isoformat()
    fields = configured_line(world)
    after = dt.datetime.now(dt.UTC).date().isoformat()
    assert fields["time"] in {before, after}
