"""Steps for features/integrations_opentelemetry.feature: spans and trace IDs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from starlette_correlate import CorrelationIdFilter, CorrelationMiddleware
from tests.support.asgi import run

pytest.importorskip("opentelemetry.sdk", reason="the [opentelemetry] extra is missing")

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind

from starlette_correlate.integrations.opentelemetry import (
    CorrelationSpanMiddleware,
    TraceContextFilter,
)

scenarios("integrations_opentelemetry.feature")

LOGGER_NAME = "tests.integrations.otel"


class ListHandler(logging.Handler):
    """Keeps every formatted line."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class World:
    exporter: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    app: ASGIApp | None = None
    response: httpx.Response | None = None
    handler: ListHandler = field(default_factory=ListHandler)


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    world.handler.addFilter(CorrelationIdFilter())
    world.handler.addFilter(TraceContextFilter())
    world.handler.setFormatter(
        logging.Formatter("%(trace_id)s %(span_id)s %(request_id)s %(message)s")
    )
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(world.handler)
    logger.setLevel(logging.INFO)
    yield world
    logger.removeHandler(world.handler)
    world.exporter.clear()


@given("an app traced by an in-memory tracer provider")
def traced_app(world: World) -> None:
    # An explicit provider: the process-wide one may be set only once.
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(world.exporter))

    async def endpoint(request: Request) -> PlainTextResponse:
        logging.getLogger(LOGGER_NAME).info("inside the handler")
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", endpoint)])
    app.add_middleware(CorrelationSpanMiddleware)
    app.add_middleware(CorrelationMiddleware)
    # The real ASGI instrumentation, outside both of ours.
    world.app = OpenTelemetryMiddleware(app, tracer_provider=provider)


@given("a handler with the correlation and trace context filters")
def filters_only(world: World) -> None:
    assert world.handler.filters


def send_request(world: World, headers: dict[str, str]) -> None:
    assert world.app is not None
    app = world.app

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as client:
            return await client.get("/", headers=headers)

    world.response = run(go)
    assert world.response.status_code == 200


@when(parsers.parse('a request is sent with X-Request-ID "{value}"'))
def request_with_id(world: World, value: str) -> None:
    send_request(world, {"X-Request-ID": value})


@when("a request is sent without an X-Request-ID")
def request_without_id(world: World) -> None:
    send_request(world, {})


@when("a line is logged outside any span and request")
def log_outside(world: World) -> None:
    logging.getLogger(LOGGER_NAME).info("outside")


def only_span(world: World) -> ReadableSpan:
    """The request's server span (the instrumentation also traces send/receive)."""
    spans = [
        s for s in world.exporter.get_finished_spans() if s.kind is SpanKind.SERVER
    ]
    assert len(spans) == 1, spans
    return spans[0]


@then(parsers.parse('the request\'s span has the attribute "{name}" "{value}"'))
def span_has_attribute(world: World, name: str, value: str) -> None:
    attributes = only_span(world).attributes or {}
    assert attributes.get(name) == value


@then(parsers.parse("the request's span has the response's X-Request-ID as \"{name}\""))
def span_has_generated(world: World, name: str) -> None:
    assert world.response is not None
    generated = world.response.headers["x-request-id"]
    attributes = only_span(world).attributes or {}
    assert attributes.get(name) == generated


@then(
    parsers.parse(
        "the handler's log line shows the span's trace ID, span ID and \"{value}\""
    )
)
def line_shows_trace(world: World, value: str) -> None:
    context = only_span(world).get_span_context()
    assert context is not None
    expected = (
        f"{context.trace_id:032x} {context.span_id:016x} {value} inside the handler"
    )
    assert world.handler.lines == [expected]


@then(parsers.parse('the line reads "{line}"'))
def line_reads(world: World, line: str) -> None:
    assert world.handler.lines == [line]
