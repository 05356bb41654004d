"""The correlation ID's context variable and the helpers that read it.

This module owns :data:`correlation_id_var`. Everything else in the library,
and any code of yours, reads the current ID through it, so an ID set by the
middleware, by :func:`~starlette_correlate.scope.correlation_scope` or by a
task-queue signal is seen the same way everywhere. It also owns
:data:`correlation_header_var`, the header name under which that ID
travels, which outbound integrations read (D-where-recipes-1).
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = [
    "DEFAULT_HEADER",
    "correlation_header_var",
    "correlation_id_var",
    "get_correlation_header",
    "get_correlation_id",
]

DEFAULT_HEADER = "X-Request-ID"
"""The header an ID is read from and sent in unless configured otherwise."""

correlation_id_var: ContextVar[str | None] = ContextVar(
    "starlette_correlate.correlation_id", default=None
)
"""The correlation ID of the request (or job) running in this context.

``None`` outside a request. Set it only through the library's middleware,
context store or scopes, which always reset it with the token they got.

Example::

    >>> from starlette_correlate import correlation_id_var
    >>> correlation_id_var.get() is None
    True
"""


def get_correlation_id() -> str | None:
    """Return the current correlation ID, or ``None`` outside a request.

    Example::

        >>> from starlette_correlate import get_correlation_id
        >>> get_correlation_id() is None
        True
    """
    return correlation_id_var.get()


correlation_header_var: ContextVar[str | None] = ContextVar(
    "starlette_correlate.correlation_header", default=None
)
"""The header name of the host that set the current ID; ``None``: the default.

Set, next to the ID, only by a middleware whose ``header_name`` is not
``X-Request-ID``, so the default configuration pays nothing for it; reset
with the ID. Outbound integrations send the ID under this name unless told
another (read it with :func:`get_correlation_header`).

Example::

    >>> from starlette_correlate.context import correlation_header_var
    >>> correlation_header_var.get() is None
    True
"""


def get_correlation_header() -> str:
    """Return the header name under which the current ID travels.

    The ``header_name`` of the middleware that set the ID, or
    ``X-Request-ID`` when it uses the default or no middleware set it.

    Example::

        >>> from starlette_correlate import CorrelationCore
        >>> core = CorrelationCore(header_name="X-Correlation-ID")
        >>> core.request_phase("req-1", "abc")
        'abc'
        >>> get_correlation_header()
        'X-Correlation-ID'
        >>> core.response_phase("req-1")
        True
        >>> get_correlation_header()
        'X-Request-ID'
    """
    return correlation_header_var.get() or DEFAULT_HEADER
