"""The one rule of outbound calls, shared by every carrier (httpx, requests, aiohttp).

While an ID is active, a call carries it under the header name of the host
that set it (:func:`~starlette_correlate.context.get_correlation_header`;
``X-Request-ID`` under ``correlation_scope`` alone) unless the carrier was
given a ``header_name``; with trace context on, the incoming ``traceparent``
rides along; with two IDs on, the inherited ID rides along under the
``inherited_header`` of the host that set it (the current ID, this hop's,
is the callee's parent). A header already on the call, set by the caller on the call or
on the session, is kept. Outside a request or scope nothing is added.

This module imports no client package: a carrier hands it its own header
mapping (``httpx.Headers``, requests' ``CaseInsensitiveDict``, aiohttp's
``CIMultiDict``), all case-insensitive with ``in`` and item assignment
(D-peers-carriers-3).
"""

from __future__ import annotations

from typing import Protocol

from starlette_correlate.config import check_written_header_name
from starlette_correlate.context import (
    DEFAULT_HEADER,
    correlation_header_var,
    correlation_id_var,
)
from starlette_correlate.traceparent import traceparent_var
from starlette_correlate.two_ids import two_ids_in_use, two_ids_var

__all__ = ["OutboundHeaders", "add_outbound_headers", "checked_header_name"]

_TRACEPARENT = "traceparent"


class OutboundHeaders(Protocol):
    """The headers of a call about to be sent, looked up case-insensitively."""

    def __contains__(self, name: object, /) -> bool: ...
    def __setitem__(self, name: str, value: str, /) -> None: ...


def add_outbound_headers(
    headers: OutboundHeaders, header_name: str | None = None
) -> None:
    """Add the current ID (and ``traceparent``) to ``headers`` unless set.

    ``header_name`` fixes the ID's header; ``None`` follows the host that
    set the current ID.

    Example::

        >>> from starlette_correlate.scope import correlation_scope
        >>> headers = {"X-Other": "kept"}
        >>> with correlation_scope("abc"):
        ...     add_outbound_headers(headers)
        >>> headers
        {'X-Other': 'kept', 'X-Request-ID': 'abc'}
        >>> outside = {}
        >>> add_outbound_headers(outside)
        >>> outside
        {}
    """
    correlation_id = correlation_id_var.get()
    if correlation_id is None:
        return
    # Until a process first sets two IDs there are none to read.
    two_ids = two_ids_var.get() if two_ids_in_use.seen else None
    if (
        two_ids is not None
        and header_name is not None
        and header_name.lower() == two_ids.header.lower()
    ):
        # A carrier pinned to the inherited header: that header carries the
        # inherited ID, as at every hop, and this hop's ID goes under the
        # host's header, where the callee finds its parent (D-peers-two-7).
        header_name = None
    if header_name is None:
        header_name = correlation_header_var.get() or DEFAULT_HEADER
    if header_name not in headers:
        headers[header_name] = correlation_id
    traceparent = traceparent_var.get()
    if traceparent is not None and _TRACEPARENT not in headers:
        headers[_TRACEPARENT] = traceparent
    if two_ids is not None and two_ids.header not in headers:
        headers[two_ids.header] = two_ids.inherited


def checked_header_name(header_name: str | None) -> str | None:
    """Return a carrier's ``header_name`` option, or raise ``ValueError``.

    Checked once, when the carrier is set up, never at call time.

    Example::

        >>> checked_header_name("X-Correlation-ID")
        'X-Correlation-ID'
        >>> checked_header_name("no spaces please")
        Traceback (most recent call last):
        ...
        ValueError: header_name: 'no spaces please' is not a valid HTTP header name; use letters, digits and '-', e.g. 'X-Request-ID'
    """  # noqa: E501
    if header_name is None:
        return None
    return check_written_header_name(header_name, "header_name")
