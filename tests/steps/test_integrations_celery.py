"""Steps for features/integrations_celery.feature: a real worker, real signals.

Eager mode sends no publish signal, so the scenarios run a real worker
thread (solo pool) on Celery's in-memory broker and result backend.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from starlette_correlate import correlation_id_var, is_safe_id
from starlette_correlate.scope import correlation_scope

pytest.importorskip("celery", reason="the [celery] extra is missing")

from celery import Celery, Task, signals
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult

from starlette_correlate import CorrelationIdFilter
from starlette_correlate.integrations.celery import (
    CeleryParentIdFilter,
    CeleryTaskFilter,
    celery_parent_id_var,
    celery_task_id_var,
    connect_signals,
    disconnect_signals,
    task_store,
)

scenarios("integrations_celery.feature")

LOGGER_NAME = "tests.integrations.celery"
WAIT = 15.0  # seconds: a bound on waiting for the worker, never asserted on


class ListHandler(logging.Handler):
    """Keeps every formatted line."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class AfterTask:
    """What the worker thread held right after our postrun handler ran."""

    correlation_id: str | None
    parent_id: str | None
    task_id: str | None
    store_size: int


@dataclass
class Worker:
    app: Celery
    tasks: dict[str, Task[Any, Any]]
    handler: ListHandler
    errors: ListHandler
    task_lines: ListHandler
    after: dict[str, list[AfterTask]] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_after(self, task_id: str, count: int = 1) -> list[AfterTask]:
        with self.changed:
            done = self.changed.wait_for(
                lambda: len(self.after.get(task_id, [])) >= count, timeout=WAIT
            )
        assert done, f"task {task_id} did not finish {count} time(s)"
        return self.after[task_id]


def build_celery() -> tuple[Celery, dict[str, Task[Any, Any]]]:
    app = Celery(
        "tests_integrations_celery",
        broker="memory://",
        backend="cache+memory://",
        set_as_current=False,
    )
    app.conf.update(
        # Celery would otherwise replace the root logger's handlers,
        # pytest's capture among them.
        worker_hijack_root_logger=False,
        task_default_queue="starlette-correlate-tests",
        broker_connection_retry_on_startup=False,
        # The in-memory transport polls; its default second per poll would
        # make each scenario wait for nothing.
        broker_transport_options={"polling_interval": 0.01},
    )
    logger = logging.getLogger(LOGGER_NAME)

    @app.task(name="tests.say")
    def say(text: str) -> str | None:
        logger.info(text)
        return correlation_id_var.get()

    @app.task(name="tests.spawn")
    def spawn() -> str:
        logger.info("parent publishing")
        child: AsyncResult[Any] = say.delay("child says hi")
        return str(child.id)

    @app.task(name="tests.fail")
    def fail() -> None:
        logger.info("about to fail")
        raise ValueError("the task failed")

    @app.task(name="tests.retry_once", bind=True, max_retries=1)
    def retry_once(self: Task[Any, Any]) -> str:
        logger.info("attempt")
        if self.request.retries == 0:
            raise self.retry(countdown=0)
        return "done"

    return app, {"say": say, "spawn": spawn, "fail": fail, "retry_once": retry_once}


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    app, tasks = build_celery()
    handler = ListHandler()
    handler.addFilter(CorrelationIdFilter())
    handler.addFilter(CeleryParentIdFilter())
    handler.setFormatter(
        logging.Formatter("%(request_id)s %(celery_parent_id)s %(message)s")
    )
    # The running task and its parent, as CeleryTaskFilter names them.
    task_lines = ListHandler()
    task_lines.addFilter(CeleryTaskFilter())
    task_lines.setFormatter(
        logging.Formatter("%(celery_task_id)s %(celery_parent_id)s %(message)s")
    )
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    logger.addHandler(task_lines)
    logger.setLevel(logging.INFO)
    # Celery's own error line for a failed task, logged by its tracer.
    errors = ListHandler()
    errors.setLevel(logging.ERROR)
    errors.addFilter(CorrelationIdFilter())
    errors.setFormatter(logging.Formatter("%(request_id)s %(levelname)s"))
    trace_logger = logging.getLogger("celery.app.trace")
    trace_logger.addHandler(errors)
    state = Worker(
        app=app, tasks=tasks, handler=handler, errors=errors, task_lines=task_lines
    )

    # Connected after ours, so it runs after ours: it sees what the worker
    # thread is left with once the task is over.
    def after_task(task_id: str | None = None, **_: Any) -> None:
        seen = AfterTask(
            correlation_id_var.get(),
            celery_parent_id_var.get(),
            celery_task_id_var.get(),
            len(task_store),
        )
        with state.changed:
            state.after.setdefault(str(task_id), []).append(seen)
            state.changed.notify_all()

    connect_signals()
    signals.task_postrun.connect(after_task, weak=False, dispatch_uid="tests.after")
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING"
        ):
            yield state
    finally:
        signals.task_postrun.disconnect(dispatch_uid="tests.after")
        disconnect_signals()
        logger.removeHandler(handler)
        logger.removeHandler(task_lines)
        trace_logger.removeHandler(errors)


@dataclass
class World:
    worker: Worker
    results: dict[str, AsyncResult[Any]] = field(default_factory=dict)
    lines_before: int = 0
    errors_before: int = 0
    task_lines_before: int = 0
    made: list[str] = field(default_factory=list)

    def new_lines(self) -> list[str]:
        return self.worker.handler.lines[self.lines_before :]

    def new_task_lines(self) -> list[str]:
        return self.worker.task_lines.lines[self.task_lines_before :]

    def finish(self, name: str) -> list[AfterTask]:
        result = self.results[name]
        result.get(interval=0.01, timeout=WAIT, propagate=False)
        return self.worker.wait_after(str(result.id))


