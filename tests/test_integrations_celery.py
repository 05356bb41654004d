"""Celery integration: publish headers, bad headers, the parent filter."""

from __future__ import annotations

import io
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from starlette_correlate import correlation_id_var, is_safe_id
from starlette_correlate.scope import correlation_scope

pytest.importorskip("celery", reason="the [celery] extra is missing")

from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult

from starlette_correlate.integrations import celery as integration
from starlette_correlate.integrations.celery import CeleryParentIdFilter
from tests.support.celery_worker_app import FOLDER_VARIABLE, make_app
from tests.support.guide import handlers_restored, recipe, send
from tests.support.servers import REPO_ROOT


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


def test_the_parent_filter_keeps_extra_and_shows_the_placeholder() -> None:
    kept = record(celery_parent_id="mine")
    plain = record()
    assert CeleryParentIdFilter().filter(kept)
    assert CeleryParentIdFilter(placeholder="none").filter(plain)
    assert kept.__dict__["celery_parent_id"] == "mine"
    assert plain.__dict__["celery_parent_id"] == "none"
    with pytest.raises(ValueError, match="celery_parent_id"):
        CeleryParentIdFilter(field="not valid")


def test_the_users_guide_recipe_logs_the_request_id_and_the_parent() -> None:
    with handlers_restored("shop.tasks"):
        found = recipe("celery")
        celery_app = found["celery_app"]
        celery_app.conf.broker_transport_options = {"polling_interval": 0.01}
        stream = io.StringIO()
        found["handler"].setStream(stream)
        shipped_seen = threading.Event()

        class Watch(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if record.getMessage().startswith("shipping"):
                    shipped_seen.set()

        found["logger"].addHandler(Watch())
        try:
            with start_worker(celery_app, pool="solo", perform_ping_check=False):
                response = send(found["app"], "POST", "/orders/o-1", "guide-celery")
                assert response.status_code == 202
                assert shipped_seen.wait(timeout=15)
        finally:
            integration.disconnect_signals()
    placed, shipped = stream.getvalue().splitlines()
    assert placed == "INFO request_id=guide-celery parent=- shop.tasks order o-1 placed"
    parent = re.fullmatch(
        r"INFO request_id=guide-celery parent=(\S+) shop.tasks shipping o-1", shipped
    )
    assert parent is not None
    assert is_safe_id(parent.group(1))
    assert len(integration.task_store) == 0


def test_the_worker_logging_recipe_in_a_worker_process(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    worker = subprocess.Popen(
        [
            sys.executable,
            *("-m", "celery", "-A", "tests.support.celery_worker_app", "worker"),
            *("--pool=solo", "--loglevel=INFO", "--hostname=guide@localhost"),
            *("--without-heartbeat", "--without-mingle", "--without-gossip"),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, FOLDER_VARIABLE: str(tmp_path), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    integration.connect_signals()
    try:
        with correlation_scope("guide-worker"):
            placed = app.tasks["shop_worker.place"].delay("o-9")
        child_id = placed.get(timeout=60, interval=0.05)
        AsyncResult(child_id, app=app).get(timeout=30, interval=0.05)
    finally:
        integration.disconnect_signals()
        # Cold shutdown: the lines are written; a warm one waits seconds more.
        worker.send_signal(signal.SIGQUIT)
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert "request_id=guide-worker parent=- shop.plain: order o-9 placed" in output, (
        output
    )
    assert (
        f"request_id=guide-worker parent={placed.id} shop_worker.ship: shipping o-9"
        in output
    ), output
    # The broker's files, remote-control ones too, stay in the test's folder.
    assert (tmp_path / "control").is_dir()
    assert not (REPO_ROOT / "control").exists()


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
