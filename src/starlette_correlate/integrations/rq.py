"""rq: the correlation ID (and the parent job) travel with every job, in ``meta``.

Install with ``pip install starlette-correlate[rq]``. Make your queues with
``job_class=CorrelatedJob`` and run the worker as
``rq worker --worker-class starlette_correlate.integrations.rq.CorrelatedWorker``::

    from redis import Redis
    from rq import Queue
    from starlette_correlate.integrations.rq import CorrelatedJob

    queue = Queue("shop", connection=Redis(), job_class=CorrelatedJob)

* Enqueueing: every ``Queue.enqueue*`` makes its job with ``Job.create``;
  :class:`CorrelatedJob` adds to the job's ``meta`` the current correlation
  ID, the header name (when not ``X-Request-ID``) and, from inside a job,
  that job's ID as the parent. A value the caller put in ``meta=`` wins.
* Running: :class:`CorrelatedWorker` sets the ID, the parent, the job's own
  ID and a fields checkpoint around ``execute_job``, everything the worker
  does for one job (the forked work horse inherits them; rq's "Job OK" line
  and a failure's traceback are logged inside it), keeping the reset tokens
  in :data:`job_store`, and resets them after it, whatever the outcome. A
  retry re-enqueues the same job, ``meta`` included, so it keeps the ID.
  :class:`CorrelatedSimpleWorker` does the same for rq's ``SimpleWorker``.
* Logging: :class:`~starlette_correlate.logs.CorrelationIdFilter` shows the
  ID; :class:`~starlette_correlate.integrations.jobs.JobFilter` adds
  ``job_id`` and ``job_parent_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from starlette_correlate.ids import IdGenerator
from starlette_correlate.integrations.jobs import (
    enter_job,
    job_generator,
    job_id_var,
    stamp_carrier,
)
from starlette_correlate.store import ContextStore

try:
    from rq import Queue, SimpleWorker, Worker
    from rq.job import Job
except ImportError as exc:  # pragma: no cover - exercised with the package hidden
    raise ImportError(
        "starlette_correlate.integrations.rq needs rq: "
        "pip install 'starlette-correlate[rq]'"
    ) from exc

__all__ = [
    "CorrelatedJob",
    "CorrelatedSimpleWorker",
    "CorrelatedWorker",
    "CorrelationWorkerMixin",
    "job_store",
]

job_store = ContextStore()
"""The reset tokens of the rq jobs this process runs, one entry per job.

Empty between jobs; tests can check ``len(job_store) == 0``.
"""


class CorrelatedJob(Job):
    """An rq ``Job`` whose ``meta`` carries the correlation ID and the parent.

    Give it to every queue that enqueues, in the web app and in jobs that
    enqueue jobs: ``Queue(..., job_class=CorrelatedJob)``.

    .. versionadded:: 0.2.0

    Example::

        from redis import Redis
        from rq import Queue
        from starlette_correlate.integrations.rq import CorrelatedJob

        queue = Queue("shop", connection=Redis(), job_class=CorrelatedJob)
    """

    @classmethod
    def create(cls, *args: Any, **kwargs: Any) -> Job:  # noqa: ANN401
        """Make the job as rq does, then stamp its ``meta``."""
        job = super().create(*args, **kwargs)
        # A copy: the dict the caller passed as meta= stays theirs.
        meta = dict(job.meta)
        stamp_carrier(meta, job_id_var.get())
        job.meta = meta
        return job


_Base: Any = Worker if TYPE_CHECKING else object


class CorrelationWorkerMixin(_Base):  # type: ignore[misc]
    """Set the job's IDs around everything an rq worker does for one job.

    Mix it in before an rq worker class (as :class:`CorrelatedWorker` and
    :class:`CorrelatedSimpleWorker` do). A subclass sets how a job that
    arrives with no ID gets one, checked when the class is made:

    * ``correlation_generator``: makes new IDs; UUIDv7 when ``None``.
      Checked as the middleware's ``generator`` is
      (:func:`~starlette_correlate.ids.checked_generator`).
    * ``generate_missing``: ``False`` leaves such a job without an ID.

    .. versionadded:: 0.2.0

    Example::

        from starlette_correlate.integrations.rq import CorrelatedWorker

        class ShopWorker(CorrelatedWorker):
            correlation_generator = staticmethod(lambda: "job-1")
    """

    correlation_generator: ClassVar[IdGenerator | None] = None
    generate_missing: ClassVar[bool] = True
    _new_id: ClassVar[tuple[IdGenerator | None]]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # Read on the class, a function set in the body is not bound.
        new_id = job_generator(cls.generate_missing, cls.correlation_generator)
        # In a tuple: a function read on self would be bound as a method.
        cls._new_id = (new_id,)

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Run ``job`` as the worker class does, with its IDs set."""
        meta = job.meta
        key = id(job)
        enter_job(
            job_store,
            key,
            meta if isinstance(meta, Mapping) else {},
            job_id=job.id,
            generator=self._new_id[0],
        )
        try:
            super().execute_job(job, queue)
        finally:
            job_store.release(key)


class CorrelatedWorker(CorrelationWorkerMixin, Worker):
    """rq's forking ``Worker``, with each job's IDs set for its life.

    Run it with ``rq worker --worker-class
    starlette_correlate.integrations.rq.CorrelatedWorker``.

    .. versionadded:: 0.2.0

    Example::

        from redis import Redis
        from starlette_correlate.integrations.rq import CorrelatedWorker

        CorrelatedWorker(["shop"], connection=Redis()).work()
    """


class CorrelatedSimpleWorker(CorrelationWorkerMixin, SimpleWorker):
    """rq's ``SimpleWorker`` (jobs in the worker's own process), correlated.

    .. versionadded:: 0.2.0

    Example::

        from redis import Redis
        from starlette_correlate.integrations.rq import CorrelatedSimpleWorker

        CorrelatedSimpleWorker(["shop"], connection=Redis()).work(burst=True)
    """
