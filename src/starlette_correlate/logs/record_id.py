"""Which correlation ID a log record gets: the one rule every logging stack uses.

The stdlib filter, the structlog processor and the loguru patcher and
intercept handler all ask :func:`record_correlation_id`, so a change to the
rule (say, which of the current ID and the exception's ID wins) lands once.
:func:`record_two_ids` is the same rule's answer for the inherited ID and
the parent. A value the caller set on the record (``extra=``, ``bind``) is
kept by each caller before it asks; the placeholder is each caller's own
option.
"""

from __future__ import annotations

from starlette_correlate.context import correlation_id_var
from starlette_correlate.errors import choose_record_id, choose_record_two_ids
from starlette_correlate.two_ids import TwoIds, two_ids_in_use, two_ids_var

__all__ = ["record_correlation_id", "record_two_ids", "two_id_fields"]


def record_correlation_id(exc_info: object) -> str | None:
    """Return the ID for a record with ``exc_info``, or ``None`` if it has none.

    Without an exception, the current ID. With one, as
    :func:`~starlette_correlate.errors.choose_record_id` decides: the ID
    the exception carries for the running task (the server logs "Exception
    in ASGI application" in the request's task, after its context is gone),
    else the current ID (a request logging a failure another request left),
    except in an event-loop callback (daphne's timer, in a stale context),
    else the exception's first ID. ``exc_info`` is what the record holds: a stdlib
    ``(type, value, traceback)`` tuple, loguru's ``RecordException`` (a
    named tuple of the same shape), or ``None``; anything else counts as no
    exception, so a malformed record never makes logging fail.

    Example::

        >>> from starlette_correlate.errors import attach_correlation_id
        >>> error = ValueError("boom")
        >>> attach_correlation_id(error, "req-1")
        >>> record_correlation_id((ValueError, error, None))
        'req-1'
        >>> record_correlation_id(None) is None
        True
    """
    correlation_id = correlation_id_var.get()
    if isinstance(exc_info, tuple) and len(exc_info) > 1:
        exception = exc_info[1]
        if isinstance(exception, BaseException):
            return choose_record_id(correlation_id, exception)
    return correlation_id


def record_two_ids(exc_info: object) -> TwoIds | None:
    """Return the two IDs for a record with ``exc_info``, or ``None`` without.

    They go with the record's ID (:func:`record_correlation_id`): when it
    is the one its exception carries (the server's traceback line, logged
    after the request's context is gone), the inherited ID and parent that
    exception carries for the same request, by
    :func:`~starlette_correlate.errors.choose_record_two_ids`; otherwise
    the current request's, or ``None`` outside a two-ID request.
    ``exc_info`` is read as :func:`record_correlation_id` reads it.

    Reads nothing until a process first sets two IDs
    (:data:`~starlette_correlate.two_ids.two_ids_in_use`), so a service
    without them pays one attribute read per record.

    Example::

        >>> import contextvars
        >>> from starlette_correlate.errors import attach_correlation_id
        >>> from starlette_correlate.two_ids import TwoIds, set_two_ids
        >>> record_two_ids(None) is None
        True
        >>> two = TwoIds("corr-1", "caller-1", "X-Correlation-ID")
        >>> _ = contextvars.copy_context().run(set_two_ids, two)  # a request ran
        >>> error = ValueError("boom")
        >>> attach_correlation_id(error, "req-1", two)  # and failed
        >>> record_two_ids((ValueError, error, None)).parent
        'caller-1'
    """
    if not two_ids_in_use.seen:
        return None
    current = two_ids_var.get()
    if isinstance(exc_info, tuple) and len(exc_info) > 1:
        exception = exc_info[1]
        if isinstance(exception, BaseException):
            return choose_record_two_ids(correlation_id_var.get(), current, exception)
    return current


def two_id_fields(field: str, inherited_field: str | None = None) -> tuple[str, str]:
    """Return the record keys of the inherited ID and the parent for ``field``.

    The parent is ``<field>_parent``; the inherited ID ``inherited_field``,
    by default ``correlation_id`` (``inherited_id`` when ``field`` itself
    is ``correlation_id``, so neither hides the other).

    Example::

        >>> two_id_fields("request_id")
        ('correlation_id', 'request_id_parent')
        >>> two_id_fields("correlation_id")
        ('inherited_id', 'correlation_id_parent')
        >>> two_id_fields("rid", "rid")
        Traceback (most recent call last):
        ...
        ValueError: inherited_field: 'rid' is already the ID's field or its \
source's or parent's; pick another, e.g. 'correlation_id'
    """
    if inherited_field is None:
        inherited_field = (
            "inherited_id" if field == "correlation_id" else "correlation_id"
        )
    parent_field = f"{field}_parent"
    if inherited_field in (field, parent_field, f"{field}_source"):
        raise ValueError(
            f"inherited_field: {inherited_field!r} is already the ID's field or "
            "its source's or parent's; pick another, e.g. 'correlation_id'"
        )
    return inherited_field, parent_field
