"""Outbound calls with an ``aiohttp.ClientSession`` carry the current correlation ID.

:func:`trace_config` returns an ``aiohttp.TraceConfig`` whose
``on_request_start`` signal adds the headers by the rule every carrier
shares: the current ID under the header name of the middleware that set it
unless ``header_name`` is given, the incoming ``traceparent`` when trace
context is on, a header the caller set (on the call or in the session's
default headers) kept, nothing outside a request.

Example::

    import aiohttp
    from starlette_correlate.integrations.aiohttp import trace_config

    async with aiohttp.ClientSession(trace_configs=[trace_config()]) as session:
        ...

Why a trace config (D-peers-carriers-2): it is aiohttp's documented hook
into every request of a session; its signal runs in the task that makes the
call, so the caller's ID is the one seen, and receives the very header
mapping aiohttp then sends, with the session's defaults already merged in.
"""

from __future__ import annotations

from types import SimpleNamespace

try:
    import aiohttp
except ImportError as exc:  # pragma: no cover - exercised with the package hidden
    raise ImportError(
        "starlette_correlate.integrations.aiohttp needs aiohttp: "
        "pip install 'starlette-correlate[aiohttp]'"
    ) from exc

from starlette_correlate.integrations._outbound import (
    add_outbound_headers,
    checked_header_name,
)

__all__ = ["CorrelationSignal", "trace_config"]


class CorrelationSignal:
    """An ``on_request_start`` callback that adds the correlation headers.

    ``header_name`` fixes the header; by default it follows the middleware
    that set the current ID. Append it to a ``TraceConfig`` of your own
    when you already have one.

    Example::

        >>> import aiohttp
        >>> config = aiohttp.TraceConfig()
        >>> config.on_request_start.append(CorrelationSignal("X-Correlation-ID"))
    """

    __slots__ = ("header_name",)

    def __init__(self, header_name: str | None = None) -> None:
        self.header_name = checked_header_name(header_name)

    async def __call__(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        """Add the headers to the request about to start."""
        add_outbound_headers(params.headers, self.header_name)


def trace_config(*, header_name: str | None = None) -> aiohttp.TraceConfig:
    """Return a ``TraceConfig`` that makes a session send the current ID.

    Pass it as ``aiohttp.ClientSession(trace_configs=[trace_config()])``.
    A bad ``header_name`` raises ``ValueError`` here, not at call time.

    Example::

        >>> config = trace_config(header_name="X-Correlation-ID")
        >>> [type(signal).__name__ for signal in config.on_request_start]
        ['CorrelationSignal']
    """
    config = aiohttp.TraceConfig()
    config.on_request_start.append(CorrelationSignal(header_name))
    return config
