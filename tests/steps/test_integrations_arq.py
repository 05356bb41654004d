"""Steps for features/integrations_arq.feature: the guide's recipe, a real worker.

One ``arq`` worker process serves every scenario of the module, on a Redis
database of its own; each scenario tells its lines apart by its own IDs.
The steps the arq and rq features share are in conftest.py; this module
gives them ``shop``, ``world`` and ``enqueue_job``.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import parsers, scenarios, then

pytest.importorskip("arq", reason="the [arq] extra is missing")

from arq import create_pool

from tests.support.asgi import run
from tests.support.celery_process import worker_process
from tests.support.job_queues import (
    Shop,
    World,
    find,
    recipe_module,
    save_recipe,
)
from tests.support.servers import REPO_ROOT

scenarios("integrations_arq.feature")

MODULE = "arqshop"


@pytest.fixture(scope="module")
def shop(
    redis_module_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shop]:
    folder = tmp_path_factory.mktemp("arqshop")
    save_recipe("arq", MODULE, folder)
    env = {
        "ARQ_REDIS_URL": redis_module_url,
        "PYTHONPATH": os.pathsep.join([str(folder), str(REPO_ROOT)]),
    }
    arq = Path(sys.executable).with_name("arq")
    with (
        worker_process(
            [str(arq), "tests.support.arq_jobs.WorkerSettings"],
            env,
            cwd=folder,
            stop=signal.SIGINT,
        ) as worker,
        recipe_module(MODULE, folder, env) as module,
    ):
        yield Shop(worker, module)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def enqueue_job(shop: Shop) -> Callable[[str], str]:
    return lambda function: enqueue(shop, function)


def enqueue(shop: Shop, function: str) -> str:
    correlation = shop.module.correlation

    async def go() -> str:
        pool = await create_pool(
            shop.module.REDIS,
            job_serializer=correlation.job_serializer,
            job_deserializer=correlation.job_deserializer,
        )
        try:
            job: Any = await pool.enqueue_job(function)
            return str(job.job_id)
        finally:
            await pool.aclose()

    job_id: str = run(go)
    return job_id


@then(
    parsers.parse(
        'the worker logs arq\'s failure line of that job under "{request_id}"'
    )
)
def logs_failure(shop: Shop, world: World, request_id: str) -> None:
    (job_id,) = world.job_ids
    failed = "fails failed, ValueError: the job failed on purpose"
    line = find(shop.worker, f"{job_id}:{failed}")
    prefix = f"ERROR request_id={request_id} job={job_id} parent=- arq.worker "
    assert line.startswith(prefix), line
