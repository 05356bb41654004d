"""OpenTelemetry integration: explicit spans, options, the filter's manners."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.applications import Starlette

from starlette_correlate.scope import correlation_scope

pytest.importorskip("opentelemetry.sdk", reason="the [opentelemetry] extra is missing")

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from starlette_correlate.integrations.opentelemetry import (
    CorrelationSpanMiddleware,
    TraceContextFilter,
    record_correlation_id,
)
from tests.support.guide import handlers_restored, recipe, send


def record(**extra: Any) -> logging.LogRecord:
    made = logging.LogRecord("t", logging.INFO, __file__, 1, "message", None, None)
    made.__dict__.update(extra)
    return made


def test_record_on_an_explicit_span_and_on_none() -> None:
    tracer = TracerProvider().get_tracer("tests")
    with tracer.start_as_current_span("work") as span:
        assert not record_correlation_id(span)
        with correlation_scope("job-1"):
            assert record_correlation_id(span, attribute="app.job_id")
    assert isinstance(span, ReadableSpan)
    assert span.attributes is not None
    assert span.attributes["app.job_id"] == "job-1"


def test_bad_options_fail_at_configuration() -> None:
    with pytest.raises(ValueError, match="attribute"):
        CorrelationSpanMiddleware(Starlette(), attribute=" ")
    with pytest.raises(ValueError, match="trace_field"):
        TraceContextFilter(trace_field="trace id")
    with pytest.raises(ValueError, match="differ"):
        TraceContextFilter(trace_field="x", span_field="x")


def test_the_filter_keeps_values_set_with_extra() -> None:
    tracer = TracerProvider().get_tracer("tests")
    stamped = record(trace_id="mine", span_id="also mine")
    half = record(trace_id="mine")
    with tracer.start_as_current_span("work") as span:
        assert TraceContextFilter().filter(stamped)
        assert TraceContextFilter().filter(half)
    assert (stamped.__dict__["trace_id"], stamped.__dict__["span_id"]) == (
        "mine",
        "also mine",
    )
    assert (half.__dict__["trace_id"], half.__dict__["span_id"]) == (
        "mine",
        f"{span.get_span_context().span_id:016x}",
    )


def global_exporter() -> InMemorySpanExporter:
    """An exporter on the process-wide provider, which can be set only once."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def test_the_users_guide_recipe_marks_the_span_and_the_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    exporter = global_exporter()  # what the user's tracing set-up does
    with handlers_restored("shop.checkout"):
        found = recipe("opentelemetry")
        assert send(found["app"], "GET", "/checkout", "guide-otel").status_code == 200
    spans = exporter.get_finished_spans()
    exporter.shutdown()
    (span,) = [s for s in spans if s.kind is trace.SpanKind.SERVER]
    assert (span.attributes or {})["correlation.id"] == "guide-otel"
    context = span.get_span_context()
    assert context is not None
    assert capsys.readouterr().err == (
        f"INFO trace_id={context.trace_id:032x} span_id={context.span_id:016x} "
        "request_id=guide-otel shop.checkout checking out\n"
    )
