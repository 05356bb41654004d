"""Celery: the correlation ID (and the parent task) travel with every task.

Install with ``pip install starlette-correlate[celery]`` and call
:func:`connect_signals` once, in the code both the web app and the worker
import (where the Celery app is made)::

    from celery import Celery
    from starlette_correlate.integrations.celery import connect_signals

    app = Celery("orders", broker="redis://localhost")
    connect_signals()

* Publishing (``before_task_publish``): the current correlation ID goes in
  the message headers; published from inside a task, so does that task's ID,
  as the parent of the new one.
* Running (``task_prerun``): the worker sets the ID from the headers (or a
  new one when the message has none and no ID is current) and the parent
  ID, keeping the reset tokens in :data:`task_store`; ``task_postrun``,
  which Celery sends in a ``finally`` whether the task succeeded, failed or
  asked for a retry, resets them with those tokens. So every log line of
  the task, its failure and its retry carry the ID, and the next task on
  the same thread starts clean.
* The header name: published under a middleware whose ``header_name`` is
  not the default, the message also names it, and the task's outbound
  httpx calls use it (see :data:`~starlette_correlate.context.correlation_header_var`).
* Logging: :class:`~starlette_correlate.logs.CorrelationIdFilter` shows the ID;
  :class:`CeleryTaskFilter` adds ``celery_task_id`` (the running task's own
  ID) and ``celery_parent_id``.

Eager mode (``task_always_eager``, ``task.apply()``) publishes nothing, so no
header is written: an eager task runs in its caller's context and keeps the
caller's ID, but names no parent.
"""

from __future__ import annotations

from collections.abc import Hashable
from contextvars import ContextVar

from starlette_correlate.ids import IdGenerator, checked_generator
from starlette_correlate.integrations.jobs import (
    CARRIER_KEYS,
    HEADER_NAME_KEY,
    ID_KEY,
    PARENT_KEY,
    VariablesFilter,
    enter_job,
    job_generator,
    safe_id,
    stamp_carrier,
)
from starlette_correlate.store import ContextStore

try:
    from celery import current_task, signals
except ImportError as exc:  # pragma: no cover - exercised with the package hidden
    raise ImportError(
        "starlette_correlate.integrations.celery needs celery: "
        "pip install 'starlette-correlate[celery]'"
    ) from exc

__all__ = [
    "HEADER_NAME_HEADER",
    "ID_HEADER",
    "PARENT_HEADER",
    "CeleryParentIdFilter",
    "CeleryTaskFilter",
    "celery_parent_id_var",
    "celery_task_id_var",
    "connect_signals",
    "disconnect_signals",
    "get_celery_parent_id",
    "get_celery_task_id",
    "task_store",
]

ID_HEADER = ID_KEY
"""The message header that carries the correlation ID.

Not ``correlation_id``: Celery already uses that name for a message property
and a field of ``task.request``.
"""

PARENT_HEADER = PARENT_KEY
"""The message header that carries the ID of the task that published it."""

HEADER_NAME_HEADER = HEADER_NAME_KEY
"""The message header that names the HTTP header the ID travels under.

Written only when that is not ``X-Request-ID`` (D-where-recipes-1).
"""

celery_parent_id_var: ContextVar[str | None] = ContextVar(
    "starlette_correlate.celery_parent_id", default=None
)
"""The ID of the task that published the running task; ``None`` otherwise.

``None`` outside a task and in a task published from outside any task (from
a request handler, a script or the beat scheduler).

Example::

    >>> celery_parent_id_var.get() is None
    True
"""

celery_task_id_var: ContextVar[str | None] = ContextVar(
    "starlette_correlate.celery_task_id", default=None
)
"""The ID of the running task itself; ``None`` outside tasks.

Celery's own task ID (``task.request.id``), not the correlation ID: every
run of a task has its own, while the correlation ID is that of the request
(or job) that queued it.

Example::

    >>> celery_task_id_var.get() is None
    True
"""

task_store = ContextStore()
"""The reset tokens of the tasks running in this process, one entry per task.

Empty between tasks; tests can check ``len(task_store) == 0``.
"""

_UID = "starlette_correlate."
_settings: dict[str, IdGenerator | None] = {"generator": checked_generator(None)}


def get_celery_parent_id() -> str | None:
    """Return the ID of the task that published the running one, or ``None``.

    Example::

        >>> get_celery_parent_id() is None
        True
    """
    return celery_parent_id_var.get()


def get_celery_task_id() -> str | None:
    """Return the ID of the running task, or ``None`` outside tasks.

    Example::

        >>> get_celery_task_id() is None
        True
    """
    return celery_task_id_var.get()


def _running_task_id() -> str | None:
    # ``current_task`` is a proxy: false outside a task, in this thread.
    if not current_task:
        return None
    return safe_id(getattr(current_task.request, "id", None))


