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

from starlette_correlate.provenance import REFUSED_STATE_KEY

__all__ = ["ACCESS_LOGGER", "AccessLine", "AccessLogMiddleware"]

ACCESS_LOGGER = "starlette_correlate.access"
"""The name of the logger the access lines are written to."""

_LAST_MESSAGES = frozenset({"http.response.body", "http.response.pathsend"})
_FAILED = 500
_CLIENT_CLOSED = 499


def display_path(scope: Scope) -> str:
    """Return the request's full path, percent-encoded, without the query.

    Example::

        >>> display_path({"path": "/api/a b", "root_path": "/api"})
        '/api/a%20b'
    """
    # ASGI's path already includes root_path (uvicorn and Starlette agree
    # since 2024); older servers left it out.
    path: str = scope.get("path", "")
    root_path: str = scope.get("root_path", "")
    if root_path and not path.startswith(root_path):
        path = root_path + path
    return quote(path)


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
    (or the server) sends next, and the duration ends there. When the
    client is gone before the response started -- the server's ``receive``
    returned ``http.disconnect`` (a client that dropped mid-upload), a
    ``send`` raised ``OSError``, or the request was cancelled -- it is 499,
    the usual "client closed the request" code, with ``incomplete=True``,
    whatever the app sent to the closed connection afterwards. A client
    gone mid-body keeps the status it was sent, with ``incomplete=True``.
    A server that silently drops the response of a client gone meanwhile,
    to an app that never reads ``receive``, leaves nothing to see: that
    line says what the app sent.

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
        line = self.start(scope, receive, send)
        if line is None:
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, line.receive, line.send)
        except BaseException as exc:
            line.finish(exc)
            raise
        line.finish(None)

    def start(self, scope: Scope, receive: Receive, send: Send) -> AccessLine | None:
        """Return the line of this request, watching ``receive`` and ``send``.

        ``None`` for anything but HTTP. The correlation middleware calls it
        itself, so the 500 it answers an error with goes through the line's
        ``send`` before :meth:`AccessLine.finish` writes it.
        """
        if scope["type"] != "http":
            return None
        return AccessLine(self.logger, scope, receive, send)


class AccessLine:
    """One request's access line: watches its messages, logs it when finished.

    Call :meth:`receive` and :meth:`send` in place of the server's, then
    :meth:`finish` with how the app ended (``None``, or what it raised).
    """

    __slots__ = (
        "finished",
        "gone",
        "logger",
        "scope",
        "server_receive",
        "server_send",
        "started",
        "status",
    )

    def __init__(
        self, logger: logging.Logger, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self.logger = logger
        self.scope = scope
        self.server_receive = receive
        self.server_send = send
        self.started = time.perf_counter()
        self.status = 0
        self.finished: float | None = None
        # The status already sent when the client was seen gone (0: none),
        # before the last body byte left; None while it is there. The server
        # says so through receive (http.disconnect) or by failing a send.
        self.gone: int | None = None

    async def receive(self) -> Message:
        """Receive from the server; note a client gone before the end."""
        message = await self.server_receive()
        if (
            message["type"] == "http.disconnect"
            and self.finished is None
            and self.gone is None
        ):
            self.gone = self.status
        return message

    async def send(self, message: Message) -> None:
        """Send to the server; note the status, the end, a client gone."""
        kind = message["type"]
        if kind == "http.response.start":
            if self.gone is None:
                self.status = message["status"]
            try:
                await self.server_send(message)
            except OSError:
                # ASGI 2.4: a send to a client that is gone raises OSError
                # (uvicorn's ClientDisconnected, for one); the start never
                # left.
                self.gone = 0 if self.gone is None else self.gone
                raise
            return
        try:
            await self.server_send(message)
        except OSError:
            self.gone = self.status if self.gone is None else self.gone
            raise
        if (
            self.gone is None
            and kind in _LAST_MESSAGES
            and not message.get("more_body", False)
        ):
            self.finished = time.perf_counter()

    def finish(self, failure: BaseException | None) -> None:
        """Write the line, given what the app raised (``None`` if it returned)."""
        if self.status == 0 and self.gone is None:
            if failure is None or isinstance(failure, Exception):
                # No response: the server's 500 (or the correlation
                # middleware's, had its answer not gone out) follows.
                self.status, self.finished = _FAILED, time.perf_counter()
            else:  # cancelled: the client is gone
                self.gone = 0
        if self.gone == 0 and self.finished is None:
            self.status = _CLIENT_CLOSED
        self._log()

    def _log(self) -> None:
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        finished = self.finished
        end = time.perf_counter() if finished is None else finished
        duration_ms = round((end - self.started) * 1000, 3)
        scope = self.scope
        method = scope.get("method", "-")
        path = display_path(scope)
        client = scope.get("client")
        address = f"{client[0]}:{client[1]}" if client else "-"
        status = self.status
        extra: dict[str, object] = {
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "client": address,
        }
        if finished is None:
            extra["incomplete"] = True
        # A replaced ID's reason and length, never the value (the source
        # itself is on every record, written by the filter).
        state = scope.get("state")
        refused = None if state is None else state.get(REFUSED_STATE_KEY)
        if refused is not None:
            extra["refused"] = refused.reason
            extra["refused_length"] = refused.length
        logger.info(
            '%s "%s %s" %d %.1fms',
            address,
            method,
            path,
            status,
            duration_ms,
            extra=extra,
        )
