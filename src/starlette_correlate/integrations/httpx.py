"""Outbound calls with httpx (or httpx2) carry the current correlation ID.

A request event hook adds the ID header to every request the client sends
while an ID is active, and the incoming ``traceparent`` when the middleware
kept one. The header is the one given to the hook, else the ``header_name``
of the middleware that set the ID (``X-Request-ID`` by default). A header
the caller set, on the request or on the client, is never overridden;
outside a request or scope nothing is added.

Example::

    import httpx
    from starlette_correlate.integrations.httpx import instrument

    client = instrument(httpx.AsyncClient())   # or httpx.Client()

Hooks rather than a wrapping transport: a hook keeps whatever transport the
client has (proxies from the environment, retries, mounts, HTTP/2), and
``instrument`` can add it to a client built elsewhere, such as an SDK's.
The hooks use only the event-hook API, so clients of ``httpx2`` (httpx's
successor under another module name, which Starlette's ``TestClient``
prefers) and of any package with the same API are instrumented the same
way (D-where-recipes-2).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from importlib.util import find_spec
from typing import Any, Protocol, TypeVar

# Nothing here needs a module of the client's package; this only keeps the
# promise that a missing extra is named when the integration is imported.
if find_spec("httpx") is None and find_spec("httpx2") is None:
    raise ImportError(
        "starlette_correlate.integrations.httpx needs httpx (or httpx2): "
        "pip install 'starlette-correlate[httpx]'"
    )

from starlette_correlate.integrations._outbound import (
    OutboundHeaders,
    add_outbound_headers,
    checked_header_name,
)

__all__ = [
    "AsyncCorrelationHook",
    "CorrelationHook",
    "add_correlation_headers",
    "instrument",
]


class OutboundRequest(Protocol):
    """What the hooks need of a request: ``httpx.Request``, ``httpx2.Request``."""

    @property
    def headers(self) -> OutboundHeaders:
        """The request's headers, case-insensitive as in httpx."""


class HookedClient(Protocol):
    """What :func:`instrument` needs of a client: httpx's event-hook API."""

    @property
    def event_hooks(self) -> Mapping[str, list[Any]]:
        """The client's hooks by event, as ``httpx.Client.event_hooks``."""

    @property
    def send(self) -> Callable[..., object]:
        """Send a request; a coroutine function on an async client."""


ClientT = TypeVar("ClientT", bound=HookedClient)


def add_correlation_headers(
    request: OutboundRequest, header_name: str | None = None
) -> None:
    """Add the current ID (and ``traceparent``) to ``request`` unless set.

    ``header_name`` defaults to the header name of the middleware that set
    the current ID (see :func:`~starlette_correlate.context.get_correlation_header`).
    The rule is the one every carrier shares
    (:func:`~starlette_correlate.integrations._outbound.add_outbound_headers`).

    Example::

        >>> import httpx
        >>> from starlette_correlate.scope import correlation_scope
        >>> request = httpx.Request("GET", "http://example.test/")
        >>> with correlation_scope("abc"):
        ...     add_correlation_headers(request)
        >>> request.headers["X-Request-ID"]
        'abc'
    """
    add_outbound_headers(request.headers, header_name)


class CorrelationHook:
    """A request event hook for ``httpx.Client`` that adds the current ID.

    ``header_name`` fixes the header; by default it is the header name of
    the middleware that set the current ID.

    Example::

        import httpx
        from starlette_correlate.integrations.httpx import CorrelationHook

        client = httpx.Client(event_hooks={"request": [CorrelationHook()]})
    """

    __slots__ = ("header_name",)

    def __init__(self, header_name: str | None = None) -> None:
        self.header_name = checked_header_name(header_name)

    def __call__(self, request: OutboundRequest) -> None:
        """Add the headers to ``request``."""
        add_correlation_headers(request, self.header_name)


class AsyncCorrelationHook:
    """A request event hook for ``httpx.AsyncClient`` that adds the current ID.

    ``header_name`` is as for :class:`CorrelationHook`.

    Example::

        import httpx
        from starlette_correlate.integrations.httpx import AsyncCorrelationHook

        client = httpx.AsyncClient(event_hooks={"request": [AsyncCorrelationHook()]})
    """

    __slots__ = ("header_name",)

    def __init__(self, header_name: str | None = None) -> None:
        self.header_name = checked_header_name(header_name)

    async def __call__(self, request: OutboundRequest) -> None:
        """Add the headers to ``request``."""
        add_correlation_headers(request, self.header_name)


def instrument(client: ClientT, *, header_name: str | None = None) -> ClientT:
    """Add the matching correlation hook to ``client``; return the client.

    Works on sync and async clients of httpx and httpx2, including ones
    built elsewhere; a client whose ``send`` is a coroutine function gets
    the async hook. A second call on the same client adds nothing.
    ``header_name`` fixes the header; by default it follows the middleware
    that set the current ID.

    Example::

        >>> import httpx
        >>> client = instrument(instrument(httpx.Client()))
        >>> len(client.event_hooks["request"])
        1
        >>> client.close()
    """
    hooks = client.event_hooks["request"]
    kind: type[CorrelationHook | AsyncCorrelationHook] = (
        AsyncCorrelationHook
        if inspect.iscoroutinefunction(client.send)
        else CorrelationHook
    )
    if not any(isinstance(hook, kind) for hook in hooks):
        hooks.append(kind(header_name))
    return client
