"""Steps for features/integrations_celery_redis.feature.

The recipe runs twice, exactly as printed: in this process, which serves
the web app and publishes, and in a real worker process; both read the
broker URL from ``CELERY_BROKER_URL``, here a redis-server the test runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

pytest.importorskip("celery", reason="the [celery] extra is missing")

from starlette_correlate import is_safe_id
from starlette_correlate.integrations.celery import disconnect_signals, task_store
from tests.support.celery_process import WorkerProcess, celery_worker
from tests.support.guide import handlers_restored, recipe, send

scenarios("integrations_celery_redis.feature")

RECIPE_LINE = re.compile(r"INFO request_id=\S+ parent=\S+ shop\.tasks .*")


@dataclass
class World:
    broker: str = ""
    worker: WorkerProcess | None = None


@pytest.fixture
def world() -> World:
    return World()


@given("a real redis-server on 127.0.0.1")
def broker(world: World, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    world.broker = redis_url
    monkeypatch.setenv("CELERY_BROKER_URL", redis_url)


@given(
    "a celery worker process running the guide's Celery recipe",
    target_fixture="running_worker",
)
def worker_process(world: World) -> Iterator[WorkerProcess]:
    with celery_worker(
        "tests.support.guide_celery:celery_app",
        {"CELERY_BROKER_URL": world.broker},
    ) as worker:
        world.worker = worker
        yield worker


@when(
    parsers.parse(
        'the guide\'s app is sent POST {path} with X-Request-ID "{request_id}"'
    )
)
def post(world: World, path: str, request_id: str, running_worker: Any) -> None:
    with handlers_restored("shop.tasks"):
        found = recipe("celery")
        try:
            response = send(found["app"], "POST", path, request_id)
        finally:
            disconnect_signals()
    assert response.status_code == 202
    assert len(task_store) == 0


def recipe_lines(worker: WorkerProcess) -> list[str]:
    return [line for line in worker.lines if RECIPE_LINE.fullmatch(line)]


@then(parsers.parse('the worker logs "{line}"'))
def logs(world: World, line: str) -> None:
    worker = world.worker
    assert worker is not None
    assert worker.wait_for(lambda lines: line in lines), worker.output


@then(
    parsers.parse(
        'the worker logs the shipping line under "{request_id}" naming the '
        "placing task as parent"
    )
)
def logs_child(world: World, request_id: str) -> None:
    worker = world.worker
    assert worker is not None
    pattern = re.compile(
        rf"INFO request_id={re.escape(request_id)} parent=(\S+) "
        r"shop\.tasks shipping o-1"
    )
    assert worker.wait_for(
        lambda lines: any(pattern.fullmatch(line) for line in lines)
    ), worker.output
    (shipped,) = [m for line in worker.lines if (m := pattern.fullmatch(line))]
    assert shipped.group(1) != "-"
    assert is_safe_id(shipped.group(1))
    assert len(recipe_lines(worker)) == 2, worker.output
