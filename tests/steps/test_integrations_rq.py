"""Steps for features/integrations_rq.feature: the guide's recipe, a real worker.

One ``rq worker`` process (a forking worker, of the class the guide names)
serves every scenario of the module, on a Redis database of its own; each
scenario tells its lines apart by its own IDs. The steps the rq and arq
features share are in conftest.py; this module gives them ``shop``,
``world`` and ``enqueue_job``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_bdd import parsers, scenarios, then

pytest.importorskip("rq", reason="the [rq] extra is missing")

from rq import Retry

from tests.support.celery_process import worker_process
from tests.support.job_queues import (
    Shop,
    World,
    recipe_module,
    save_recipe,
)
from tests.support.servers import REPO_ROOT

scenarios("integrations_rq.feature")

MODULE = "rqshop"
WORKER_CLASS = "starlette_correlate.integrations.rq.CorrelatedWorker"


@pytest.fixture(scope="module")
def shop(
    redis_module_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shop]:
    folder = tmp_path_factory.mktemp("rqshop")
    save_recipe("rq", MODULE, folder)
    env = {
        "RQ_REDIS_URL": redis_module_url,
        "PYTHONPATH": os.pathsep.join([str(folder), str(REPO_ROOT)]),
    }
    rq = Path(sys.executable).with_name("rq")
    with (
        worker_process(
            [str(rq), "worker", "-c", MODULE, "--worker-class", WORKER_CLASS, "shop"],
            env,
            cwd=folder,
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
    retry = Retry(max=1) if function == "retries" else None
    job = shop.module.queue.enqueue(f"tests.support.rq_jobs.{function}", retry=retry)
    return str(job.id)


@then(
    parsers.parse('the worker logs rq\'s failure line of that job under "{request_id}"')
)
def logs_failure(shop: Shop, world: World, request_id: str) -> None:
    (job_id,) = world.job_ids
    prefix = f"ERROR request_id={request_id} job={job_id} parent=- rq.worker "
    assert shop.worker.wait_for(
        lambda lines: any(line.startswith(prefix) for line in lines)
    ), shop.worker.output
