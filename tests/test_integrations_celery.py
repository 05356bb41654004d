"""Celery integration: publish headers, bad headers, the parent filter."""

from __future__ import annotations

import logging
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from starlette_correlate import (
    bind_fields,
    correlation_id_var,
    get_correlation_id,
    get_fields,
    is_safe_id,
)
from starlette_correlate.context import correlation_header_var
from starlette_correlate.scope import correlation_scope

pytest.importorskip("celery", reason="the [celery] extra is missing")

from celery import Celery
from celery.app.trace import build_tracer
from celery.result import AsyncResult

from starlette_correlate.integrations import celery as integration
from starlette_correlate.integrations.celery import (
    CeleryParentIdFilter,
    CeleryTaskFilter,
    celery_parent_id_var,
    celery_task_id_var,
    connect_signals,
    task_store,
)
from tests.support.celery_process import celery_worker
from tests.support.celery_worker_app import URL_VARIABLE, make_app


def record(**extra: Any) -> logging.LogRecord:
    made = logging.LogRecord("t", logging.INFO, __file__, 1, "message", None, None)
    made.__dict__.update(extra)
    return made


def test_publish_outside_any_request_and_task_adds_nothing() -> None:
    headers: dict[str, Any] = {"id": "t-1"}
    integration._on_publish(sender="x", headers=headers)
    assert headers == {"id": "t-1"}


def test_publish_keeps_a_header_the_caller_set() -> None:
    headers: dict[str, Any] = {"id": "t-1", integration.ID_HEADER: "given"}
    with correlation_scope("current"):
        integration._on_publish(sender="x", headers=headers)
    assert headers[integration.ID_HEADER] == "given"


def test_publish_ignores_protocol_1_messages() -> None:
    with correlation_scope("current"):
        integration._on_publish(sender="x", headers=None)


@pytest.mark.parametrize("incoming", ["bad\nline", "x" * 2000, 'quote"d', 42, None, ""])
def test_an_unsafe_or_missing_header_gets_a_new_id(incoming: object) -> None:
    request = SimpleNamespace(
        headers=None,
        **{integration.ID_HEADER: incoming, integration.PARENT_HEADER: "p\r\n"},
    )
    task = SimpleNamespace(request=request)
    integration._on_prerun(task_id="t-1", task=task)
    try:
        chosen = correlation_id_var.get()
        assert isinstance(chosen, str)
        assert chosen != incoming
        assert is_safe_id(chosen)
        assert integration.get_celery_parent_id() is None
    finally:
        integration._on_postrun(task_id="t-1", task=task)
    assert correlation_id_var.get() is None
    assert len(integration.task_store) == 0


def test_without_generation_a_task_without_id_runs_without_one() -> None:
    integration.connect_signals(generate_missing=False)
    try:
        request = SimpleNamespace(headers={integration.PARENT_HEADER: "p-1"})
        task = SimpleNamespace(request=request)
        integration._on_prerun(task_id="t-1", task=task)
        assert correlation_id_var.get() is None
        assert integration.get_celery_parent_id() == "p-1"
        integration._on_postrun(task_id="t-1", task=task)
        assert integration.get_celery_parent_id() is None
    finally:
        integration.connect_signals()  # back to the default options
        integration.disconnect_signals()


def test_the_header_name_travels_with_the_id_only_when_not_the_default() -> None:
    named: dict[str, Any] = {"id": "t-1"}
    default: dict[str, Any] = {"id": "t-2"}
    with correlation_scope("current"):
        integration._on_publish(sender="x", headers=default)
        token = correlation_header_var.set("X-Correlation-ID")
        try:
            integration._on_publish(sender="x", headers=named)
        finally:
            correlation_header_var.reset(token)
    assert named[integration.HEADER_NAME_HEADER] == "X-Correlation-ID"
    assert integration.HEADER_NAME_HEADER not in default


@pytest.mark.parametrize(
    ("sent", "seen"),
    [
        ("X-Correlation-ID", "X-Correlation-ID"),
        (None, None),
        ("X Bad\r\nName", None),
        ("X-" + "a" * 300, None),
        (42, None),
    ],
)
def test_the_worker_follows_a_valid_header_name_and_resets_it(
    sent: object, seen: str | None
) -> None:
    request = SimpleNamespace(
        headers=None,
        **{integration.ID_HEADER: "abc", integration.HEADER_NAME_HEADER: sent},
    )
    task = SimpleNamespace(request=request)
    integration._on_prerun(task_id="t-1", task=task)
    try:
        inside = correlation_header_var.get()
    finally:
        integration._on_postrun(task_id="t-1", task=task)
    assert inside == seen
    assert correlation_header_var.get() is None
    assert len(integration.task_store) == 0


def test_the_parent_filter_keeps_extra_and_shows_the_placeholder() -> None:
    kept = record(celery_parent_id="mine")
    plain = record()
    assert CeleryParentIdFilter().filter(kept)
    assert CeleryParentIdFilter(placeholder="none").filter(plain)
    assert kept.__dict__["celery_parent_id"] == "mine"
    assert plain.__dict__["celery_parent_id"] == "none"
    with pytest.raises(ValueError, match="celery_parent_id"):
        CeleryParentIdFilter(field="not valid")


