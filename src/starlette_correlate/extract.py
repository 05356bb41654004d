"""Fields from the request itself: extractors, a resolver, trace context.

Configured on :class:`~starlette_correlate.CorrelationMiddleware`::

    app.add_middleware(
        CorrelationMiddleware,
        extractors={
            "session_id": from_header("X-Session-ID"),
            "tenant": from_query("tenant"),
        },
        resolver=find_user,          # async (request, fields) -> {"user_id": ...}
        resolver_timeout=0.5,
    )

Extractors are plain functions ``(request) -> str | None``; the resolver is
awaited after them with the fields found so far, under a time-out. Each
value must be printable text of at most 512 characters
(:func:`~starlette_correlate.ids.is_safe_field_value`): spaces, commas and
Unicode are kept, control characters are not. Whatever goes wrong (an
extractor raising, the resolver raising or timing out, a hostile value) the
request goes on without that field, and one warning names the field and
the kind of failure, never the raw value.

The request the extractors see cannot read the body: consuming it here
would take it from the app.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import anyio
from starlette.requests import HTTPConnection
from starlette.types import Scope

from starlette_correlate.ids import is_safe_field_value
from starlette_correlate.logs.record_attributes import RECORD_ATTRIBUTES
from starlette_correlate.traceparent import TraceParent

__all__ = [
    "DEFAULT_RESOLVER_TIMEOUT",
    "Extractor",
    "FieldExtraction",
    "Resolver",
    "check_field_name",
    "from_cookie",
    "from_header",
    "from_query",
]

_logger = logging.getLogger("starlette_correlate")

Extractor = Callable[[HTTPConnection], "str | None"]
"""Returns a field's value from the request, or ``None`` when it has none.

It gets an ``HTTPConnection`` (headers, query parameters, cookies, client,
path) because WebSocket handshakes are enriched too; a ``Request`` is one.
"""

Resolver = Callable[
    [HTTPConnection, Mapping[str, str]], Awaitable["Mapping[str, object] | None"]
]
"""Awaited with the request and the extracted fields; returns more fields."""

DEFAULT_RESOLVER_TIMEOUT = 1.0
"""Seconds the resolver may take before the request goes on without it."""


def from_header(name: str) -> Extractor:
    """Return an extractor reading header ``name`` (absent if sent twice).

    Example::

        >>> from starlette.requests import HTTPConnection
        >>> scope = {"type": "http", "headers": [(b"x-session-id", b"s-1")]}
        >>> request = HTTPConnection(scope)
        >>> from_header("X-Session-ID")(request)
        's-1'
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"from_header: {name!r} is not a header name")

    def header(request: HTTPConnection) -> str | None:
        values = request.headers.getlist(name)
        return values[0] if len(values) == 1 else None

    header.__qualname__ = f"from_header({name!r})"
    return header


def from_query(name: str) -> Extractor:
    """Return an extractor reading query parameter ``name`` (absent if repeated).

    Example::

        >>> from starlette.requests import HTTPConnection
        >>> request = HTTPConnection({"type": "http", "query_string": b"tenant=t-9"})
        >>> from_query("tenant")(request)
        't-9'
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"from_query: {name!r} is not a parameter name")

    def query(request: HTTPConnection) -> str | None:
        values = request.query_params.getlist(name)
        return values[0] if len(values) == 1 else None

    query.__qualname__ = f"from_query({name!r})"
    return query


def from_cookie(name: str) -> Extractor:
    """Return an extractor reading cookie ``name``.

    Example::

        >>> from starlette.requests import HTTPConnection
        >>> scope = {"type": "http", "headers": [(b"cookie", b"theme=dark")]}
        >>> request = HTTPConnection(scope)
        >>> from_cookie("theme")(request)
        'dark'
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"from_cookie: {name!r} is not a cookie name")

    def cookie(request: HTTPConnection) -> str | None:
        return request.cookies.get(name)

    cookie.__qualname__ = f"from_cookie({name!r})"
    return cookie