@pytest.fixture
def world(worker: Worker) -> World:
    return World(
        worker=worker,
        lines_before=len(worker.handler.lines),
        errors_before=len(worker.errors.lines),
        task_lines_before=len(worker.task_lines.lines),
    )


@given("a real Celery worker on an in-memory broker with the signals connected")
def real_worker(world: World) -> None:
    assert world.worker.app.conf.broker_url == "memory://"


def publish(world: World, name: str, correlation_id: str | None) -> None:
    task = world.worker.tasks[name]
    if correlation_id is None:
        world.results[name] = task.delay()
        return
    # What a request handler does: publish while the request's ID is set.
    with correlation_scope(correlation_id):
        world.results[name] = task.delay()


@when(parsers.parse('a request with correlation ID "{value}" publishes a task'))
def publish_say(world: World, value: str) -> None:
    task = world.worker.tasks["say"]
    with correlation_scope(value):
        world.results["say"] = task.delay("hello from the task")
    world.finish("say")


@when(
    parsers.parse(
        'a request with correlation ID "{value}" '
        "publishes a task that publishes a child"
    )
)
def publish_spawn(world: World, value: str) -> None:
    publish(world, "spawn", value)
    world.finish("spawn")
    child_id = world.results["spawn"].get(interval=0.01, timeout=WAIT)
    world.results["child"] = AsyncResult(child_id, app=world.worker.app)
    world.finish("child")


@when(
    parsers.parse('a request with correlation ID "{value}" publishes a task that fails')
)
def publish_fail(world: World, value: str) -> None:
    publish(world, "fail", value)
    world.finish("fail")
    assert world.results["fail"].failed()


@when(
    parsers.parse(
        'a request with correlation ID "{value}" publishes a task that retries once'
    )
)
def publish_retry(world: World, value: str) -> None:
    publish(world, "retry_once", value)
    assert world.results["retry_once"].get(interval=0.01, timeout=WAIT) == "done"
    world.worker.wait_after(str(world.results["retry_once"].id), count=2)


@when("a task is published outside any request after one published in a request")
def publish_outside(world: World) -> None:
    say = world.worker.tasks["say"]
    with correlation_scope("req-celery-5"):
        world.results["first"] = say.delay("in a request")
    assert world.results["first"].get(interval=0.01, timeout=WAIT) == "req-celery-5"
    world.results["second"] = say.delay("outside")
    world.finish("first")
    world.finish("second")


@then(parsers.parse('the task\'s log line reads "{line}"'))
def task_line(world: World, line: str) -> None:
    assert world.new_lines() == [line]


@then(parsers.parse('the parent\'s log line reads "{line}"'))
def parent_line(world: World, line: str) -> None:
    assert world.new_lines()[0] == line


@then(
    parsers.parse("the child's log line carries \"{value}\" and the parent's task ID")
)
def child_line(world: World, value: str) -> None:
    parent_id = world.results["spawn"].id
    assert world.new_lines()[1:] == [f"{value} {parent_id} child says hi"]


@then(parsers.parse('Celery\'s own error line for the failure carries "{value}"'))
def celery_error_line(world: World, value: str) -> None:
    lines = world.worker.errors.lines[world.errors_before :]
    assert [line.splitlines()[0] for line in lines] == [f"{value} ERROR"]


@then("the worker holds no correlation state afterwards")
def nothing_left(world: World) -> None:
    for name, result in world.results.items():
        for after in world.worker.wait_after(str(result.id)):
            assert after == AfterTask(None, None, None, 0), name


@then(parsers.parse('both attempts logged "{line}"'))
def both_attempts(world: World, line: str) -> None:
    assert world.new_lines() == [line, line]


@then("the second task's ID is a new one, not the earlier request's")
def second_is_new(world: World) -> None:
    second = world.results["second"].get(interval=0.01, timeout=WAIT)
    assert isinstance(second, str)
    assert is_safe_id(second)
    assert second != "req-celery-5"
    assert world.new_lines()[0] == "req-celery-5 - in a request"
    assert world.new_lines()[1] == f"{second} - outside"


@then("the child's task line names the child's own task ID and its parent's")
def child_task_line(world: World) -> None:
    parent_id = world.results["spawn"].id
    child_id = world.results["spawn"].get(interval=0.01, timeout=WAIT)
    world.worker.wait_after(str(child_id))
    assert world.new_task_lines() == [
        f"{parent_id} - parent publishing",
        f"{child_id} {parent_id} child says hi",
    ]


@given(parsers.parse('the signals are connected with a generator of "{prefix}" IDs'))
def generator_connected(
    world: World, prefix: str, request: pytest.FixtureRequest
) -> None:
    made: list[str] = []

    def job_ids() -> str:
        made.append(f"{prefix}{len(made)}")
        return made[-1]

    connect_signals(generator=job_ids)
    # Back to the module worker's settings, whatever the scenario does.
    request.addfinalizer(connect_signals)
    world.made = made


@when("a task is published outside any request")
def publish_plain(world: World) -> None:
    world.results["plain"] = world.worker.tasks["say"].delay("no ID here")
    world.finish("plain")


@then("the task ran under an ID the generator made")
def ran_under_generated(world: World) -> None:
    ran_under = world.results["plain"].get(interval=0.01, timeout=WAIT)
    assert ran_under in world.made
    assert world.new_lines() == [f"{ran_under} - no ID here"]