def test_the_worker_logging_recipe_in_a_worker_process(redis_url: str) -> None:
    app = make_app(redis_url)
    with celery_worker(
        "tests.support.celery_worker_app", {URL_VARIABLE: redis_url}
    ) as worker:
        integration.connect_signals()
        try:
            with correlation_scope("guide-worker"):
                placed = app.tasks["shop_worker.place"].delay("o-9")
            child_id = placed.get(timeout=60, interval=0.05)
            AsyncResult(child_id, app=app).get(timeout=30, interval=0.05)
        finally:
            integration.disconnect_signals()
        expected = (
            f"request_id=guide-worker task={placed.id} parent=- shop.plain: "
            "order o-9 placed",
            f"request_id=guide-worker task={child_id} parent={placed.id} "
            "shop_worker.ship: shipping o-9",
        )
        # The result is stored before the worker's lines reach us.
        assert worker.wait_for(
            lambda lines: all(any(e in line for line in lines) for e in expected)
        ), worker.output


def test_an_eager_task_keeps_the_callers_id() -> None:
    app = Celery("eager", set_as_current=False)

    @app.task(name="eager.seen")
    def seen() -> str | None:
        return correlation_id_var.get()

    integration.connect_signals()
    try:
        with correlation_scope("caller-1"):
            inside = seen.apply().get()
            after = correlation_id_var.get()
        outside = seen.apply().get()
    finally:
        integration.disconnect_signals()
    assert (inside, after) == ("caller-1", "caller-1")
    assert isinstance(outside, str)
    assert outside != "caller-1"
    assert correlation_id_var.get() is None
    assert len(integration.task_store) == 0


def test_the_task_filter_stamps_both_ids_and_keeps_extra() -> None:
    task_token = celery_task_id_var.set("task-1")
    parent_token = celery_parent_id_var.set("parent-1")
    try:
        plain, kept = record(), record(celery_task_id="mine")
        assert CeleryTaskFilter().filter(plain)
        assert CeleryTaskFilter().filter(kept)
    finally:
        celery_parent_id_var.reset(parent_token)
        celery_task_id_var.reset(task_token)
    assert (plain.__dict__["celery_task_id"], plain.__dict__["celery_parent_id"]) == (
        "task-1",
        "parent-1",
    )
    assert kept.__dict__["celery_task_id"] == "mine"
    outside = record()
    CeleryTaskFilter(task_field="task", parent_field=None).filter(outside)
    assert outside.__dict__["task"] == "-"
    assert "celery_parent_id" not in outside.__dict__
    with pytest.raises(ValueError, match="task_field"):
        CeleryTaskFilter(task_field="no good")
    with pytest.raises(ValueError, match="nothing to stamp"):
        CeleryTaskFilter(task_field=None, parent_field=None)


def test_a_generator_is_checked_when_the_signals_are_connected() -> None:
    with pytest.raises(TypeError, match="generator"):
        integration.connect_signals(generator="uuid")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a safe ID"):
        integration.connect_signals(generator=lambda: "two words")
    with pytest.raises(ValueError, match="generate_missing=False"):
        integration.connect_signals(generate_missing=False, generator=lambda: "job")
    integration.disconnect_signals()


def test_a_generator_that_fails_later_gives_the_task_a_uuid7(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("the ID service is down")
        return "job-1"

    integration.connect_signals(generator=flaky)
    task = SimpleNamespace(request=SimpleNamespace(id="t-9", headers={}))
    try:
        integration._on_prerun(task_id="t-9", task=task)
        ran_under = correlation_id_var.get()
        assert integration.celery_task_id_var.get() == "t-9"
    finally:
        integration._on_postrun(task_id="t-9", task=task)
        integration.connect_signals()
        integration.disconnect_signals()
    assert ran_under is not None
    assert uuid.UUID(ran_under).version == 7
    assert "generator raised" in caplog.text
    assert integration.celery_task_id_var.get() is None


def test_fields_bound_in_a_celery_task_do_not_reach_the_next_task() -> None:
    app = Celery("review", broker="memory://", backend="cache+memory://")
    connect_signals()
    seen: list[tuple[str | None, dict[str, str]]] = []

    @app.task(name="review.first")
    def first() -> None:
        bind_fields(user_id="alice")

    @app.task(name="review.second")
    def second() -> None:
        seen.append((get_correlation_id(), dict(get_fields())))

    # The way a worker runs tasks: one thread, one context, task after task.
    for task, task_id in ((first, "t1"), (second, "t2")):
        tracer = build_tracer(task.name, task, eager=False, propagate=True, app=app)
        headers = {"starlette_correlate_id": f"req-{task_id}"}
        tracer(task_id, [], {}, {"id": task_id, "headers": headers})
    assert seen == [("req-t2", {})]
    assert dict(get_fields()) == {}
    assert len(task_store) == 0