def _on_publish(sender: object = None, headers: object = None, **_: object) -> None:
    # Protocol 1 messages (Celery 3) carry no headers dict: nothing to do.
    if not isinstance(headers, dict):
        return
    parent = _running_task_id()
    if parent is not None and headers.get("id") == parent:
        # A task that retries publishes itself again under its own ID: the
        # new attempt keeps the parent of the first, not itself.
        parent = celery_parent_id_var.get()
    # A header the caller passed to apply_async(headers=...) wins.
    stamp_carrier(headers, parent)


def _raw_header(request: object, name: str) -> object:
    value = getattr(request, name, None)
    if value is None:
        custom = getattr(request, "headers", None)
        if isinstance(custom, dict):
            value = custom.get(name)
    return value


def _key(task: object) -> Hashable:
    # The request object of this very run: a retry of the same task ID
    # running on another thread at the same moment has its own.
    return id(getattr(task, "request", task))


def _on_prerun(task_id: str | None = None, task: object = None, **_: object) -> None:
    if task is None:
        return
    request = getattr(task, "request", None)
    enter_job(
        task_store,
        _key(task),
        {name: _raw_header(request, name) for name in CARRIER_KEYS},
        job_id=task_id,
        generator=_settings["generator"],
        job_var=celery_task_id_var,
        parent_var=celery_parent_id_var,
    )


def _on_postrun(task_id: str | None = None, task: object = None, **_: object) -> None:
    if task is not None:
        task_store.release(_key(task))


def connect_signals(
    *, generate_missing: bool = True, generator: IdGenerator | None = None
) -> None:
    """Connect the publish and worker signal handlers; safe to call again.

    Each call replaces the options of the previous one.

    Args:
        generate_missing: give a task published with no correlation ID (from
            a script, the beat scheduler, another service) a new one, so its
            log lines still group together.
        generator: makes those new IDs; UUIDv7 by default. Checked as the
            middleware's ``generator`` is
            (:func:`~starlette_correlate.ids.checked_generator`): refused
            now if it is not callable or its first ID is unsafe; an unsafe
            ID or an error later gives that task a UUIDv7 instead.

    .. versionchanged:: 0.2.0 ``generator``.

    Example::

        >>> connect_signals()
        >>> disconnect_signals()
    """
    _settings["generator"] = job_generator(generate_missing, generator)
    signals.before_task_publish.connect(
        _on_publish, weak=False, dispatch_uid=_UID + "publish"
    )
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid=_UID + "prerun")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid=_UID + "postrun")


def disconnect_signals() -> None:
    """Disconnect what :func:`connect_signals` connected.

    Example::

        >>> disconnect_signals()  # harmless when nothing is connected
    """
    signals.before_task_publish.disconnect(dispatch_uid=_UID + "publish")
    signals.task_prerun.disconnect(dispatch_uid=_UID + "prerun")
    signals.task_postrun.disconnect(dispatch_uid=_UID + "postrun")


class CeleryTaskFilter(VariablesFilter):
    """Put the running task's ID and its parent's on each record.

    ``record.celery_task_id`` is the running task's own ID
    (``task.request.id``) and ``record.celery_parent_id`` the ID of the task
    that published it; each is ``placeholder`` (``"-"``) when there is
    none (outside tasks; a task not published by a task has no parent).
    ``task_field`` and ``parent_field`` rename them; ``None`` leaves one
    out. A value set with ``extra=`` is kept; the filter never drops a
    record. Attach it to handlers, beside
    :class:`~starlette_correlate.logs.CorrelationIdFilter`.

    .. versionadded:: 0.2.0

    Example::

        import logging
        from starlette_correlate.logs import CorrelationIdFilter
        from starlette_correlate.integrations.celery import CeleryTaskFilter

        handler = logging.StreamHandler()
        handler.addFilter(CorrelationIdFilter())
        handler.addFilter(CeleryTaskFilter())
        handler.setFormatter(logging.Formatter(
            "request_id=%(request_id)s task=%(celery_task_id)s "
            "parent=%(celery_parent_id)s %(message)s"
        ))
    """

    def __init__(
        self,
        name: str = "",
        *,
        task_field: str | None = "celery_task_id",
        parent_field: str | None = "celery_parent_id",
        placeholder: str = "-",
    ) -> None:
        super().__init__(
            [
                ("task_field", task_field, "celery_task_id", celery_task_id_var),
                (
                    "parent_field",
                    parent_field,
                    "celery_parent_id",
                    celery_parent_id_var,
                ),
            ],
            placeholder=placeholder,
            name=name,
        )


class CeleryParentIdFilter(CeleryTaskFilter):
    """Put the parent task's ID on each record as ``record.celery_parent_id``.

    :class:`CeleryTaskFilter` with the running task's own ID left out:
    ``placeholder`` (``"-"``) when the running task was not published by a
    task, and outside tasks; ``field`` renames it.

    Example::

        import logging
        from starlette_correlate.integrations.celery import CeleryParentIdFilter

        handler = logging.StreamHandler()
        handler.addFilter(CeleryParentIdFilter())
    """

    def __init__(
        self, name: str = "", *, field: str = "celery_parent_id", placeholder: str = "-"
    ) -> None:
        super().__init__(
            name, task_field=None, parent_field=field, placeholder=placeholder
        )
        self.field = field
