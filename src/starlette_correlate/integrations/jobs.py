"""What the job-queue integrations share: the running job's IDs and the carrier rules.

The Celery, arq and rq integrations carry the same three values from the
code that queues a job to the worker that runs it, and set them the same
way for the job's life; this module is the one home of those rules. It
imports no queue package, so it needs no extra.

* Queueing: :func:`stamp_carrier` writes the current correlation ID, the
  HTTP header name it travels under (when not the default), the parent,
  and with two IDs the inherited ID and its header name, into the job's
  carrier (Celery's message headers, arq's serialized job,
  rq's ``Job.meta``), keeping any value already there.
* Running: :func:`enter_job` reads them back as untrusted input (an unsafe
  ID or header name is dropped), makes a new ID when none arrived, sets
  the variables and keeps their reset tokens in a
  :class:`~starlette_correlate.store.ContextStore`, with a fields
  checkpoint; ``store.release(key)`` undoes it all when the job ends.
* Logging: :class:`JobFilter` stamps ``job_id`` (the running job's own ID)
  and ``job_parent_id`` (the job that queued it) on records, for arq and rq.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping, MutableMapping
from contextvars import ContextVar

from starlette_correlate.config import check_written_header_name
from starlette_correlate.context import correlation_header_var, correlation_id_var
from starlette_correlate.fields import fields_checkpoint
from starlette_correlate.ids import IdGenerator, checked_generator, is_safe_id
from starlette_correlate.store import ContextStore
from starlette_correlate.two_ids import (
    TwoIds,
    set_two_ids,
    two_ids_in_use,
    two_ids_var,
)

__all__ = [
    "CARRIER_KEYS",
    "HEADER_NAME_KEY",
    "ID_KEY",
    "INHERITED_HEADER_KEY",
    "INHERITED_KEY",
    "PARENT_KEY",
    "JobFilter",
    "enter_job",
    "get_job_id",
    "get_job_parent_id",
    "job_generator",
    "job_id_var",
    "job_parent_id_var",
    "safe_id",
    "stamp_carrier",
]

ID_KEY = "starlette_correlate_id"
"""The carrier key of the correlation ID (a Celery header, an rq meta key)."""

PARENT_KEY = "starlette_correlate_parent_id"
"""The carrier key of the ID of the job that queued this one."""

HEADER_NAME_KEY = "starlette_correlate_header"
"""The carrier key naming the HTTP header the ID travels under.

Written only when that is not ``X-Request-ID`` (D-where-recipes-1).
"""

INHERITED_KEY = "starlette_correlate_inherited_id"
"""The carrier key of the inherited correlation ID (two IDs only)."""

INHERITED_HEADER_KEY = "starlette_correlate_inherited_header"
"""The carrier key naming the HTTP header the inherited ID travels under."""

CARRIER_KEYS = (
    ID_KEY,
    PARENT_KEY,
    HEADER_NAME_KEY,
    INHERITED_KEY,
    INHERITED_HEADER_KEY,
)
"""Every key a carrier may hold, for carriers read key by key (Celery)."""

_MAX_HEADER_NAME = 256

job_id_var: ContextVar[str | None] = ContextVar(
    "starlette_correlate.job_id", default=None
)
"""The running arq or rq job's own ID; ``None`` outside jobs.

The queue's job ID, not the correlation ID: every job has its own, while
the correlation ID is that of the request that queued it.

Example::

    >>> job_id_var.get() is None
    True
"""

job_parent_id_var: ContextVar[str | None] = ContextVar(
    "starlette_correlate.job_parent_id", default=None
)
"""The ID of the job that queued the running arq or rq job; ``None`` otherwise.

``None`` outside jobs and in a job queued from outside any job.

Example::

    >>> job_parent_id_var.get() is None
    True
