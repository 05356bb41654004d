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
import math
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any

import anyio
from starlette.requests import HTTPConnection
from starlette.types import Scope

from starlette_correlate.fields import fields_var, merge_fields, set_fields
from starlette_correlate.ids import DEFAULT_MAX_LENGTH, is_safe_field_value, is_safe_id
from starlette_correlate.store import ContextStore
from starlette_correlate.traceparent import (
    TRACE_FIELD,
    TraceParent,
    parse_traceparent,
    traceparent_var,
)

__all__ = [
    "DEFAULT_RESOLVER_TIMEOUT",
    "Extractor",
    "RequestEnricher",
    "Resolver",
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

# A field is written onto log records; one named like a LogRecord attribute
# would be dropped by the filter (it never overwrites), so refuse it early.
_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
}
_TRACEPARENT = b"traceparent"
_MAX_FORWARDED = 512


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


def _check_field_name(name: object) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"extractors: field name {name!r} is not a valid identifier; "
            "use e.g. 'session_id'"
        )
    if name in _RESERVED:
        raise ValueError(
            f"extractors: field name {name!r} is a LogRecord attribute and would "
            "never reach a log line; pick another, e.g. 'app_" + name + "'"
        )
    return name


class RequestEnricher:
    """The per-request work behind the middleware's context options.

    Built only when at least one option is set, so a middleware without
    them does no extra work per request. ``extractors`` maps field names to
    :data:`Extractor` functions; ``resolver`` is awaited with the fields
    found (at most ``resolver_timeout`` seconds); ``trace_context`` reads a
    W3C ``traceparent`` and binds its ``trace_id``; ``adopt_trace_id``
    (which implies ``trace_context``) uses the trace ID as the correlation
    ID when the request brings none.

    Example::

        >>> enricher = RequestEnricher.create(extractors={"tenant": from_query("t")})
        >>> enricher is not None
        True
        >>> RequestEnricher.create() is None
        True
    """

    __slots__ = (
        "adopt_trace_id",
        "extractors",
        "max_length",
        "resolver",
        "resolver_timeout",
        "trace_context",
    )

    def __init__(
        self,
        *,
        extractors: Mapping[str, Extractor] | None = None,
        resolver: Resolver | None = None,
        resolver_timeout: float = DEFAULT_RESOLVER_TIMEOUT,
        trace_context: bool = False,
        adopt_trace_id: bool = False,
        max_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        if extractors is None:
            extractors = {}
        if not isinstance(extractors, Mapping):
            raise TypeError(
                "extractors: pass a mapping of field name to extractor, e.g. "
                "{'session_id': from_header('X-Session-ID')}"
            )
        for name, extractor in extractors.items():
            _check_field_name(name)
            if not callable(extractor):
                raise TypeError(
                    f"extractors: the extractor of {name!r} is {extractor!r}, not a "
                    "function; use from_header(...), from_query(...), "
                    "from_cookie(...) or a function (request) -> str | None"
                )
        self.extractors: tuple[tuple[str, Extractor], ...] = tuple(extractors.items())
        if resolver is not None and not callable(resolver):
            raise TypeError(
                f"resolver: {resolver!r} is not callable; pass an async function "
                "(request, fields) -> mapping of more fields"
            )
        self.resolver = resolver
        if (
            isinstance(resolver_timeout, bool)
            or not isinstance(resolver_timeout, int | float)
            or not math.isfinite(resolver_timeout)
            or resolver_timeout <= 0
        ):
            raise ValueError(
                f"resolver_timeout: {resolver_timeout!r} must be a positive number "
                "of seconds, e.g. 0.5"
            )
        self.resolver_timeout = float(resolver_timeout)
        self.adopt_trace_id = bool(adopt_trace_id)
        self.trace_context = bool(trace_context) or self.adopt_trace_id
        self.max_length = max_length

    @classmethod
    def create(
        cls,
        *,
        extractors: Mapping[str, Extractor] | None = None,
        resolver: Resolver | None = None,
        resolver_timeout: float = DEFAULT_RESOLVER_TIMEOUT,
        trace_context: bool = False,
        adopt_trace_id: bool = False,
        max_length: int = DEFAULT_MAX_LENGTH,
    ) -> RequestEnricher | None:
        """Return an enricher, or ``None`` when no option asks for one."""
        enricher = cls(
            extractors=extractors,
            resolver=resolver,
            resolver_timeout=resolver_timeout,
            trace_context=trace_context,
            adopt_trace_id=adopt_trace_id,
            max_length=max_length,
        )
        if enricher.extractors or enricher.resolver or enricher.trace_context:
            return enricher
        return None

    def trace_of(self, scope: Scope) -> tuple[str, TraceParent] | None:
        """Return the raw and parsed valid ``traceparent`` of ``scope``, if any.

        A header sent twice counts as absent, as for IDs.
        """
        if not self.trace_context:
            return None
        found: bytes | None = None
        for name, value in scope["headers"]:
            if name == _TRACEPARENT:
                if found is not None:
                    return None
                found = value
        if found is None:
            return None
        raw = found.decode("latin-1")
        parsed = parse_traceparent(raw)
        return None if parsed is None else (raw, parsed)

    def adopted(
        self, incoming: str | None, trace: tuple[str, TraceParent] | None
    ) -> str | None:
        """Return the incoming ID, or the trace ID when adopting and none came.

        The core still applies trust and the validator to an adopted ID.
        """
        if incoming is None and trace is not None and self.adopt_trace_id:
            return trace[1].trace_id
        return incoming

    async def enter(
        self,
        scope: Scope,
        trace: tuple[str, TraceParent] | None,
        store: ContextStore,
        key: Hashable,
    ) -> None:
        """Bind the request's fields; keep the ``traceparent`` for outbound calls.

        Never raises for a failing extractor or resolver. The caller restores
        :data:`~starlette_correlate.fields.fields_var` when the request ends;
        the ``traceparent`` token goes into ``store`` under ``key``.
        """
        found: dict[str, object] = {}
        if trace is not None:
            raw, parsed = trace
            # Forward what arrived, unchanged, when it is safe to put in a
            # header; a later version's unchecked tail (any bytes, any length)
            # must not ride on, so then forward the version 00 form we parsed.
            forwarded = (
                raw if is_safe_id(raw, _MAX_FORWARDED) else parsed.as_version_00()
            )
            store.push(key, traceparent_var.set(forwarded))
            found[TRACE_FIELD] = parsed.trace_id
        if self.extractors or self.resolver is not None:
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
                self._keep(found, name, value)
            if self.resolver is not None:
                await self._resolve(request, found)
        if found:
            set_fields(merge_fields(fields_var.get(), found))

    def _keep(self, found: dict[str, object], name: str, value: object) -> None:
        if value is None:
            return
        text = value if isinstance(value, str) else str(value)
        if is_safe_field_value(text):
            found[name] = text
        else:
            # Only the length: the value itself may be an attack on the logs.
            _logger.warning(
                "field %s: a %s of %d characters failed the safety check; "
                "field left out",
                name,
                type(value).__name__,
                len(text),
            )

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
                or name in _RESERVED
            ):
                _logger.warning("resolver: a field name was refused; left out")
                continue
            self._keep(found, name, value)
