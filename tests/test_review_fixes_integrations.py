"""Review regressions in the Celery and Django hosts: fields end with their unit."""

from __future__ import annotations

import pytest

pytest.importorskip("celery", reason="needs Celery: starlette-correlate[celery]")
pytest.importorskip("django", reason="needs Django: starlette-correlate[django]")

from celery import Celery
from celery.app.trace import build_tracer
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.test import RequestFactory

from starlette_correlate import (
    ContextStore,
    bind_fields,
    get_correlation_id,
    get_fields,
)
from starlette_correlate.integrations.celery import connect_signals, task_store
from starlette_correlate.integrations.django import CorrelationMiddleware
from tests.support import django_site

django_site.configure()


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


def test_django_treats_a_repeated_id_header_as_absent() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.META["HTTP_X_REQUEST_ID"] = "first,second"
    middleware = CorrelationMiddleware(view, store=ContextStore())
    assert middleware.incoming_id(request) is None
    response = middleware(request)
    assert isinstance(response, HttpResponseBase)
    assert response["X-Request-ID"] != "first,second"
