"""arq integration: what the serializer carries, and a real worker in-process.

The worker scenarios (features/integrations_arq.feature) run an ``arq``
process; here an arq ``Worker`` runs in burst mode in this process, on the
module's own database of the run's redis-server, so the test can look at
the context each job saw and at what is left after it.
"""

from __future__ import annotations

import functools
import itertools
import json
import pickle
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from starlette_correlate import correlation_id_var, is_safe_id
from starlette_correlate.context import correlation_header_var
from starlette_correlate.fields import bind_fields, get_fields
from starlette_correlate.scope import correlation_scope
from tests.support.asgi import run

pytest.importorskip("arq", reason="the [arq] extra is missing")

from arq import Retry, Worker, create_pool
from arq.connections import RedisSettings
from arq.worker import func

from starlette_correlate.integrations.arq import CARRIER_KEY, ArqCorrelation, job_store
from starlette_correlate.integrations.jobs import (
    ID_KEY,
    PARENT_KEY,
    job_id_var,
    job_parent_id_var,
)

Seen = dict[str, Any]
_queues = itertools.count()


def observe(ctx: dict[str, Any]) -> Seen:
    return {
        "id": correlation_id_var.get(),
        "parent": job_parent_id_var.get(),
        "job": job_id_var.get(),
        "header": correlation_header_var.get(),
        "fields": dict(get_fields()),
        "job_id": ctx["job_id"],
        "try": ctx["job_try"],
    }


def work(
    redis_url: str,
    correlation: ArqCorrelation,
    enqueue: Callable[[Any], Awaitable[None]],
) -> list[Seen]:
    """Enqueue with ``enqueue(pool)``, then run a burst worker; return what jobs saw."""
    seen: list[Seen] = []
    settings = RedisSettings.from_dsn(redis_url)
    queue = f"arq:test:{next(_queues)}"

    async def record(ctx: dict[str, Any]) -> None:
        bind_fields(user_id="u-1")
        seen.append(observe(ctx))

    async def spawn(ctx: dict[str, Any]) -> None:
        seen.append(observe(ctx))
        await ctx["redis"].enqueue_job("record", _queue_name=queue)

    async def fails(ctx: dict[str, Any]) -> None:
        seen.append(observe(ctx))
        raise ValueError("on purpose")

    async def retries(ctx: dict[str, Any]) -> None:
        seen.append(observe(ctx))
        if ctx["job_try"] == 1:
            raise Retry(defer=0)

    async def go() -> None:
        pool = await create_pool(
            settings,
            job_serializer=correlation.job_serializer,
            job_deserializer=correlation.job_deserializer,
            default_queue_name=queue,
        )
        try:
            await enqueue(pool)
        finally:
            await pool.aclose()
        worker = Worker(
            # Named: arq names a function by its qualified name otherwise.
            functions=[
                func(job, name=job.__name__) for job in (record, spawn, fails, retries)
            ],
            redis_settings=settings,
            queue_name=queue,
            burst=True,
            poll_delay=0.01,
            handle_signals=False,
            job_serializer=correlation.job_serializer,
            job_deserializer=correlation.job_deserializer,
            on_job_start=correlation.on_job_start,
            on_job_end=correlation.on_job_end,
        )
        try:
            await worker.main()
        finally:
            await worker.close()
        # What the worker's own task holds after the jobs: nothing of theirs.
        seen.append({"after": correlation_id_var.get(), "store": len(job_store)})

    run(go)
    return seen


def enqueue_in_scope(
    name: str, correlation_id: str | None = "req-1"
) -> Callable[[Any], Awaitable[None]]:
    async def enqueue(pool: Any) -> None:
        if correlation_id is None:
            await pool.enqueue_job(name)
            return
        with correlation_scope(correlation_id):
            await pool.enqueue_job(name)

    return enqueue


def test_a_job_runs_with_the_id_its_own_id_and_binds_fields_for_itself(
    redis_module_url: str,
) -> None:
    (job, after) = work(redis_module_url, ArqCorrelation(), enqueue_in_scope("record"))
    assert job["id"] == "req-1"
    assert job["job"] == job["job_id"]
    assert job["parent"] is None
    assert job["fields"] == {"user_id": "u-1"}
    assert after == {"after": None, "store": 0}


