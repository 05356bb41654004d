"""The httpx integration's edges: a missing httpx, a bad header name."""

from __future__ import annotations

import importlib
import sys

import httpx
import pytest

from starlette_correlate.integrations.httpx import (
    AsyncCorrelationHook,
    CorrelationHook,
    add_correlation_headers,
)
from starlette_correlate.scope import correlation_scope
from starlette_correlate.traceparent import traceparent_var

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_missing_httpx_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    monkeypatch.delitem(sys.modules, "starlette_correlate.integrations.httpx")
    with pytest.raises(ImportError, match=r"starlette-correlate\[httpx\]"):
        importlib.import_module("starlette_correlate.integrations.httpx")


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
