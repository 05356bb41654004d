"""OpenTelemetry: the correlation ID on the active span, trace IDs on log records.

Install with ``pip install starlette-correlate[opentelemetry]`` (the API is
enough; your tracing set-up brings the SDK and exporters).

* :class:`CorrelationSpanMiddleware` (or :func:`record_correlation_id` from
  your own code) puts the request's correlation ID on the active span as the
  attribute ``correlation.id``;
* :class:`TraceContextFilter` puts the active trace and span IDs, in the hex
  form trace back-ends show, on every log record, beside the ``request_id``
  of :class:`~starlette_correlate.logs.CorrelationIdFilter`.

Order matters for the middleware: it must run inside both the tracing
middleware (which makes the span current) and
:class:`~starlette_correlate.CorrelationMiddleware` (which sets the ID).
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from starlette_correlate.context import correlation_id_var

try:
    from opentelemetry import trace
except ImportError as exc:  # pragma: no cover - exercised with the package hidden
    raise ImportError(
        "starlette_correlate.integrations.opentelemetry needs opentelemetry-api: "
        "pip install 'starlette-correlate[opentelemetry]'"
    ) from exc

__all__ = [
    "CORRELATION_ID_ATTRIBUTE",
    "CorrelationSpanMiddleware",
    "TraceContextFilter",
    "record_correlation_id",
]

CORRELATION_ID_ATTRIBUTE = "correlation.id"
"""The span attribute that holds the correlation ID.

Not ``http.request.header.x-request-id``: OpenTelemetry's semantic
conventions reserve that for the raw header as received (an array of
strings), which an instrumentation may already record, while ours is the ID
the service chose, often generated, whatever header carried it.
"""

_CORRELATED = frozenset({"http", "websocket"})


def _check_attribute(attribute: object) -> str:
    if not isinstance(attribute, str) or not attribute.strip():
        raise ValueError(
            f"attribute: {attribute!r} is not a span attribute name; "
            f"use e.g. {CORRELATION_ID_ATTRIBUTE!r}"
        )
    return attribute


def record_correlation_id(
    span: trace.Span | None = None, *, attribute: str = CORRELATION_ID_ATTRIBUTE
) -> bool:
    """Put the current correlation ID on ``span`` (default: the active span).

    Returns whether an attribute was set: ``False`` outside a request, or when
    the span does not record (no SDK configured, or sampled out).

    Example::

        >>> from opentelemetry import trace
        >>> record_correlation_id()  # no request, no span
        False
        >>> record_correlation_id(trace.INVALID_SPAN)
        False
    """
    correlation_id = correlation_id_var.get()
    if correlation_id is None:
        return False
    if span is None:
        span = trace.get_current_span()
    if not span.is_recording():
        return False
    span.set_attribute(attribute, correlation_id)
    return True


class CorrelationSpanMiddleware:
    """Record each request's correlation ID on the span active for it.

    Add it so that it runs inside the tracing middleware and inside
    :class:`~starlette_correlate.CorrelationMiddleware`. With Starlette's
    ``add_middleware``, the middleware added last runs first, so add this one
    before ``CorrelationMiddleware``.

    Example::

        from starlette.applications import Starlette
        from starlette_correlate import CorrelationMiddleware
        from starlette_correlate.integrations.opentelemetry import (
            CorrelationSpanMiddleware,
        )

        app = Starlette()
        app.add_middleware(CorrelationSpanMiddleware)
        app.add_middleware(CorrelationMiddleware)
        # then wrap `app` with your tracing middleware, e.g.
        # opentelemetry.instrumentation.asgi.OpenTelemetryMiddleware(app)
    """

    def __init__(
        self, app: ASGIApp, *, attribute: str = CORRELATION_ID_ATTRIBUTE
    ) -> None:
        self.app = app
        self.attribute = _check_attribute(attribute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Record the ID on the active span, then run the app."""
        if scope["type"] in _CORRELATED:
            record_correlation_id(attribute=self.attribute)
        await self.app(scope, receive, send)


class TraceContextFilter(logging.Filter):
    """Put the active trace and span IDs on each record, as lowercase hex.

    ``record.trace_id`` gets 32 hex digits and ``record.span_id`` 16, the form
    trace back-ends display and search; with no valid span active, both are
    ``placeholder``. Values the caller set with ``extra=`` are kept, and the
    filter never drops a record. Attach it to handlers, beside
    :class:`~starlette_correlate.logs.CorrelationIdFilter`.

    Example::

        import logging
        from starlette_correlate.logs import CorrelationIdFilter
        from starlette_correlate.integrations.opentelemetry import (
            TraceContextFilter,
        )

        handler = logging.StreamHandler()
        handler.addFilter(CorrelationIdFilter())
        handler.addFilter(TraceContextFilter())
        handler.setFormatter(logging.Formatter(
            "trace_id=%(trace_id)s span_id=%(span_id)s "
            "request_id=%(request_id)s %(message)s"
        ))
    """

    def __init__(
        self,
        name: str = "",
        *,
        trace_field: str = "trace_id",
        span_field: str = "span_id",
        placeholder: str = "-",
    ) -> None:
        super().__init__(name)
        for option, field in (("trace_field", trace_field), ("span_field", span_field)):
            if not field.isidentifier():
                raise ValueError(
                    f"{option}: {field!r} is not a valid attribute name; "
                    "use e.g. 'trace_id'"
                )
        if trace_field == span_field:
            raise ValueError("trace_field and span_field must differ")
        self.trace_field = trace_field
        self.span_field = span_field
        self.placeholder = placeholder

    def filter(self, record: logging.LogRecord) -> bool:
        """Stamp ``record`` and let it through."""
        attributes = record.__dict__
        if self.trace_field in attributes and self.span_field in attributes:
            return True
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            trace_id = trace.format_trace_id(context.trace_id)
            span_id = trace.format_span_id(context.span_id)
        else:
            trace_id = span_id = self.placeholder
        attributes.setdefault(self.trace_field, trace_id)
        attributes.setdefault(self.span_field, span_id)
        return True