def test_a_job_enqueued_by_a_job_names_it_as_parent(redis_module_url: str) -> None:
    parent, child, after = work(
        redis_module_url, ArqCorrelation(), enqueue_in_scope("spawn")
    )
    assert (parent["id"], child["id"]) == ("req-1", "req-1")
    assert child["parent"] == parent["job_id"]
    assert child["fields"] == {"user_id": "u-1"}
    assert parent["fields"] == {}
    assert after == {"after": None, "store": 0}


def test_failure_and_retry_keep_the_id_and_leave_nothing(redis_module_url: str) -> None:
    failed, after = work(redis_module_url, ArqCorrelation(), enqueue_in_scope("fails"))
    assert failed["id"] == "req-1"
    assert after["store"] == 0
    first, second, after = work(
        redis_module_url, ArqCorrelation(), enqueue_in_scope("retries")
    )
    assert (first["try"], second["try"]) == (1, 2)
    assert first["id"] == second["id"] == "req-1"
    assert after == {"after": None, "store": 0}


def test_a_job_with_no_id_gets_one_from_the_generator(redis_module_url: str) -> None:
    made = (f"job-{n}" for n in itertools.count())
    correlation = ArqCorrelation(generator=lambda: next(made))
    (job, _) = work(redis_module_url, correlation, enqueue_in_scope("record", None))
    assert job["id"].startswith("job-")
    (job, _) = work(
        redis_module_url,
        ArqCorrelation(generate_missing=False),
        enqueue_in_scope("record", None),
    )
    assert job["id"] is None


def test_the_header_name_crosses_with_the_id(redis_module_url: str) -> None:
    async def enqueue(pool: Any) -> None:
        with correlation_scope("req-h"):
            token = correlation_header_var.set("X-Correlation-ID")
            try:
                await pool.enqueue_job("record")
            finally:
                correlation_header_var.reset(token)

    (job, _) = work(redis_module_url, ArqCorrelation(), enqueue)
    assert (job["id"], job["header"]) == ("req-h", "X-Correlation-ID")


def test_a_users_serializer_is_wrapped(redis_module_url: str) -> None:
    correlation = ArqCorrelation(
        serializer=lambda data: json.dumps(data).encode(),
        deserializer=lambda raw: dict(json.loads(raw)),
    )
    (job, _) = work(redis_module_url, correlation, enqueue_in_scope("record"))
    assert job["id"] == "req-1"
    with correlation_scope("req-2"):
        raw = correlation.job_serializer({"f": "x", "a": [], "k": {}, "t": 1, "et": 0})
    assert json.loads(raw)[CARRIER_KEY] == {ID_KEY: "req-2"}


def test_results_carry_nothing_and_a_bad_carrier_is_ignored() -> None:
    correlation = ArqCorrelation()
    with correlation_scope("req-1"):
        raw = correlation.job_serializer({"f": "x", "r": 1})
    assert CARRIER_KEY not in pickle.loads(raw)  # noqa: S301 - our own bytes

    async def start_with(carrier: object) -> str | None:
        correlation.job_deserializer(pickle.dumps({"f": "x", CARRIER_KEY: carrier}))
        ctx = {"job_id": "j-1"}
        await correlation.on_job_start(ctx)
        try:
            return correlation_id_var.get()
        finally:
            await correlation.on_job_end(ctx)

    for carrier in ("req-1", ["req-1"], {ID_KEY: "bad\nid", PARENT_KEY: 3}):
        made = run(functools.partial(start_with, carrier))
        assert made is not None
        assert made != "req-1"
        assert is_safe_id(made)
    assert len(job_store) == 0


def test_a_bad_generator_is_refused_when_configured() -> None:
    with pytest.raises(ValueError, match="generate_missing=False"):
        ArqCorrelation(generate_missing=False, generator=lambda: "x")
    with pytest.raises(ValueError, match="generator"):
        ArqCorrelation(generator=lambda: "not safe\n")
