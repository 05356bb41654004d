"""The unhandled-exception path: a 500 that names the ID, and a traceback that does.

Starlette's ``ServerErrorMiddleware`` sits outside every middleware added
with ``app.add_middleware``. Its 500 response goes to the server's ``send``,
not through ours, so a peer that only decorates ``send`` loses its header on
exactly the responses operators most need it on. Our middleware therefore
answers an unhandled exception itself, through its own ``send``, before the
exception leaves it, and then re-raises it: Starlette sees the response has
started and sends nothing more; the server (or a test client) still gets the
exception to log or raise. By the time the server logs the traceback our
context variables have been reset, so the exception carries its ID with it,
and with two IDs on, the request's inherited ID and parent too.
"""

from __future__ import annotations

import asyncio
import inspect
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from typing import TypeAlias

    from starlette_correlate.two_ids import TwoIds

    # The first request's two IDs, and each task's (see _Carried).
    _CarriedTwo: TypeAlias = tuple[
        TwoIds | None, weakref.WeakKeyDictionary[object, TwoIds]
    ]

__all__ = [
    "ErrorResponseFactory",
    "attach_correlation_id",
    "choose_record_id",
    "choose_record_two_ids",
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

    ``two`` holds the two IDs (:class:`~starlette_correlate.two_ids.TwoIds`)
    of the same requests: the first request's (``None`` if it had none)
    and each task's, entered together with that task's ID. It is set only
    when a request with two IDs fails, and left unset otherwise, so a
    service without two IDs makes and reads its holders as before
    (D-peers-two-6).
    """

    __slots__ = ("by_owner", "first", "logged", "two")

    two: _CarriedTwo

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


def attach_correlation_id(
    exc: BaseException, correlation_id: str, two_ids: TwoIds | None = None
) -> None:
    """Record ``correlation_id`` on ``exc`` so its traceback can name it later.

    The ID is kept per running task: an exception object shared
    by several failing requests names, in each request's task, that
    request's ID. Within one task the first ID stays: the innermost
    request (a mounted app's own middleware) saw it first and answered the
    client with that ID. The first ID of all is also added as a note,
    printed under the traceback by every formatter, once.

    ``two_ids``, a request's inherited ID and parent, is kept beside its
    ID, entry for entry, so a line naming that ID names them too
    (:func:`choose_record_two_ids`).

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
            if two_ids is not None:
                _carry_two(carried, owner, two_ids)
        return
    if getattr(exc, _ATTRIBUTE, None) is not None:
        return  # set by hand: leave it alone
    carried = _Carried(correlation_id)
    if two_ids is not None:
        carried.two = (two_ids, weakref.WeakKeyDictionary())
    if owner is not None:
        carried.by_owner[owner] = correlation_id
        if two_ids is not None:
            _carry_two(carried, owner, two_ids)
    try:
        setattr(exc, _CARRIED, carried)
        setattr(exc, _ATTRIBUTE, correlation_id)
    except AttributeError:  # an exception that refuses new attributes
        return
    # One note, never one per request: a cached exception failing a million
    # requests must not grow a million notes.
    exc.add_note(f"correlation ID: {correlation_id}")


def _carry_two(carried: _Carried, owner: object, two_ids: TwoIds) -> None:
    """Enter ``two_ids`` for ``owner``, whose ID was just entered in ``carried``."""
    two: _CarriedTwo | None = getattr(carried, "two", None)
    if two is None:  # the first request had no two IDs
        two = carried.two = (None, weakref.WeakKeyDictionary())
    two[1][owner] = two_ids


def _choose(
    context_id: str | None, exc: BaseException | None
) -> tuple[str | None, bool, _Carried | None, bool]:
    """Return a record's ID, whether it is the exception's, its holder, and own.

    The one home of the rule :func:`choose_record_id` states, walking
    ``exc`` and its causes once. ``own``: the ID is the running task's
    entry in the holder (else the holder's first); the holder is ``None``
    for an ID set by hand. With ``context_id`` ``None``, the exception's
    ID (:func:`correlation_id_from_exception`).
    """
    seen = 0
    while exc is not None and seen < 8:
        carried = getattr(exc, _CARRIED, None)
        if isinstance(carried, _Carried):
            owner, in_callback = _owner()
            own = carried.by_owner.get(owner) if owner is not None else None
            if own is not None:
                return own, True, carried, True
            if context_id is None or in_callback:
                return carried.first, True, carried, False
            return context_id, False, None, False
        correlation_id = getattr(exc, _ATTRIBUTE, None)
        if isinstance(correlation_id, str):
            if context_id is None or _owner()[1]:
                return correlation_id, True, None, False
            return context_id, False, None, False
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return context_id, False, None, False


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
    return _choose(None, exc)[0]


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
    return _choose(context_id, exc)[0]


def choose_record_two_ids(
    context_id: str | None, context_two: TwoIds | None, exc: BaseException | None
) -> TwoIds | None:
    """Return the two IDs a log record names, beside :func:`choose_record_id`'s ID.

    When the record's ID is the exception's (the server's traceback line,
    logged after the request's context was reset), the two IDs the
    exception carries for that same entry: the running task's, or the
    first request's; ``None`` if that request had none. Otherwise the
    context's ``context_two``. ``context_id`` is the context's ID, as
    given to :func:`choose_record_id`.

    Example::

        >>> from starlette_correlate.two_ids import TwoIds
        >>> exc = ValueError("boom")
        >>> two = TwoIds("corr-1", "caller-1", "X-Correlation-ID")
        >>> attach_correlation_id(exc, "abc", two)
        >>> choose_record_two_ids(None, None, exc).inherited
        'corr-1'
        >>> choose_record_two_ids("xyz", None, None) is None
        True
    """
    if exc is None:
        return context_two
    _, from_exception, holder, own = _choose(context_id, exc)
    if not from_exception:
        return context_two
    # Unset unless a two-ID request failed with it (see _Carried).
    two: _CarriedTwo | None = None if holder is None else getattr(holder, "two", None)
    if two is None:  # an ID set by hand, or requests without two IDs
        return None
    if own:
        return two[1].get(_owner()[0])
    return two[0]


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
