"""Fixtures and steps shared by step modules of this folder.

* ``built``: the package_*.feature modules' sdist and wheel.
* The job queues' steps (features/integrations_arq.feature and
  integrations_rq.feature, the queues of ``integrations/jobs.py``): each
  module gives the ``shop`` (its worker and the recipe module), a
  ``world`` (a :class:`~tests.support.job_queues.World`) and
  ``enqueue_job`` (``function name -> job ID``, with its queue's client).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_bdd import given, parsers, then, when
from starlette.testclient import TestClient

from starlette_correlate import is_safe_id
from starlette_correlate.scope import correlation_scope
from tests.support.dist import Distributions, build
from tests.support.job_queues import (
    Shop,
    World,
    child_of,
    expected_line,
    find,
    job_lines,
)
from tests.support.servers import REPO_ROOT


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    """Build this checkout's sdist and wheel once per run, in a temporary folder."""
    return build(REPO_ROOT, tmp_path_factory.mktemp("dist"))


# The job queues' steps -------------------------------------------------------


@given(
    parsers.parse(
        "an {queue} worker process running the guide's {recipe} recipe on a real "
        "Redis server"
    )
)
def worker_running(shop: Shop) -> None:
    assert shop.worker.process.poll() is None, shop.worker.output


@when(
    parsers.parse(
        'the guide\'s {queue} app is sent POST {path} with X-Request-ID "{request_id}"'
    )
)
def post(shop: Shop, world: World, path: str, request_id: str) -> None:
    with TestClient(shop.module.app) as client:
        response = client.post(path, headers={"X-Request-ID": request_id})
    assert response.status_code == 202, response.text
    world.job_ids.append(response.json()["job_id"])


@when(
    parsers.parse(
        'a request with correlation ID "{request_id}" enqueues the job "{function}"'
    )
)
def enqueue_in_request(
    world: World, enqueue_job: Callable[[str], str], request_id: str, function: str
) -> None:
    with correlation_scope(request_id):
        world.job_ids.append(enqueue_job(function))


@when(parsers.parse('the job "{function}" is enqueued outside any request'))
def enqueue_outside(
    world: World, enqueue_job: Callable[[str], str], function: str
) -> None:
    world.job_ids.append(enqueue_job(function))


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
