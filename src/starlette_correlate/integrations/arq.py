"""arq: the correlation ID (and the parent job) travel with every job.

Install with ``pip install starlette-correlate[arq]``. One
:class:`ArqCorrelation` gives the hooks; hand its serializer pair to the
pool the web app enqueues with and to the worker, and its job hooks to the
worker::

    from arq import create_pool
    from starlette_correlate.integrations.arq import ArqCorrelation

    correlation = ArqCorrelation()

    class WorkerSettings:
        functions = [...]
        job_serializer = correlation.job_serializer
        job_deserializer = correlation.job_deserializer
        on_job_start = correlation.on_job_start
        on_job_end = correlation.on_job_end

    # in the web app
    redis = await create_pool(
        settings,
        job_serializer=correlation.job_serializer,
        job_deserializer=correlation.job_deserializer,
    )

* Enqueueing (``enqueue_job``, in the caller's task): the serializer adds
  the current correlation ID, the header name (when not ``X-Request-ID``)
  and, from inside a job, that job's ID as the parent, under the key
  :data:`CARRIER_KEY` of the serialized job, beside arq's own fields. The
  job function's arguments are left alone.
* Running: arq runs each job in an asyncio task of its own, which
  deserializes the job, calls ``on_job_start``, runs the function in a task
  made from that context, logs the outcome, and calls ``on_job_end`` after
  a success, a failure and a retry alike. The deserializer keeps what
  arrived for ``on_job_start``, which sets the ID, the parent, the job's
  own ID (``ctx["job_id"]``) and a fields checkpoint, keeping the reset
  tokens in :data:`job_store`; ``on_job_end`` resets them.
* Logging: :class:`~starlette_correlate.logs.CorrelationIdFilter` shows the
  ID; :class:`~starlette_correlate.integrations.jobs.JobFilter` adds
  ``job_id`` and ``job_parent_id``.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

from starlette_correlate.ids import IdGenerator
from starlette_correlate.integrations.jobs import (
    enter_job,
    job_generator,
    job_id_var,
    stamp_carrier,
)
from starlette_correlate.store import ContextStore

try:
    import arq  # noqa: F401 - only to name the extra when it is missing
except ImportError as exc:  # pragma: no cover - exercised with the package hidden
    raise ImportError(
        "starlette_correlate.integrations.arq needs arq: "
        "pip install 'starlette-correlate[arq]'"
    ) from exc

__all__ = ["CARRIER_KEY", "ArqCorrelation", "job_store"]

CARRIER_KEY = "starlette_correlate"
"""The key of the serialized job that carries the ID, its parent and header."""

job_store = ContextStore()
"""The reset tokens of the arq jobs running in this process, one entry per job.

Empty between jobs; tests can check ``len(job_store) == 0``.
"""

Serializer = Callable[[dict[str, Any]], bytes]
Deserializer = Callable[[bytes], dict[str, Any]]

# What the last job deserialized in this task carried, for on_job_start:
# arq calls the deserializer and then the hook in the job's own task, and
# hands the hook nothing of the job's data.
_arrived: ContextVar[Mapping[str, object] | None] = ContextVar(
    "starlette_correlate.arq_arrived", default=None
)


class ArqCorrelation:
    """The serializer pair and job hooks that carry the ID through arq.

    Args:
        generate_missing: give a job enqueued with no correlation ID (from a
            script, a cron job, another service) a new one, so its log lines
            still group together.
        generator: makes those new IDs; UUIDv7 by default. Checked as the
            middleware's ``generator`` is
            (:func:`~starlette_correlate.ids.checked_generator`): refused
            now if it is not callable or its first ID is unsafe; an unsafe
            ID or an error later gives that job a UUIDv7 instead.
        serializer: what turns the job into bytes, wrapped;
            ``pickle.dumps`` (arq's default) when not given.
        deserializer: its inverse; ``pickle.loads`` when not given.

    .. versionadded:: 0.2.0

    Example::

        >>> from starlette_correlate.scope import correlation_scope
        >>> correlation = ArqCorrelation()
        >>> with correlation_scope("req-1"):
        ...     raw = correlation.job_serializer({"f": "ship", "a": (), "k": {}})
        >>> correlation.job_deserializer(raw)[CARRIER_KEY]
        {'starlette_correlate_id': 'req-1'}
    """

    __slots__ = ("_deserializer", "_generator", "_serializer")

    def __init__(
        self,
        *,
        generate_missing: bool = True,
        generator: IdGenerator | None = None,
        serializer: Serializer | None = None,
        deserializer: Deserializer | None = None,
    ) -> None:
        self._generator = job_generator(generate_missing, generator)
        self._serializer: Serializer = serializer or pickle.dumps
        self._deserializer: Deserializer = deserializer or pickle.loads

    def job_serializer(self, data: dict[str, Any]) -> bytes:
        """Serialize a job with the current ID; give to the pool and the worker."""
        # arq serializes results with it too; those ("r") carry nothing.
        if "r" not in data:
            carrier: dict[str, object] = {}
            stamp_carrier(carrier, job_id_var.get())
            if carrier:
                data = {**data, CARRIER_KEY: carrier}
        return self._serializer(data)

    def job_deserializer(self, raw: bytes) -> dict[str, Any]:
        """Deserialize a job, keeping what it carried for :meth:`on_job_start`."""
        data = self._deserializer(raw)
        carried = data.get(CARRIER_KEY) if isinstance(data, dict) else None
        _arrived.set(carried if isinstance(carried, Mapping) else None)
        return data

    async def on_job_start(self, ctx: dict[str, Any]) -> None:
        """Set the job's IDs for its life: the worker's ``on_job_start``."""
        carried = _arrived.get()
        _arrived.set(None)
        enter_job(
            job_store,
            id(ctx),
            carried or {},
            job_id=ctx.get("job_id"),
            generator=self._generator,
        )

    async def on_job_end(self, ctx: dict[str, Any]) -> None:
        """Reset what :meth:`on_job_start` set: the worker's ``on_job_end``."""
        job_store.release(id(ctx))