def check_field_name(name: object) -> str:
    """Return ``name`` if it can be a field on log records, else raise ``ValueError``.

    Example::

        >>> check_field_name("session_id")
        'session_id'
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"extractors: field name {name!r} is not a valid identifier; "
            "use e.g. 'session_id'"
        )
    if name in RECORD_ATTRIBUTES:
        raise ValueError(
            f"extractors: field name {name!r} is a LogRecord attribute and would "
            "never reach a log line; pick another, e.g. 'app_" + name + "'"
        )
    return name


class FieldExtraction:
    """The extractors and the resolver: a request feature, built only when set.

    ``extractors`` is a sequence of ``(field name, extractor)`` pairs whose
    names were checked (:class:`~starlette_correlate.config.CorrelationConfig`
    does it); ``resolver`` is awaited with the fields found, at most
    ``resolver_timeout`` seconds. Nothing raised by either fails the request.

    Example::

        >>> extraction = FieldExtraction((("tenant", from_query("t")),), None, 1.0)
        >>> import asyncio
        >>> found = {}
        >>> scope = {"type": "http", "query_string": b"t=t-9", "headers": []}
        >>> asyncio.run(extraction.enter(scope, None, found)) is None
        True
        >>> found
        {'tenant': 't-9'}
    """

    __slots__ = ("extractors", "resolver", "resolver_timeout")

    def __init__(
        self,
        extractors: Sequence[tuple[str, Extractor]],
        resolver: Resolver | None,
        resolver_timeout: float,
    ) -> None:
        self.extractors = tuple(extractors)
        self.resolver = resolver
        self.resolver_timeout = resolver_timeout

    async def enter(
        self,
        scope: Scope,
        trace: tuple[str, TraceParent] | None,
        found: dict[str, object],
    ) -> None:
        """Add the request's extracted and resolved fields to ``found``."""
        request = HTTPConnection(scope)
        for name, extractor in self.extractors:
            try:
                value = extractor(request)
            except Exception as exc:  # noqa: BLE001 - never fail the request
                _logger.warning(
                    "field %s: the extractor raised %s; field left out",
                    name,
                    type(exc).__name__,
                )
                continue
            _keep(found, name, value)
        if self.resolver is not None:
            await self._resolve(request, found)

    async def _resolve(self, request: HTTPConnection, found: dict[str, object]) -> None:
        assert self.resolver is not None  # noqa: S101 - checked by the caller
        view: Mapping[str, Any] = dict(found)
        try:
            with anyio.fail_after(self.resolver_timeout):
                result = self.resolver(request, view)
                resolved = await result if inspect.isawaitable(result) else result
        except TimeoutError:
            _logger.warning(
                "resolver: timed out after %.3g s; its fields left out",
                self.resolver_timeout,
            )
            return
        except Exception as exc:  # noqa: BLE001 - never fail the request
            _logger.warning(
                "resolver: raised %s; its fields left out", type(exc).__name__
            )
            return
        if resolved is None:
            return
        if not isinstance(resolved, Mapping):
            _logger.warning(
                "resolver: returned a %s, not a mapping; its fields left out",
                type(resolved).__name__,
            )
            return
        for name, value in resolved.items():
            if (
                not isinstance(name, str)
                or not name.isidentifier()
                or name in RECORD_ATTRIBUTES
            ):
                _logger.warning("resolver: a field name was refused; left out")
                continue
            _keep(found, name, value)


def _keep(found: dict[str, object], name: str, value: object) -> None:
    if value is None:
        return
    text = value if isinstance(value, str) else str(value)
    if is_safe_field_value(text):
        found[name] = text
    else:
        # Only the length: the value itself may be an attack on the logs.
        _logger.warning(
            "field %s: a %s of %d characters failed the safety check; field left out",
            name,
            type(value).__name__,
            len(text),
        )
