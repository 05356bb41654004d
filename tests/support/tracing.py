"""Stand-in for an ASGI tracing instrumentation: one server span per request.

Import only after ``pytest.importorskip("opentelemetry")``.
"""

from __future__ import annotations

from opentelemetry import trace
from starlette.types import ASGIApp, Receive, Scope, Send


def traced(app: ASGIApp, tracer: trace.Tracer) -> ASGIApp:
    """Return ``app`` wrapped so each HTTP request runs in a current span."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        name = f"{scope['method']} {scope['path']}"
        with tracer.start_as_current_span(name, kind=trace.SpanKind.SERVER):
            await app(scope, receive, send)

    return wrapper
