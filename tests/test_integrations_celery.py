"""Celery integration: publish headers, bad headers, the parent filter."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from starlette_correlate import correlation_id_var, is_safe_id
from starlette_correlate.context import correlation_header_var
from starlette_correlate.scope import correlation_scope

pytest.importorskip("celery", reason="the [celery] extra is missing")

from celery import Celery
from celery.result import AsyncResult

from starlette_correlate.integrations import celery as integration
from starlette_correlate.integrations.celery import CeleryParentIdFilter
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
        integration.disconnect_signals()
        integration._settings["generate_missing"] = True


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
            "request_id=guide-worker parent=- shop.plain: order o-9 placed",
            f"request_id=guide-worker parent={placed.id} shop_worker.ship: "
            "shipping o-9",
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
