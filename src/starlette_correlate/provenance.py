"""How a request's correlation ID was chosen: its source, and a refusal.

Every request records one of four sources, interned strings compared by
identity on the hot path:

* :data:`INCOMING`: the caller's ID was accepted;
* :data:`GENERATED`: none came, a new one was made;
* :data:`REPLACED`: one came and was refused; a :class:`Refusal` says why
  (:data:`REASONS`) and how long it was, never what it was;
* :data:`TRACEPARENT`: none came, the W3C trace ID was adopted.

The middleware puts the source on ``request.state.correlation_id_source``
and, for a replaced ID, the :class:`Refusal` on
``request.state.correlation_id_refused``; the logging filter writes
``request_id_source`` on every record (:func:`get_correlation_source`).

What it costs the default configuration (D-peers-prov-1): a second context
variable set and reset per request measured about 10% of the middleware's
overhead, so the two common sources need none. An accepted incoming ID is
an :class:`IncomingId` (a ``str`` subclass made in the same decode); a
generated one is a plain ``str``; the rare ones (``replaced``,
``traceparent``) are a :class:`ChosenId` carrying the source and the
refusal. The source is always read from the value
:data:`~starlette_correlate.context.correlation_id_var` holds.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Final, NamedTuple, cast

from starlette_correlate.context import correlation_id_var

__all__ = [
    "GENERATED",
    "INCOMING",
    "REASONS",
    "REPLACED",
    "SOURCES",
    "SOURCE_BY_TYPE",
    "TRACEPARENT",
    "Choice",
    "ChosenId",
    "IncomingId",
    "Refusal",
    "chosen_id",
    "get_correlation_source",
    "refusal_body",
    "refusal_of",
    "source_of",
]

INCOMING: Final = sys.intern("incoming")
GENERATED: Final = sys.intern("generated")
REPLACED: Final = sys.intern("replaced")
TRACEPARENT: Final = sys.intern("traceparent")
SOURCES: Final = frozenset({INCOMING, GENERATED, REPLACED, TRACEPARENT})
"""Every source a request can have."""

REASONS: Final = frozenset({"unsafe", "too_long", "repeated", "invalid", "untrusted"})
"""Why an incoming ID is refused: characters outside the safe set (or
empty), longer than ``max_length``, the header sent more than once, refused
by the ``validator``, or sent by a client outside ``trusted_sources``."""

SOURCE_STATE_KEY: Final = "correlation_id_source"
"""The name of the source on ``request.state``."""
REFUSED_STATE_KEY: Final = "correlation_id_refused"
"""The name of the :class:`Refusal` (or ``None``) on ``request.state``."""


class IncomingId(str):
    """The type of an incoming ID the rule accepted: a ``str`` in every way.

    Made by the same decode that turns the header's bytes into text, so it
    costs no more than a plain ``str`` would; its type is the one bit that
    tells ``incoming`` from ``generated`` without a context variable.

    Pickled (a job queue's payload, a ``SocketHandler``'s record) it is a
    plain ``str``: the other side need not have this package, and a copy
    outside its request has no source to carry.

    Example::

        >>> value = IncomingId(b"abc", "ascii")
        >>> value == "abc", isinstance(value, str)
        (True, True)
        >>> import pickle
        >>> type(pickle.loads(pickle.dumps(value)))
        <class 'str'>
    """

    __slots__ = ()

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return (str, (str.__str__(self),))


class ChosenId(str):
    """The type of an ID chosen for a rare reason: ``replaced``, ``traceparent``.

    A ``str`` in every way, with two attributes: ``source`` and ``refused``
    (the :class:`Refusal`, or ``None``). Made with :func:`chosen_id`.
    Pickled, it is a plain ``str``, as :class:`IncomingId` is.

    Example::

        >>> import pickle
        >>> type(pickle.loads(pickle.dumps(chosen_id("abc", TRACEPARENT))))
        <class 'str'>
    """

    source: str
    refused: Refusal | None

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return (str, (str.__str__(self),))


class Refusal(NamedTuple):
    """Why an incoming ID was refused, and its length; never its value.

    ``length`` is the raw header value's length in bytes (0 for a repeated
    header, whose copies are not measured).

    Example::

        >>> Refusal("too_long", 300)
        Refusal(reason='too_long', length=300)
    """

    reason: str
    length: int


class Choice(NamedTuple):
    """A request's ID, how it was chosen, and why an incoming one was refused.

    Example::

        >>> Choice("abc", INCOMING, None).source
        'incoming'
    """

    correlation_id: str
    source: str
    refused: Refusal | None


SOURCE_BY_TYPE: Final[Mapping[type, str]] = {str: GENERATED, IncomingId: INCOMING}
"""The source of an ID of each common type, for a lookup without a call.

:func:`source_of` reads it first; a hot path (the logging filter) may read
it directly and call :func:`source_of` only for a type it does not hold.

Example::

    >>> SOURCE_BY_TYPE[IncomingId]
    'incoming'
"""


def get_correlation_source() -> str | None:
    """Return how the current ID was chosen, or ``None`` when none is set.

    An ID set by a scope or a job, not by a request, reads ``generated``
    unless it is an :class:`IncomingId`.

    Example::

        >>> get_correlation_source() is None
        True
    """
    return source_of(correlation_id_var.get())


def source_of(correlation_id: str | None) -> str | None:
    """Return the common source of ``correlation_id``, read from its type.

    Example::

        >>> source_of(IncomingId(b"abc", "ascii")), source_of("abc")
        ('incoming', 'generated')
    """
    if correlation_id is None:
        return None
    kind = correlation_id.__class__
    source = SOURCE_BY_TYPE.get(kind)
    if source is not None:
        return source
    if kind is ChosenId:
        return cast("ChosenId", correlation_id).source
    # A generator's own str subclass: still a generated ID.
    return GENERATED


def refusal_of(correlation_id: str | None) -> Refusal | None:
    """Return why an incoming ID was refused in favour of ``correlation_id``.

    Example::

        >>> refusal_of(chosen_id("new", REPLACED, Refusal("unsafe", 3)))
        Refusal(reason='unsafe', length=3)
        >>> refusal_of("abc") is None
        True
    """
    if correlation_id.__class__ is ChosenId:
        return correlation_id.refused
    return None


def chosen_id(value: str, source: str, refused: Refusal | None = None) -> str:
    """Return ``value`` marked with a rare ``source`` (and the refusal).

    Example::

        >>> source_of(chosen_id("abc", TRACEPARENT))
        'traceparent'
    """
    marked = ChosenId(value)
    marked.source = source
    marked.refused = refused
    return marked


REFUSAL_DETAIL: Final = "the incoming correlation ID was refused"
"""The ``detail`` of strict mode's 400 body."""


def refusal_body(correlation_id: str, refused: Refusal) -> bytes:
    """Return strict mode's 400 body: the fresh ID and why, never the raw value.

    The one home of that body: the ASGI middleware and the Django
    middleware both send it, as ``application/json`` (D-django-4).

    Example::

        >>> import json
        >>> json.loads(refusal_body("new-id", Refusal("unsafe", 9)))["request_id"]
        'new-id'
    """
    return json.dumps(
        {
            "detail": REFUSAL_DETAIL,
            "reason": refused.reason,
            "request_id": str.__str__(correlation_id),
        },
        separators=(",", ":"),
    ).encode("ascii")
