"""Edge cases of the access log: failures mid-stream, cancellation, bare apps."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from starlette_correlate import CorrelationIdFilter, CorrelationMiddleware
from starlette_correlate.logs import ACCESS_LOGGER, AccessLogMiddleware
from tests.support.apps import Probe, build_app
from tests.support.asgi import call_app, http_scope, run
from tests.support.logparse import LineCollector, on_logger


@pytest.fixture
def collector() -> Any:
    collector = LineCollector()
    collector.addFilter(CorrelationIdFilter())
    with on_logger(collector, ACCESS_LOGGER):
        yield collector


def only_line(collector: LineCollector) -> dict[str, Any]:
    (record,) = collector.records
    return record.__dict__


def test_a_send_that_fails_mid_stream_is_logged_incomplete(
    collector: LineCollector,
) -> None:
    app = build_app(Probe(), {"access_log": True})
    with pytest.raises(OSError, match="client disconnected"):
        run(
            lambda: call_app(
                app, http_scope("/stream"), disconnect_after_first_body=True
            )
        )
    line = only_line(collector)
    assert (line["status"], line["incomplete"], line["path"]) == (200, True, "/stream")
    assert line["request_id"] != "-"


def test_a_request_cancelled_before_any_response_is_499(
    collector: LineCollector,
) -> None:
    probe = Probe()
    app = build_app(probe, {"access_log": True})

    async def cancel_slow() -> None:
        task = asyncio.create_task(call_app(app, http_scope("/slow")))
        for _ in range(10_000):
            if probe.ids_at("slow"):
                break
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(cancel_slow)
    line = only_line(collector)
    assert (line["status"], line["incomplete"]) == (499, True)


def test_an_app_that_never_answers_is_logged_as_500(collector: LineCollector) -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    app = CorrelationMiddleware(silent, access_log=True)
    run(lambda: call_app(app, http_scope("/quiet")))
    line = only_line(collector)
    assert line["status"] == 500
    assert "incomplete" not in line


def test_websockets_and_lifespan_pass_through_unlogged(
    collector: LineCollector,
) -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        return None

    wrapper = AccessLogMiddleware(inner)
    run(lambda: wrapper({"type": "lifespan"}, receive, send))
    run(lambda: wrapper(http_scope("/ws", scope_type="websocket"), receive, send))
    assert seen == ["lifespan", "websocket"]
    assert collector.records == []


def test_a_quiet_access_logger_builds_no_line(collector: LineCollector) -> None:
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.WARNING)
    app = build_app(Probe(), {"access_log": True})
    run(lambda: call_app(app, http_scope("/sync")))
    assert collector.records == []


def test_the_path_is_percent_encoded(collector: LineCollector) -> None:
    app = build_app(Probe(), {"access_log": True})
    run(lambda: call_app(app, http_scope('/no where\n"x"')))
    line = only_line(collector)
    assert (line["path"], line["status"]) == ("/no%20where%0A%22x%22", 404)


def test_the_access_log_does_not_repeat_root_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Starlette(routes=[Route("/items", lambda request: PlainTextResponse("ok"))])
    app.add_middleware(CorrelationMiddleware, access_log=True)
    scope = http_scope("/api/items")
    scope["root_path"] = "/api"
    with caplog.at_level(logging.INFO, logger="starlette_correlate.access"):
        asyncio.run(call_app(app, scope))
    assert [getattr(r, "path", None) for r in caplog.records] == ["/api/items"]
