"""Outbound calls with httpx carry the current correlation ID.

A request event hook adds the ID header (``X-Request-ID`` by default) to
every request the client sends while an ID is active, and the incoming
``traceparent`` when the middleware kept one. A header the caller set, on
the request or on the client, is never overridden; outside a request or
scope nothing is added.

Example::

    import httpx
    from starlette_correlate.integrations.httpx import instrument

    client = instrument(httpx.AsyncClient())   # or httpx.Client()

Hooks rather than a wrapping transport: a hook keeps whatever transport the
client has (proxies from the environment, retries, mounts, HTTP/2), and
``instrument`` can add it to a client built elsewhere, such as an SDK's.
"""

from __future__ import annotations

from typing import TypeVar

try:
    import httpx
except ImportError as exc:  # pragma: no cover - exercised with httpx hidden
    raise ImportError(
        "starlette_correlate.integrations.httpx needs httpx: "
        "pip install 'starlette-correlate[httpx]'"
    ) from exc

from starlette_correlate.context import correlation_id_var
from starlette_correlate.core import DEFAULT_HEADER, _check_header_name
from starlette_correlate.traceparent import traceparent_var

__all__ = [
    "AsyncCorrelationHook",
    "CorrelationHook",
    "add_correlation_headers",
    "instrument",
]

ClientT = TypeVar("ClientT", httpx.Client, httpx.AsyncClient)

_TRACEPARENT = "traceparent"


def add_correlation_headers(
    request: httpx.Request, header_name: str = DEFAULT_HEADER
) -> None:
    """Add the current ID (and ``traceparent``) to ``request`` unless set.

    Example::

        >>> import httpx
        >>> from starlette_correlate.scope import correlation_scope
        >>> request = httpx.Request("GET", "http://example.test/")
        >>> with correlation_scope("abc"):
        ...     add_correlation_headers(request)
        >>> request.headers["X-Request-ID"]
        'abc'
    """
    correlation_id = correlation_id_var.get()
    if correlation_id is None:
        return
    headers = request.headers
    if header_name not in headers:
        headers[header_name] = correlation_id
    traceparent = traceparent_var.get()
    if traceparent is not None and _TRACEPARENT not in headers:
        headers[_TRACEPARENT] = traceparent


class CorrelationHook:
    """A request event hook for ``httpx.Client`` that adds the current ID.

    Example::

        import httpx
        from starlette_correlate.integrations.httpx import CorrelationHook

        client = httpx.Client(event_hooks={"request": [CorrelationHook()]})
    """

    __slots__ = ("header_name",)

    def __init__(self, header_name: str = DEFAULT_HEADER) -> None:
        self.header_name = _check_header_name(header_name, "header_name")

    def __call__(self, request: httpx.Request) -> None:
        """Add the headers to ``request``."""
        add_correlation_headers(request, self.header_name)


class AsyncCorrelationHook:
    """A request event hook for ``httpx.AsyncClient`` that adds the current ID.

    Example::

        import httpx
        from starlette_correlate.integrations.httpx import AsyncCorrelationHook

        client = httpx.AsyncClient(event_hooks={"request": [AsyncCorrelationHook()]})
    """

    __slots__ = ("header_name",)

    def __init__(self, header_name: str = DEFAULT_HEADER) -> None:
        self.header_name = _check_header_name(header_name, "header_name")

    async def __call__(self, request: httpx.Request) -> None:
        """Add the headers to ``request``."""
        add_correlation_headers(request, self.header_name)


def instrument(client: ClientT, *, header_name: str = DEFAULT_HEADER) -> ClientT:
    """Add the matching correlation hook to ``client``; return the client.

    Works on sync and async clients, including ones built elsewhere; a
    second call on the same client adds nothing.

    Example::

        >>> import httpx
        >>> client = instrument(instrument(httpx.Client()))
        >>> len(client.event_hooks["request"])
        1
        >>> client.close()
    """
    hooks = client.event_hooks["request"]
    kind = (
        AsyncCorrelationHook
        if isinstance(client, httpx.AsyncClient)
        else CorrelationHook
    )
    if not any(isinstance(hook, kind) for hook in hooks):
        hooks.append(kind(header_name))
    return client
