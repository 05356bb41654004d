"""The unhandled-exception path: a 500 that names the ID, and a traceback that does.

Starlette's ``ServerErrorMiddleware`` sits outside every middleware added
with ``app.add_middleware``. Its 500 response goes to the server's ``send``,
not through ours, so a peer that only decorates ``send`` loses its header on
exactly the responses operators most need it on. Our middleware therefore
answers an unhandled exception itself, through its own ``send``, before the
exception leaves it, and then re-raises it: Starlette sees the response has
started and sends nothing more; the server (or a test client) still gets the
exception to log or raise. By the time the server logs the traceback our
context variable has been reset, so the exception carries its ID with it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "ErrorResponseFactory",
    "attach_correlation_id",
    "correlation_id_from_exception",
    "default_error_response",
]

ErrorResponseFactory = Callable[
    [Request, Exception, str], Response | Awaitable[Response]
]
"""Builds the 500 response from the request, the exception and the ID."""

_ATTRIBUTE = "starlette_correlate_id"


def attach_correlation_id(exc: BaseException, correlation_id: str) -> None:
    """Record ``correlation_id`` on ``exc`` so its traceback can name it later.

    Adds a note (printed under the traceback by every formatter) the first
    time; the logging filter reads the attribute for records logged after
    the request's context is gone, such as the server's own traceback line.

    Example::

        >>> exc = ValueError("boom")
        >>> attach_correlation_id(exc, "abc")
        >>> correlation_id_from_exception(exc), exc.__notes__
        ('abc', ['correlation ID: abc'])
    """
    if getattr(exc, _ATTRIBUTE, None) is not None:
        # The innermost request names it: a mounted app's own middleware saw
        # it first and answered the client with that ID.
        return
    try:
        setattr(exc, _ATTRIBUTE, correlation_id)
    except AttributeError:  # an exception class with __slots__
        return
    exc.add_note(f"correlation ID: {correlation_id}")


def correlation_id_from_exception(exc: BaseException | None) -> str | None:
    """Return the ID recorded on ``exc`` (or on its cause), else ``None``.

    Useful in an exception handler registered for 500, which Starlette runs
    after the request's context has been reset.

    Example::

        >>> correlation_id_from_exception(ValueError()) is None
        True
    """
    seen = 0
    while exc is not None and seen < 8:
        correlation_id = getattr(exc, _ATTRIBUTE, None)
        if isinstance(correlation_id, str):
            return correlation_id
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def default_error_response(
    request: Request, exc: Exception, correlation_id: str
) -> Response:
    """Return the 500 sent for an unhandled exception.

    With ``debug=True`` on the Starlette app it is Starlette's own traceback
    page; otherwise a JSON body that tells the client which ID to quote.

    Example::

        >>> from starlette.requests import Request
        >>> request = Request({"type": "http", "headers": []})
        >>> response = default_error_response(request, ValueError(), "abc")
        >>> response.status_code, response.body
        (500, b'{"detail":"Internal Server Error","request_id":"abc"}')
    """
    app = request.scope.get("app")
    if app is not None and getattr(app, "debug", False) is True:
        debug_page: Response = ServerErrorMiddleware(app, debug=True).debug_response(
            request, exc
        )
        return debug_page
    return JSONResponse(
        {"detail": "Internal Server Error", "request_id": correlation_id},
        status_code=500,
    )


async def build_error_response(
    factory: ErrorResponseFactory, request: Request, exc: Exception, correlation_id: str
) -> Response:
    """Call ``factory``, awaiting it if it is async; fall back to the default."""
    try:
        response = factory(request, exc, correlation_id)
        if inspect.isawaitable(response):
            response = await response
    except Exception:  # noqa: BLE001 - a broken factory must still yield a 500
        return default_error_response(request, exc, correlation_id)
    if not isinstance(response, Response):
        return default_error_response(request, exc, correlation_id)
    return response
