"""The access log: one line per request, written while its ID is active.

:class:`AccessLogMiddleware` sits *inside* :class:`CorrelationMiddleware`
(``CorrelationMiddleware(app, access_log=True)`` puts it there), so the
correlation ID and the bound fields are still set when it logs, and the
filter on your handlers stamps the line like any other. It watches
``send``: the status comes from ``http.response.start``, the duration runs
to the moment the last body chunk was handed to the server.

Only ``http`` requests are logged; WebSockets and lifespan pass through.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ACCESS_LOGGER", "AccessLogMiddleware"]

ACCESS_LOGGER = "starlette_correlate.access"
"""The name of the logger the access lines are written to."""

_LAST_MESSAGES = frozenset({"http.response.body", "http.response.pathsend"})
_FAILED = 500
_CLIENT_CLOSED = 499


class AccessLogMiddleware:
    """Log one INFO line per HTTP request on ``starlette_correlate.access``.

    The line's message reads ``127.0.0.1:50000 "GET /path" 200 1.2ms``; its
    record carries the fields ``method``, ``path`` (percent-encoded, without
    the query string, which may hold secrets), ``status``, ``duration_ms``,
    ``client`` (``host:port`` or ``-``) and, when the last body byte never
    left (the client went away, or the app failed mid-stream),
    ``incomplete=True``. The correlation ID comes from the filter on your
    handler, like every other line.

    ``status`` is what the client was sent. When the app fails (or returns)
    before starting a response it is 500, the 500 the correlation middleware
    (or the server) sends next, and the duration ends there; when the
    request is cancelled before any response it is 499, the usual "client
    closed the request" code, with ``incomplete=True``.

    Use ``CorrelationMiddleware(app, access_log=True)`` rather than this
    class directly: placed outside the correlation middleware it would log
    after the ID is gone. ``logger`` replaces the default
    ``logging.getLogger("starlette_correlate.access")``.

    Example::

        from starlette.applications import Starlette
        from starlette_correlate import CorrelationMiddleware

        app = Starlette()
        app.add_middleware(CorrelationMiddleware, access_log=True)
    """

    def __init__(self, app: ASGIApp, *, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app and log its request's line."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        finished: float | None = None

        async def watching_send(message: Message) -> None:
            nonlocal status, finished
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
            elif kind in _LAST_MESSAGES and not message.get("more_body", False):
                await send(message)
                finished = time.perf_counter()
                return
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception:
            if status == 0:
                # The correlation middleware answers with a 500 right after.
                status, finished = _FAILED, time.perf_counter()
            raise
        except BaseException:
            if status == 0:
                status = _CLIENT_CLOSED
            raise
        else:
            if status == 0:
                # An app that returned without responding gets the server's 500.
                status, finished = _FAILED, time.perf_counter()
        finally:
            self._log(scope, status, started, finished)

    def _log(
        self, scope: Scope, status: int, started: float, finished: float | None
    ) -> None:
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        end = time.perf_counter() if finished is None else finished
        duration_ms = round((end - started) * 1000, 3)
        method = scope.get("method", "-")
        # ASGI's path already includes root_path (uvicorn and Starlette agree
        # since 2024); older servers left it out.
        path = scope.get("path", "")
        root_path = scope.get("root_path", "")
        if root_path and not path.startswith(root_path):
            path = root_path + path
        path = quote(path)
        client = scope.get("client")
        address = f"{client[0]}:{client[1]}" if client else "-"
        extra: dict[str, object] = {
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "client": address,
        }
        if finished is None:
            extra["incomplete"] = True
        logger.info(
            '%s "%s %s" %d %.1fms',
            address,
            method,
            path,
            status,
            duration_ms,
            extra=extra,
        )
