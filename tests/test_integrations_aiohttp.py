"""The aiohttp carrier's edges: redirects, other trace configs, bad options."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from starlette_correlate.integrations.aiohttp import CorrelationSignal, trace_config
from starlette_correlate.scope import correlation_scope
from tests.support.guide import recipe
from tests.support.recording import recording_service
from tests.support.servers import serve_in_thread


async def echo(request: Request) -> JSONResponse:
    return JSONResponse(dict(request.headers))


async def hop(request: Request) -> Response:
    return RedirectResponse("/echo", status_code=307)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    app = Starlette(routes=[Route("/echo", echo), Route("/hop", hop)])
    with serve_in_thread(app) as url:
        yield url


def get(url: str, *configs: aiohttp.TraceConfig, cid: str | None) -> Any:
    async def call() -> Any:
        async with (
            aiohttp.ClientSession(
                trace_configs=list(configs),
                timeout=aiohttp.ClientTimeout(total=10),
            ) as session,
            session.get(url) as answer,
        ):
            return [r.status for r in answer.history], await answer.json()

    if cid is None:
        return asyncio.run(call())
    with correlation_scope(cid):
        return asyncio.run(call())


def test_a_redirect_keeps_the_id(server_url: str) -> None:
    history, received = get(f"{server_url}/hop", trace_config(), cid="hop-1")
    assert history == [307]
    assert received["x-request-id"] == "hop-1"


def test_another_trace_config_runs_beside_it(server_url: str) -> None:
    seen: list[str] = []

    async def theirs(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        seen.append(params.headers.get("X-Request-ID", "-"))
        params.headers["X-Theirs"] = "1"

    other = aiohttp.TraceConfig()
    other.on_request_start.append(theirs)
    _, received = get(f"{server_url}/echo", trace_config(), other, cid="two-1")
    assert seen == ["two-1"]  # ours ran first, as listed
    assert received["x-request-id"] == "two-1"
    assert received["x-theirs"] == "1"


def test_a_signal_appended_to_an_own_config_works(server_url: str) -> None:
    config = aiohttp.TraceConfig()
    config.on_request_start.append(CorrelationSignal("X-Correlation-ID"))
    _, received = get(f"{server_url}/echo", config, cid="own-1")
    assert received["x-correlation-id"] == "own-1"
    assert "x-request-id" not in received


def test_a_bad_header_name_is_refused_when_configuring() -> None:
    with pytest.raises(ValueError, match="header_name"):
        trace_config(header_name="bad name")


def test_the_guides_recipe_sends_the_id(monkeypatch: pytest.MonkeyPatch) -> None:
    with recording_service() as next_service:
        monkeypatch.setenv("PAYMENTS_URL", next_service.url)
        app = recipe("aiohttp")["app"]
        with serve_in_thread(app) as url, httpx.Client() as client:
            response = client.post(
                f"{url}/checkout", headers={"X-Request-ID": "guide-aio-1"}
            )
    assert response.json() == {"charged": True}
    assert [seen["x-request-id"] for seen in next_service.seen] == ["guide-aio-1"]
