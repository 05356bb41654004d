"""Steps for features/logs_structlog.feature: structlog's real pipeline."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import structlog
from pytest_bdd import given, parsers, scenarios, then, when

from starlette_correlate.logs.structlog_processor import add_correlation_id
from tests.support.logparse import run_with_id

scenarios("logs_structlog.feature")


@dataclass
class World:
    output: io.StringIO = field(default_factory=io.StringIO)
    handler: logging.Handler | None = None

    def events(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.output.getvalue().splitlines()]


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    yield world
    structlog.reset_defaults()
    if world.handler is not None:
        logging.getLogger("tests.slog").removeHandler(world.handler)


@given("structlog configured with the correlation processor and a JSON renderer")
def structlog_configured(world: World) -> None:
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            add_correlation_id,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(file=world.output),
        cache_logger_on_first_use=False,
    )


@given(
    "a stdlib handler with structlog's ProcessorFormatter and the processor in "
    "its pre-chain"
)
def processor_formatter(world: World) -> None:
    handler = logging.StreamHandler(world.output)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=structlog.processors.JSONRenderer(),
            foreign_pre_chain=[structlog.stdlib.add_log_level, add_correlation_id],
        )
    )
    world.handler = handler
    logger = logging.getLogger("tests.slog")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


@when(
    parsers.parse(
        'a structlog event "{event}" is logged inside a request with ID "{cid}"'
    )
)
def structlog_inside(event: str, cid: str) -> None:
    run_with_id(cid, lambda: structlog.get_logger().info(event))


@when(parsers.parse('a structlog event "{event}" is logged outside any request'))
def structlog_outside(event: str) -> None:
    structlog.get_logger().info(event)


@when(
    parsers.parse(
        'a stdlib line "{message}" is logged inside a request with ID "{cid}"'
    )
)
def stdlib_inside(message: str, cid: str) -> None:
    run_with_id(cid, lambda: logging.getLogger("tests.slog").info(message))


@then(parsers.parse('the rendered event "{event}" has request_id "{cid}"'))
def rendered(world: World, event: str, cid: str) -> None:
    (found,) = [e for e in world.events() if e["event"] == event]
    assert found["request_id"] == cid
    assert found["level"] == "info"
