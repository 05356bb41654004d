"""The correlation ID's context variable and the helpers that read it.

This module owns :data:`correlation_id_var`. Everything else in the library,
and any code of yours, reads the current ID through it, so an ID set by the
middleware, by :func:`~starlette_correlate.scope.correlation_scope` or by a
task-queue signal is seen the same way everywhere.
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["correlation_id_var", "get_correlation_id"]

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
