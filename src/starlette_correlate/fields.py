"""Bound fields: ``user_id``, ``session_id`` or any key, for the rest of a request.

This module owns :data:`fields_var`. Binding never mutates a mapping someone
may hold: each bind makes a new read-only mapping, so code that read the
fields before keeps its view (a log record being formatted, a task that
started earlier). The middleware puts the variable back as it found it when
the request ends, so fields never cross into another request.

``None``, the default, means "no fields": a request that binds nothing
allocates nothing for them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import MappingProxyType

__all__ = [
    "bind_fields",
    "bound_fields",
    "fields_checkpoint",
    "fields_in_use",
    "fields_var",
    "get_fields",
    "set_fields",
]

fields_var: ContextVar[Mapping[str, str] | None] = ContextVar(
    "starlette_correlate.fields", default=None
)
"""The fields bound in this context, read-only; ``None`` when there are none.

Change it only through :func:`bind_fields`, :func:`bound_fields`,
:func:`~starlette_correlate.scope.correlation_scope` or the middleware.

Example::

    >>> from starlette_correlate.fields import fields_var
    >>> fields_var.get() is None
    True
"""

_EMPTY: Mapping[str, str] = MappingProxyType({})


class _InUse:
    """Whether any code in this process has ever set fields."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen = False


fields_in_use = _InUse()
"""Flips to ``seen = True`` the first time fields are set, and stays so.

Until then :data:`fields_var` is known to hold ``None`` everywhere, so the
middleware and the logging filter, which run on every request and every
record, skip reading it. A service that never binds a field pays nothing
for fields. Setting two IDs (:func:`~starlette_correlate.two_ids.set_two_ids`)
flips it too, so those paths test one flag for both while neither is used.

Example::

    >>> from starlette_correlate.fields import fields_in_use
    >>> isinstance(fields_in_use.seen, bool)
    True
"""


def set_fields(view: Mapping[str, str] | None) -> Token[Mapping[str, str] | None]:
    """Set :data:`fields_var` to ``view`` and return the reset token.

    The only way the library writes the variable, so :data:`fields_in_use`
    stays true to its word; use it if you set fields without the helpers.

    Example::

        >>> import contextvars
        >>> from starlette_correlate.fields import get_fields, set_fields
        >>> contextvars.copy_context().run(
        ...     lambda: (set_fields({"job": "nightly"}), dict(get_fields()))[1]
        ... )
        {'job': 'nightly'}
    """
    fields_in_use.seen = True
    return fields_var.set(view)


def fields_checkpoint() -> Token[Mapping[str, str] | None]:
    """Return a token whose reset undoes every binding made after this call.

    For hosts that run one unit of work after another in the same context
    (a WSGI thread, a Celery worker): keep the token with the unit's other
    tokens and reset it when the unit ends. It sets nothing new, so it does
    not count as setting fields.

    Example::

        >>> import contextvars
        >>> from starlette_correlate.fields import bind_fields, fields_checkpoint
        >>> def unit():
        ...     token = fields_checkpoint()
        ...     bind_fields(user_id="u-1")
        ...     fields_var.reset(token)
        ...     return dict(get_fields())
        >>> contextvars.copy_context().run(unit)
        {}
    """
    return fields_var.set(fields_var.get())


def get_fields() -> Mapping[str, str]:
    """Return a read-only view of the fields bound in this context.

    Empty outside a request or scope. The view never changes: a later bind
    makes a new mapping rather than altering this one.

    Example::

        >>> from starlette_correlate.fields import get_fields
        >>> dict(get_fields())
        {}
    """
    fields = fields_var.get()
    return _EMPTY if fields is None else fields


def merge_fields(
    base: Mapping[str, str] | None, changes: Mapping[str, object]
) -> Mapping[str, str] | None:
    """Return a new read-only mapping: ``base`` updated with ``changes``.

    Values become strings; a ``None`` value removes its key. Returns
    ``None`` when nothing is left, the variable's "no fields" value.

    Example::

        >>> dict(merge_fields({"a": "1"}, {"b": 2, "a": None}) or {})
        {'b': '2'}
    """
    merged = dict(base) if base else {}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value if isinstance(value, str) else str(value)
    return MappingProxyType(merged) if merged else None


def bind_fields(**fields: object) -> Mapping[str, str]:
    """Bind ``fields`` for the rest of the current request (or context).

    Values are turned into strings; ``None`` unbinds a key. Returns the new
    view. Inside a request the fields last until the request ends; outside
    one they last for the rest of the current context, so prefer
    :func:`bound_fields` or ``correlation_scope`` there.

    Example::

        >>> import contextvars
        >>> from starlette_correlate.fields import bind_fields, get_fields
        >>> def handler():
        ...     before = get_fields()
        ...     bind_fields(user_id=42)
        ...     return dict(before), dict(get_fields())
        >>> contextvars.copy_context().run(handler)
        ({}, {'user_id': '42'})
    """
    view = merge_fields(fields_var.get(), fields)
    set_fields(view)
    return _EMPTY if view is None else view


@contextmanager
def bound_fields(**fields: object) -> Iterator[Mapping[str, str]]:
    """Bind ``fields`` for a ``with`` block, then restore the fields before it.

    Restores on every exit, exceptions included; blocks nest.

    Example::

        >>> from starlette_correlate.fields import bound_fields, get_fields
        >>> with bound_fields(job="nightly") as view:
        ...     dict(view)
        {'job': 'nightly'}
        >>> dict(get_fields())
        {}
    """
    view = merge_fields(fields_var.get(), fields)
    token = set_fields(view)
    try:
        yield _EMPTY if view is None else view
    finally:
        fields_var.reset(token)
