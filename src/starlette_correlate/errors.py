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

import asyncio
import inspect
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "ErrorResponseFactory",
    "attach_correlation_id",
    "choose_record_id",
    "correlation_id_from_exception",
    "default_error_response",
]

ErrorResponseFactory = Callable[
    [Request, Exception, str], Response | Awaitable[Response]
]
"""Builds the 500 response from the request, the exception and the ID."""

_ATTRIBUTE = "starlette_correlate_id"
_CARRIED = "starlette_correlate_ids"


class _Carried:
    """The IDs of the requests an exception object left, per task.

    One exception object can fail several requests (a shared failed future,
    a cached error): each request's task gets its own entry, so the
    server's traceback line, logged in that task, names that request. Weak
    keys: a cached exception never keeps a finished task, or its entry,
    alive.
    """

    __slots__ = ("by_owner", "first", "logged")

    def __init__(self, first: str) -> None:
        self.first = first
        self.by_owner: weakref.WeakKeyDictionary[object, str] = (
            weakref.WeakKeyDictionary()
        )
        self.logged = False


def _owner() -> tuple[asyncio.Task[Any] | None, bool]:
    """Return the running task, and whether this is a loop callback outside one.

    Tasks, not threads: a worker thread serves one request after another,
    a task serves one. A callback run by the event loop outside any task (a
    timer, as daphne's is) runs in a context copied from whichever request
    scheduled it; it is the one place where a context's ID may be a
    leftover.
    """
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running loop: a plain or worker thread
        return None, False
    return task, task is None


def attach_correlation_id(exc: BaseException, correlation_id: str) -> None:
    """Record ``correlation_id`` on ``exc`` so its traceback can name it later.

    The ID is kept per running task: an exception object shared
    by several failing requests names, in each request's task, that
    request's ID. Within one task the first ID stays: the innermost
    request (a mounted app's own middleware) saw it first and answered the
    client with that ID. The first ID of all is also added as a note,
    printed under the traceback by every formatter, once.

    Example::

        >>> exc = ValueError("boom")
        >>> attach_correlation_id(exc, "abc")
        >>> correlation_id_from_exception(exc), exc.__notes__
        ('abc', ['correlation ID: abc'])
    """
    carried = getattr(exc, _CARRIED, None)
    owner, _ = _owner()
    if isinstance(carried, _Carried):
        if owner is not None and owner not in carried.by_owner:
            carried.by_owner[owner] = correlation_id
        return
    if getattr(exc, _ATTRIBUTE, None) is not None:
        return  # set by hand: leave it alone
    carried = _Carried(correlation_id)
    if owner is not None:
        carried.by_owner[owner] = correlation_id
    try:
        setattr(exc, _CARRIED, carried)
        setattr(exc, _ATTRIBUTE, correlation_id)
    except AttributeError:  # an exception that refuses new attributes
        return
    # One note, never one per request: a cached exception failing a million
    # requests must not grow a million notes.
    exc.add_note(f"correlation ID: {correlation_id}")


def _carried(exc: BaseException | None) -> tuple[str | None, _Carried | None, bool]:
    """Return (ID, its holder, whether it is the current task's own) for ``exc``."""
    seen = 0
    while exc is not None and seen < 8:
        carried = getattr(exc, _CARRIED, None)
        if isinstance(carried, _Carried):
            owner, _ = _owner()
            own = carried.by_owner.get(owner) if owner is not None else None
            if own is not None:
                return own, carried, True
            return carried.first, carried, False
        correlation_id = getattr(exc, _ATTRIBUTE, None)
        if isinstance(correlation_id, str):
            return correlation_id, None, False
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None, None, False


def correlation_id_from_exception(exc: BaseException | None) -> str | None:
    """Return the ID recorded on ``exc`` (or on its cause), else ``None``.

    Useful in an exception handler registered for 500, which Starlette runs
    after the request's context has been reset. Called in the task of a
    request the exception failed, it returns that request's ID; elsewhere,
    the first request's.

    Example::

        >>> correlation_id_from_exception(ValueError()) is None
        True
    """
    return _carried(exc)[0]


def choose_record_id(context_id: str | None, exc: BaseException | None) -> str | None:
    """Return the ID a log record names, from the context's ID and its exception.

    The rule behind every logging stack's
    :func:`~starlette_correlate.logs.record_id.record_correlation_id`, and
    the Sentry integration's:

    - the ID ``exc`` recorded for the running task wins: the server logs a
      request's traceback in that request's task, after its context is gone;
    - else the context's ID, if any: code inside request B that logs an
      exception request A left (a shared failure) is B's line;
    - except in an event-loop callback outside any task, where the context
      is a copy from whichever request scheduled the callback (daphne's
      timer): there the exception's ID wins;
    - else the exception's ID (or ``None``).

    Example::

        >>> exc = ValueError("boom")
        >>> attach_correlation_id(exc, "abc")
        >>> choose_record_id(None, exc), choose_record_id("xyz", None)
        ('abc', 'xyz')
    """
    if exc is None:
        return context_id
    carried, _, own = _carried(exc)
    if carried is None or own:
        return context_id if carried is None else carried
    if context_id is None:
        return carried
    return carried if _owner()[1] else context_id


def mark_logged(exc: BaseException) -> None:
    """Remember that the library's own error line has logged ``exc``."""
    carried = getattr(exc, _CARRIED, None)
    if isinstance(carried, _Carried):
        carried.logged = True


def was_logged(exc: BaseException | None) -> bool:
    """Return whether the library's own error line has logged ``exc``."""
    carried = getattr(exc, _CARRIED, None)
    return isinstance(carried, _Carried) and carried.logged


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
