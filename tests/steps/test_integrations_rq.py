"""Steps for features/integrations_rq.feature: the guide's recipe, a real worker.

One ``rq worker`` process (a forking worker, of the class the guide names)
serves every scenario of the module, on a Redis database of its own; each
scenario tells its lines apart by its own IDs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

pytest.importorskip("rq", reason="the [rq] extra is missing")

from rq import Retry
from starlette.testclient import TestClient

from starlette_correlate import is_safe_id
from starlette_correlate.scope import correlation_scope
from tests.support.celery_process import WorkerProcess, worker_process
from tests.support.job_queues import (
    child_of,
    expected_line,
    find,
    job_lines,
    recipe_module,
    save_recipe,
)
from tests.support.servers import REPO_ROOT

scenarios("integrations_rq.feature")

MODULE = "rqshop"
WORKER_CLASS = "starlette_correlate.integrations.rq.CorrelatedWorker"


@dataclass
class Shop:
    worker: WorkerProcess
    module: ModuleType


@dataclass
class World:
    job_ids: list[str]


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
    return World([])


@given("an rq worker process running the guide's rq recipe on a real Redis server")
def worker_running(shop: Shop) -> None:
    assert shop.worker.process.poll() is None, shop.worker.output


@when(
    parsers.parse(
        'the guide\'s rq app is sent POST {path} with X-Request-ID "{request_id}"'
    )
)
def post(shop: Shop, world: World, path: str, request_id: str) -> None:
    with TestClient(shop.module.app) as client:
        response = client.post(path, headers={"X-Request-ID": request_id})
    assert response.status_code == 202, response.text
    world.job_ids.append(response.json()["job_id"])


def enqueue(shop: Shop, function: str) -> str:
    retry = Retry(max=1) if function == "retries" else None
    job = shop.module.queue.enqueue(f"tests.support.rq_jobs.{function}", retry=retry)
    return str(job.id)


@when(
    parsers.parse(
        'a request with correlation ID "{request_id}" enqueues the job "{function}"'
    )
)
def enqueue_in_request(
    shop: Shop, world: World, request_id: str, function: str
) -> None:
    with correlation_scope(request_id):
        world.job_ids.append(enqueue(shop, function))


@when(parsers.parse('the job "{function}" is enqueued outside any request'))
def enqueue_outside(shop: Shop, world: World, function: str) -> None:
    world.job_ids.append(enqueue(shop, function))


@then(parsers.parse('the worker logs "{text}" as the enqueued job'))
def logs(shop: Shop, world: World, text: str) -> None:
    find(shop.worker, expected_line(text, world.job_ids[0]))


@then(
    parsers.parse(
        'the worker logs the shipping line of "{order}" under "{request_id}" '
        "naming the placing job as parent"
    )
)
def logs_child(shop: Shop, world: World, order: str, request_id: str) -> None:
    child = child_of(shop.worker, request_id, f"shipping {order}")
    assert child["parent"] == world.job_ids[0]
    assert child["job"] != world.job_ids[0]


@then(
    parsers.parse('the worker logs rq\'s failure line of that job under "{request_id}"')
)
def logs_failure(shop: Shop, world: World, request_id: str) -> None:
    (job_id,) = world.job_ids
    prefix = f"ERROR request_id={request_id} job={job_id} parent=- rq.worker "
    assert shop.worker.wait_for(
        lambda lines: any(line.startswith(prefix) for line in lines)
    ), shop.worker.output


@then(parsers.parse('the second job ran under a new ID, not "{request_id}"'))
def fresh_id(shop: Shop, world: World, request_id: str) -> None:
    first, second = world.job_ids
    hello = f"request_id={request_id} parent=- tests.jobs hello"
    find(shop.worker, expected_line(hello, first))
    find(shop.worker, f"job={second} parent=- tests.jobs hello")
    # Every line of the job, the queue's own too, under the one new ID.
    (new_id,) = {line["request_id"] for line in job_lines(shop.worker, second)}
    assert new_id != request_id
    assert is_safe_id(new_id)
