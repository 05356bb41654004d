"""The library's own traceback line, written while the request's ID is set.

Some servers log an unhandled exception where no ID can reach the line:
granian logs a pre-formatted traceback with no exception attached, and
daphne logs from a timer, outside the request, where a shared exception
object cannot tell which request it failed. With
``CorrelationMiddleware(app, error_log=True)`` the middleware logs the
exception itself, on the ``starlette_correlate.error`` logger, before it
re-raises it, so the line carries the request's ID and bound fields like
any line of the app. :class:`SkipLoggedErrors`, put on the server's own
error logger, then drops the server's second copy of that traceback.
"""

from __future__ import annotations

import logging

from starlette.types import Scope

from starlette_correlate.errors import mark_logged, was_logged
from starlette_correlate.logs.access import display_path

__all__ = ["ERROR_LOGGER", "SkipLoggedErrors", "log_unhandled"]

ERROR_LOGGER = "starlette_correlate.error"
"""The name of the logger the library's traceback lines are written to."""


def log_unhandled(logger: logging.Logger, scope: Scope, exc: BaseException) -> None:
    """Log ``exc`` with its traceback on ``logger``, at ERROR, for ``scope``.

    Called by the middleware while the request's ID is still set. The
    message names the method and path (percent-encoded, without the query
    string, as the access line does).

    Example::

        >>> import logging
        >>> scope = {"type": "http", "method": "GET", "path": "/x"}
        >>> log_unhandled(logging.getLogger("demo"), scope, ValueError())
    """
    try:
        method = scope.get("method", "WEBSOCKET")
        path = display_path(scope)
        logger.error(
            'Unhandled exception in "%s %s"',
            method,
            path,
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"method": method, "path": path},
        )
    finally:
        mark_logged(exc)


class SkipLoggedErrors(logging.Filter):
    """Drop a record whose exception the library's error line already logged.

    Put it on the server's own error logger (``daphne.server``,
    ``uvicorn.error``, ...) when ``error_log=True``: the server's traceback
    of the same exception would be a second copy. Records without an
    exception, and exceptions the library did not log, pass.

    Example::

        >>> import logging
        >>> logging.getLogger("daphne.server").addFilter(SkipLoggedErrors())
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Return ``False`` for a traceback the library already logged."""
        exc_info = record.exc_info
        return not (isinstance(exc_info, tuple) and was_logged(exc_info[1]))
