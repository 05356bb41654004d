"""The requests carrier's edges: the session's own parts are kept."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
import requests
from requests.adapters import BaseAdapter
from requests.auth import HTTPBasicAuth
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from starlette_correlate.integrations.requests import CorrelatedSend, instrument
from starlette_correlate.scope import correlation_scope
from tests.support.guide import recipe
from tests.support.recording import recording_service
from tests.support.servers import serve_in_thread


class RecordingAdapter(BaseAdapter):
    """A transport of the user's own, mounted before ``instrument``."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Mapping[str, str | bytes]] = []

    def send(  # type: ignore[override]  # the options are not needed here
        self, request: requests.PreparedRequest, **kwargs: object
    ) -> requests.Response:
        self.sent.append(dict(request.headers))
        response = requests.Response()
        response.status_code = 204
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def adapter() -> Iterator[tuple[requests.Session, RecordingAdapter]]:
    adapter = RecordingAdapter()
    session = requests.Session()
    session.mount("http://next.test/", adapter)
    session.auth = HTTPBasicAuth("user", "pass")
    with instrument(session) as instrumented:
        yield instrumented, adapter


def test_a_mounted_adapter_and_the_session_auth_are_kept(
    adapter: tuple[requests.Session, RecordingAdapter],
) -> None:
    session, recorder = adapter
    with correlation_scope("abc"):
        session.get("http://next.test/")
        session.get("http://next.test/", auth=HTTPBasicAuth("other", "pass"))
    assert [h["X-Request-ID"] for h in recorder.sent] == ["abc", "abc"]
    assert recorder.sent[0]["Authorization"] != recorder.sent[1]["Authorization"]


def test_a_prepared_request_sent_directly_gets_the_id(
    adapter: tuple[requests.Session, RecordingAdapter],
) -> None:
    session, recorder = adapter
    prepared = session.prepare_request(requests.Request("GET", "http://next.test/"))
    with correlation_scope("direct"):
        session.send(prepared)
    assert recorder.sent[0]["X-Request-ID"] == "direct"


def test_instrumenting_twice_wraps_once() -> None:
    with requests.Session() as session:
        first = instrument(session, header_name="X-First").send
        second = instrument(session, header_name="X-Second").send
    assert second is first
    assert isinstance(first, CorrelatedSend)
    assert first.header_name == "X-First"
    assert not isinstance(first.wrapped, CorrelatedSend)


def test_other_sessions_are_left_alone() -> None:
    with requests.Session() as mine, requests.Session() as theirs:
        instrument(mine)
        assert not isinstance(theirs.send, CorrelatedSend)


def test_a_bad_header_name_is_refused_when_instrumenting() -> None:
    with requests.Session() as session, pytest.raises(ValueError, match="header_name"):
        instrument(session, header_name="bad name")
    assert not isinstance(session.send, CorrelatedSend)


async def echo(request: Request) -> JSONResponse:
    return JSONResponse(dict(request.headers))


async def hop(request: Request) -> Response:
    return RedirectResponse("/echo", status_code=307)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    app = Starlette(routes=[Route("/echo", echo), Route("/hop", hop)])
    with serve_in_thread(app) as url:
        yield url


def test_a_redirect_keeps_the_id(server_url: str) -> None:
    with instrument(requests.Session()) as session, correlation_scope("hop-1"):
        answer = session.get(f"{server_url}/hop", timeout=10)
    assert [r.status_code for r in answer.history] == [307]
    assert answer.json()["x-request-id"] == "hop-1"


def test_a_call_in_starlettes_threadpool_sees_the_id(server_url: str) -> None:
    def call() -> Any:
        with instrument(requests.Session()) as session:
            return session.get(f"{server_url}/echo", timeout=10).json()

    async def endpoint() -> Any:
        with correlation_scope("pool-1"):
            return await run_in_threadpool(call)

    assert asyncio.run(endpoint())["x-request-id"] == "pool-1"


def test_the_guides_recipe_sends_the_id(monkeypatch: pytest.MonkeyPatch) -> None:
    with recording_service() as next_service:
        monkeypatch.setenv("PAYMENTS_URL", next_service.url)
        namespace = recipe("requests")
        try:
            with serve_in_thread(namespace["app"]) as url, httpx.Client() as client:
                response = client.post(
                    f"{url}/checkout", headers={"X-Request-ID": "guide-req-1"}
                )
        finally:
            namespace["payments"].close()
    assert response.json() == {"charged": True}
    assert [seen["x-request-id"] for seen in next_service.seen] == ["guide-req-1"]
