"""rq integration: what a job's meta carries, and a worker in this process.

The worker scenarios (features/integrations_rq.feature) run a forking
``rq worker`` process; here a ``CorrelatedSimpleWorker`` runs jobs in this
process, on the module's own database of the run's redis-server, so the
test can look at the context each job saw and at what is left after it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from starlette_correlate import correlation_id_var, is_safe_id
from starlette_correlate.context import correlation_header_var
from starlette_correlate.fields import bind_fields, get_fields
from starlette_correlate.scope import correlation_scope

pytest.importorskip("rq", reason="the [rq] extra is missing")

from redis import Redis
from rq import Queue, Retry, get_current_job

from starlette_correlate.integrations.jobs import (
    HEADER_NAME_KEY,
    ID_KEY,
    PARENT_KEY,
    job_id_var,
    job_parent_id_var,
)
from starlette_correlate.integrations.rq import (
    CorrelatedJob,
    CorrelatedSimpleWorker,
    job_store,
)

SEEN: list[dict[str, Any]] = []
_queues = itertools.count()


def observe() -> None:
    job = get_current_job()
    assert job is not None
    SEEN.append(
        {
            "id": correlation_id_var.get(),
            "parent": job_parent_id_var.get(),
            "job": job_id_var.get(),
            "header": correlation_header_var.get(),
            "fields": dict(get_fields()),
            "job_id": job.id,
        }
    )
    bind_fields(user_id="u-1")


def spawn() -> None:
    observe()
    job = get_current_job()
    assert job is not None
    Queue(job.origin, connection=job.connection, job_class=CorrelatedJob).enqueue(
        observe
    )


def fails() -> None:
    observe()
    raise ValueError("on purpose")


@pytest.fixture
def queue(redis_module_url: str) -> Iterator[Queue]:
    SEEN.clear()
    connection = Redis.from_url(redis_module_url)
    yield Queue(f"q{next(_queues)}", connection=connection, job_class=CorrelatedJob)
    connection.close()


def work(
    queue: Queue, worker_class: type[CorrelatedSimpleWorker] = CorrelatedSimpleWorker
) -> dict[str, Any]:
    """Run the queue's jobs in this process; return what was left after them."""
    worker_class([queue], connection=queue.connection).work(burst=True)
    return {
        "id": correlation_id_var.get(),
        "job": job_id_var.get(),
        "fields": dict(get_fields()),
        "store": len(job_store),
    }


NOTHING_LEFT: dict[str, Any] = {"id": None, "job": None, "fields": {}, "store": 0}


def test_a_job_runs_with_the_id_and_its_own_id_and_leaves_nothing(queue: Queue) -> None:
    with correlation_scope("req-1"):
        job = queue.enqueue(observe)
    assert job.meta == {ID_KEY: "req-1"}
    assert work(queue) == NOTHING_LEFT
    (seen,) = SEEN
    assert (seen["id"], seen["job"], seen["parent"]) == ("req-1", job.id, None)
    assert seen["fields"] == {}


def test_a_job_enqueued_by_a_job_names_it_as_parent(queue: Queue) -> None:
    with correlation_scope("req-2"):
        queue.enqueue(spawn)
    assert work(queue) == NOTHING_LEFT
    parent, child = SEEN
    assert child["id"] == "req-2"
    assert child["parent"] == parent["job_id"]
    # The parent's fields ended with it.
    assert child["fields"] == {}


def test_failure_and_retries_keep_the_id_and_leave_nothing(queue: Queue) -> None:
    with correlation_scope("req-3"):
        queue.enqueue(fails, retry=Retry(max=1))
    assert work(queue) == NOTHING_LEFT
    assert [seen["id"] for seen in SEEN] == ["req-3", "req-3"]


def test_the_callers_meta_wins_and_is_not_changed(queue: Queue) -> None:
    given = {ID_KEY: "given", "mine": 1}
    with correlation_scope("req-4"):
        token = correlation_header_var.set("X-Correlation-ID")
        try:
            job = queue.enqueue(observe, meta=given)
        finally:
            correlation_header_var.reset(token)
    assert given == {ID_KEY: "given", "mine": 1}
    assert job.meta == {ID_KEY: "given", "mine": 1, HEADER_NAME_KEY: "X-Correlation-ID"}
    work(queue)
    (seen,) = SEEN
    assert (seen["id"], seen["header"]) == ("given", "X-Correlation-ID")


def test_unsafe_meta_is_dropped_and_a_new_id_made(queue: Queue) -> None:
    queue.enqueue(observe, meta={ID_KEY: "bad\nid", PARENT_KEY: 7})
    assert work(queue) == NOTHING_LEFT
    (seen,) = SEEN
    assert seen["parent"] is None
    assert is_safe_id(seen["id"])


def test_a_subclass_sets_the_generator_checked_when_made(queue: Queue) -> None:
    made = (f"job-{n}" for n in itertools.count())

    class Generating(CorrelatedSimpleWorker):
        correlation_generator = staticmethod(lambda: next(made))

    class Plain(CorrelatedSimpleWorker):
        generate_missing = False

    queue.enqueue(observe)
    work(queue, Generating)
    queue.enqueue(observe)
    work(queue, Plain)
    assert SEEN[0]["id"].startswith("job-")
    assert SEEN[1]["id"] is None

    with pytest.raises(ValueError, match="generator"):

        class Bad(CorrelatedSimpleWorker):
            correlation_generator = staticmethod(lambda: "not safe\n")
