"""The httpx integration's edges: a missing httpx, a bad header name."""

from __future__ import annotations

import asyncio
import importlib
import sys
from typing import Any

import httpx
import httpx2
import pytest

from starlette_correlate.context import correlation_header_var
from starlette_correlate.integrations.httpx import (
    AsyncCorrelationHook,
    CorrelationHook,
    add_correlation_headers,
    instrument,
)
from starlette_correlate.scope import correlation_scope
from starlette_correlate.traceparent import traceparent_var

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_missing_httpx_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    monkeypatch.setitem(sys.modules, "httpx2", None)
    monkeypatch.delitem(sys.modules, "starlette_correlate.integrations.httpx")
    with pytest.raises(ImportError, match=r"starlette-correlate\[httpx\]"):
        importlib.import_module("starlette_correlate.integrations.httpx")


def test_httpx2_alone_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    monkeypatch.delitem(sys.modules, "starlette_correlate.integrations.httpx")
    module = importlib.import_module("starlette_correlate.integrations.httpx")
    seen: list[str | None] = []

    def downstream(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers.get("X-Request-ID"))
        return httpx2.Response(204)

    client = module.instrument(
        httpx2.Client(transport=httpx2.MockTransport(downstream))
    )
    with correlation_scope("only-httpx2"), client:
        client.get("http://next.test/")
    assert seen == ["only-httpx2"]


@pytest.mark.parametrize("package", [httpx, httpx2])
def test_each_kind_of_client_gets_its_kind_of_hook(package: Any) -> None:
    sync_client = instrument(package.Client())
    async_client = instrument(package.AsyncClient())
    assert [type(h) for h in sync_client.event_hooks["request"]] == [CorrelationHook]
    assert [type(h) for h in async_client.event_hooks["request"]] == [
        AsyncCorrelationHook
    ]
    sync_client.close()
    asyncio.run(async_client.aclose())


def test_the_header_name_follows_the_current_one_unless_given() -> None:
    def sent(**hook: Any) -> list[tuple[str, str]]:
        request = httpx.Request("GET", "http://example.test/")
        CorrelationHook(**hook)(request)
        return [(k, v) for k, v in request.headers.items() if k.startswith("x-")]

    with correlation_scope("abc"):
        default = sent()
        token = correlation_header_var.set("X-Correlation-ID")
        try:
            followed = sent()
            given = sent(header_name="X-Other")
        finally:
            correlation_header_var.reset(token)
    assert default == [("x-request-id", "abc")]
    assert followed == [("x-correlation-id", "abc")]
    assert given == [("x-other", "abc")]


@pytest.mark.parametrize("hook", [CorrelationHook, AsyncCorrelationHook])
def test_a_bad_header_name_is_refused_when_configured(hook: type[object]) -> None:
    with pytest.raises(ValueError, match="not a valid HTTP header name"):
        hook("X Request\r\nID")  # type: ignore[call-arg]


def test_traceparent_is_forwarded_unchanged_and_never_overrides() -> None:
    with correlation_scope("abc"):
        token = traceparent_var.set(TRACEPARENT)
        try:
            forwarded = httpx.Request("GET", "http://example.test/")
            add_correlation_headers(forwarded)
            own = httpx.Request(
                "GET", "http://example.test/", headers={"traceparent": "x"}
            )
            add_correlation_headers(own)
        finally:
            traceparent_var.reset(token)
    assert forwarded.headers["traceparent"] == TRACEPARENT
    assert own.headers.get_list("traceparent") == ["x"]


def test_no_traceparent_is_sent_without_an_id() -> None:
    token = traceparent_var.set(TRACEPARENT)
    try:
        request = httpx.Request("GET", "http://example.test/")
        add_correlation_headers(request)
    finally:
        traceparent_var.reset(token)
    assert "traceparent" not in request.headers