"""


def get_job_id() -> str | None:
    """Return the running arq or rq job's ID, or ``None`` outside jobs.

    Example::

        >>> get_job_id() is None
        True
    """
    return job_id_var.get()


def get_job_parent_id() -> str | None:
    """Return the ID of the job that queued the running one, or ``None``.

    Example::

        >>> get_job_parent_id() is None
        True
    """
    return job_parent_id_var.get()


def safe_id(value: object) -> str | None:
    r"""Return ``value`` if it is an ID safe for logs and headers, else ``None``.

    A carrier is input from the network: anything else is dropped.

    Example::

        >>> safe_id("req-1"), safe_id("bad\nid"), safe_id(42)
        ('req-1', None, None)
    """
    return value if isinstance(value, str) and is_safe_id(value) else None


def _carried_header_name(value: object) -> str | None:
    # A carrier is input: a name that could not be a header is ignored.
    if not isinstance(value, str) or len(value) > _MAX_HEADER_NAME:
        return None
    try:
        return check_written_header_name(value, HEADER_NAME_KEY)
    except ValueError:
        return None


def stamp_carrier(carrier: MutableMapping[str, object], parent: str | None) -> None:
    """Write the current ID, its header name and ``parent`` into ``carrier``.

    A value already in ``carrier`` (one the caller passed) wins. Nothing is
    written for a value that is not set.

    Example::

        >>> from starlette_correlate.scope import correlation_scope
        >>> carrier = {}
        >>> with correlation_scope("req-1"):
        ...     stamp_carrier(carrier, "job-7")
        >>> carrier
        {'starlette_correlate_id': 'req-1', 'starlette_correlate_parent_id': 'job-7'}
    """
    correlation_id = correlation_id_var.get()
    if correlation_id is not None:
        carrier.setdefault(ID_KEY, correlation_id)
        named = correlation_header_var.get()
        if named is not None:
            carrier.setdefault(HEADER_NAME_KEY, named)
    if parent is not None:
        carrier.setdefault(PARENT_KEY, parent)
    # Until a process first sets two IDs there are none to read.
    two_ids = two_ids_var.get() if two_ids_in_use.seen else None
    if two_ids is not None:
        carrier.setdefault(INHERITED_KEY, two_ids.inherited)
        carrier.setdefault(INHERITED_HEADER_KEY, two_ids.header)


def job_generator(
    generate_missing: bool, generator: IdGenerator | None
) -> IdGenerator | None:
    """Return what makes the ID of a job that arrives with none, checked now.

    ``None`` when ``generate_missing`` is false; else ``generator`` checked
    by :func:`~starlette_correlate.ids.checked_generator` (UUIDv7 when
    ``None``).

    Raises:
        ValueError: ``generator`` given with ``generate_missing=False``, or
            a generator that is not callable or whose first ID is unsafe.

    Example::

        >>> job_generator(True, lambda: "job-1")()
        'job-1'
        >>> job_generator(False, None) is None
        True
    """
    if generator is not None and not generate_missing:
        raise ValueError(
            "generator: given with generate_missing=False, which makes no IDs; "
            "drop one of the two"
        )
    return checked_generator(generator) if generate_missing else None


def enter_job(
    store: ContextStore,
    key: Hashable,
    carried: Mapping[str, object],
    *,
    job_id: object,
    generator: IdGenerator | None,
    job_var: ContextVar[str | None] = job_id_var,
    parent_var: ContextVar[str | None] = job_parent_id_var,
) -> None:
    """Set the job's IDs from ``carried``; keep the tokens in ``store`` under ``key``.

    ``carried`` maps :data:`ID_KEY`, :data:`PARENT_KEY` and
    :data:`HEADER_NAME_KEY` to what arrived, unchecked: an unsafe value is
    dropped. With no ID, the ID already current (an eager Celery task runs
    in its caller's context) is kept, or ``generator`` makes one. Fields
    bound during the job end with it. ``store.release(key)`` resets all of
    it, newest first.

    Example::

        >>> import contextvars
        >>> from starlette_correlate import get_correlation_id
        >>> store = ContextStore()
        >>> def job():
        ...     enter_job(store, "k", {ID_KEY: "req-1"}, job_id="j-1", generator=None)
        ...     seen = get_correlation_id(), get_job_id(), get_job_parent_id()
        ...     store.release("k")
        ...     return seen, get_correlation_id(), len(store)
        >>> contextvars.copy_context().run(job)
        (('req-1', 'j-1', None), None, 0)
    """
    correlation_id = safe_id(carried.get(ID_KEY))
    if correlation_id is None:
        correlation_id = correlation_id_var.get()
    if correlation_id is None and generator is not None:
        correlation_id = generator()
    if correlation_id is not None:
        store.push(key, correlation_id_var.set(correlation_id))
    named = _carried_header_name(carried.get(HEADER_NAME_KEY))
    if named is not None:
        store.push(key, correlation_header_var.set(named))
    store.push(key, parent_var.set(safe_id(carried.get(PARENT_KEY))))
    inherited = safe_id(carried.get(INHERITED_KEY))
    inherited_header = _carried_header_name(carried.get(INHERITED_HEADER_KEY))
    if inherited is not None and inherited_header is not None:
        # The job has no parent request: its ID is the request's own.
        store.push(key, set_two_ids(TwoIds(inherited, None, inherited_header)))
    store.push(key, job_var.set(safe_id(job_id)))
    # Fields a job binds end with the job: a worker may run the next job in
    # the same thread and context.
    store.push(key, fields_checkpoint())


def _checked_field(option: str, field: str | None, example: str) -> str | None:
    if field is not None and (not isinstance(field, str) or not field.isidentifier()):
        raise ValueError(
            f"{option}: {field!r} is not a valid attribute name; use e.g. "
            f"{example!r}, or None to leave it out"
        )
    return field


class VariablesFilter(logging.Filter):
    """Stamp context variables on records, under the given attribute names.

    The base of :class:`JobFilter` and of the Celery filters: each
    ``(option, field, example, variable)`` names the option that chose
    ``field`` (checked to be an identifier; ``None`` leaves it out) and the
    variable read; ``placeholder`` stands for ``None``. A value set with
    ``extra=`` is kept; the filter never drops a record.

    Example::

        >>> import logging
        >>> stamp = VariablesFilter(
        ...     [("job_field", "job", "job_id", job_id_var)], placeholder="-"
        ... )
        >>> record = logging.makeLogRecord({})
        >>> stamp.filter(record), record.job
        (True, '-')
    """

    def __init__(
        self,
        stamped: Iterable[tuple[str, str | None, str, ContextVar[str | None]]],
        *,
        placeholder: str,
        name: str = "",
    ) -> None:
        super().__init__(name)
        options = []
        checked: list[tuple[str, ContextVar[str | None]]] = []
        for option, field, example, variable in stamped:
            options.append(option)
            attribute = _checked_field(option, field, example)
            if attribute is not None:
                checked.append((attribute, variable))
        if not checked:
            raise ValueError(f"{', '.join(options)}: all None; nothing to stamp")
        self._stamped = tuple(checked)
        self.placeholder = placeholder

    def filter(self, record: logging.LogRecord) -> bool:
        """Stamp ``record`` and let it through."""
        attributes = record.__dict__
        for field, variable in self._stamped:
            if field not in attributes:
                value = variable.get()
                attributes[field] = self.placeholder if value is None else value
        return True


class JobFilter(VariablesFilter):
    """Put the running arq or rq job's ID and its parent's on each record.

    ``record.job_id`` is the running job's own ID and
    ``record.job_parent_id`` the ID of the job that queued it; each is
    ``placeholder`` (``"-"``) when there is none (outside jobs; a job not
    queued by a job has no parent). ``job_field`` and ``parent_field``
    rename them; ``None`` leaves one out. A value set with ``extra=`` is
    kept. Attach it to handlers, beside
    :class:`~starlette_correlate.logs.CorrelationIdFilter`.

    .. versionadded:: 0.2.0

    Example::

        import logging
        from starlette_correlate.logs import CorrelationIdFilter
        from starlette_correlate.integrations.jobs import JobFilter

        handler = logging.StreamHandler()
        handler.addFilter(CorrelationIdFilter())
        handler.addFilter(JobFilter())
        handler.setFormatter(logging.Formatter(
            "request_id=%(request_id)s job=%(job_id)s "
            "parent=%(job_parent_id)s %(message)s"
        ))
    """

    def __init__(
        self,
        name: str = "",
        *,
        job_field: str | None = "job_id",
        parent_field: str | None = "job_parent_id",
        placeholder: str = "-",
    ) -> None:
        super().__init__(
            [
                ("job_field", job_field, "job_id", job_id_var),
                ("parent_field", parent_field, "job_parent_id", job_parent_id_var),
            ],
            placeholder=placeholder,
            name=name,
        )
