"""The opt-in request features, each a small object behind one protocol.

A feature that is off is not built, so it costs a request nothing: the
middleware holds a tuple of the features that are on and walks it only
when it is not empty. Each :class:`Feature` is entered once per request,
after the ID is set and before the app runs; it adds the fields it found to
``found`` (bound once for all features) and may return the reset token of
a context variable it set, which the middleware resets when the request
ends.

The features: :class:`RequestHeader` (``set_request_header``),
:class:`TraceContext` (``trace_context`` and ``adopt_trace_id``) and
:class:`~starlette_correlate.extract.FieldExtraction` (``extractors`` and
``resolver``). The access log and the error log are
not entered per request: the access log is an inner ASGI wrapper built
only when on, the error log a logger the error path has only when on.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import Token
from typing import Any, Protocol

from starlette.types import Scope

from starlette_correlate.config import CorrelationConfig
from starlette_correlate.context import correlation_id_var
from starlette_correlate.core import pick_header
from starlette_correlate.extract import FieldExtraction
from starlette_correlate.ids import is_safe_id
from starlette_correlate.traceparent import (
    TRACE_FIELD,
    TraceParent,
    parse_traceparent,
    traceparent_var,
)
from starlette_correlate.two_ids import two_ids_var

__all__ = ["Feature", "RequestHeader", "Trace", "TraceContext", "build_features"]

Trace = tuple[str, TraceParent]
"""A request's valid ``traceparent``: as received, and parsed."""

_TRACEPARENT = (b"traceparent",)
_MAX_FORWARDED = 512


class Feature(Protocol):
    """What the middleware asks of an opt-in feature, once per request."""

    async def enter(
        self, scope: Scope, trace: Trace | None, found: dict[str, object]
    ) -> Token[Any] | None:
        """Add fields to ``found``; return the token of a variable it set."""


class TraceContext:
    """W3C trace context: read the ``traceparent``, bind its trace ID, forward it.

    :meth:`read` runs before the ID is chosen (the trace ID may be adopted);
    :meth:`enter` binds ``trace_id`` and keeps the header in
    :data:`~starlette_correlate.traceparent.traceparent_var` for the httpx
    hooks.

    Example::

        >>> header = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        >>> raw, parsed = TraceContext().read({"headers": [(b"traceparent", header)]})
        >>> parsed.trace_id
        '4bf92f3577b34da6a3ce929d0e0e4736'
    """

    __slots__ = ()

    def read(self, scope: Scope) -> Trace | None:
        """Return the valid ``traceparent`` of ``scope``; absent if sent twice."""
        found = pick_header(scope["headers"], _TRACEPARENT)
        if found is None:
            return None
        raw = found.decode("latin-1")
        parsed = parse_traceparent(raw)
        return None if parsed is None else (raw, parsed)

    async def enter(
        self, scope: Scope, trace: Trace | None, found: dict[str, object]
    ) -> Token[Any] | None:
        """Bind the trace ID; keep the header to forward, safe to resend."""
        if trace is None:
            return None
        raw, parsed = trace
        found[TRACE_FIELD] = parsed.trace_id
        # Forward what arrived, unchanged, when it is safe to put in a
        # header; a later version's unchecked tail (any bytes, any length)
        # must not ride on, so then forward the version 00 form we parsed.
        forwarded = raw if is_safe_id(raw, _MAX_FORWARDED) else parsed.as_version_00()
        return traceparent_var.set(forwarded)


class RequestHeader:
    r"""Write the chosen ID into the request's own header list, once.

    Every copy of ``header_name`` and of each ``incoming_headers`` name is
    removed, whatever its case, so a refused or repeated incoming value is
    never passed on; the ID is added once under ``header_name``. With two
    IDs, ``inherited_header`` is treated the same way and carries the
    inherited ID (D-peers-two-4). The scope gets a new list: the server's
    own is never changed (D-peers-headers-1).

    Example::

        >>> feature = RequestHeader("X-Request-ID", ("X-Request-ID", "X-Alias"))
        >>> incoming = [(b"x-request-id", b"a\r\nb"), (b"accept", b"*/*")]
        >>> feature.rewrite([*incoming, (b"X-Alias", b"c")], "new-id")
        [(b'accept', b'*/*'), (b'x-request-id', b'new-id')]
    """

    __slots__ = ("inherited", "name", "names")

    def __init__(
        self,
        header_name: str,
        incoming_headers: Iterable[str],
        inherited_header: str | None = None,
    ) -> None:
        self.name = header_name.lower().encode("latin-1")
        self.inherited = (
            None
            if inherited_header is None
            else inherited_header.lower().encode("latin-1")
        )
        names = {
            self.name,
            *(name.lower().encode("latin-1") for name in incoming_headers),
        }
        if self.inherited is not None:
            names.add(self.inherited)
        self.names = frozenset(names)

    def rewrite(
        self,
        headers: Iterable[tuple[bytes, bytes]],
        correlation_id: str,
        inherited: str | None = None,
    ) -> list[tuple[bytes, bytes]]:
        """Return a new list: ``headers`` without the IDs' names, then the IDs."""
        names = self.names
        # lower(): a server that breaks ASGI's lowercase rule must not slip
        # a refused value past us under another case.
        kept = [pair for pair in headers if pair[0].lower() not in names]
        kept.extend(self.pairs(correlation_id, inherited))
        return kept

    def pairs(
        self, correlation_id: str, inherited: str | None = None
    ) -> list[tuple[bytes, bytes]]:
        """Return the headers that carry the IDs, once each, after the removal.

        The one home of what is written, for :meth:`rewrite` and for a host
        with its own header store (Django's ``request.META``, D-django-6).

        Example::

            >>> RequestHeader("X-Request-ID", (), "X-Correlation-ID").pairs("a", "c")
            [(b'x-request-id', b'a'), (b'x-correlation-id', b'c')]
        """
        written = [(self.name, correlation_id.encode("latin-1"))]
        if inherited is not None and self.inherited is not None:
            written.append((self.inherited, inherited.encode("latin-1")))
        return written

    async def enter(
        self, scope: Scope, trace: Trace | None, found: dict[str, object]
    ) -> Token[Any] | None:
        """Give the scope a new header list carrying the ID the logs carry."""
        correlation_id = correlation_id_var.get()
        if correlation_id is not None:  # always set by the middleware first
            two_ids = None if self.inherited is None else two_ids_var.get()
            scope["headers"] = self.rewrite(
                scope["headers"],
                correlation_id,
                None if two_ids is None else two_ids.inherited,
            )
        return None


def build_features(
    config: CorrelationConfig,
) -> tuple[TraceContext | None, tuple[Feature, ...]]:
    """Return the trace reader (or ``None``) and the features ``config`` turns on.

    Example::

        >>> build_features(CorrelationConfig())
        (None, ())
    """
    trace = TraceContext() if config.trace_context else None
    features: list[Feature] = []
    if config.set_request_header:
        # First, so the extractors and the resolver read the new headers.
        features.append(
            RequestHeader(
                config.header_name,
                config.incoming_headers or (),
                config.inherited_header,
            )
        )
    if trace is not None:
        features.append(trace)
    if config.extractors or config.resolver is not None:
        features.append(
            FieldExtraction(
                tuple((config.extractors or {}).items()),
                config.resolver,
                config.resolver_timeout,
            )
        )
    return trace, tuple(features)
