"""The outbound rule every carrier shares, on each carrier's header mapping."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict
from requests.structures import CaseInsensitiveDict

from starlette_correlate.context import correlation_header_var
from starlette_correlate.integrations._outbound import (
    OutboundHeaders,
    add_outbound_headers,
    checked_header_name,
)
from starlette_correlate.scope import correlation_scope
from starlette_correlate.traceparent import traceparent_var
from tests.support.two_ids import two_ids_set

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

# Each carrier's own mapping: httpx, requests, aiohttp.
MAPPINGS: list[Callable[[dict[str, str]], OutboundHeaders]] = [
    httpx.Headers,
    CaseInsensitiveDict,
    CIMultiDict,
]


def pairs(headers: OutboundHeaders) -> list[tuple[str, str]]:
    items = headers.items()  # type: ignore[attr-defined]
    return sorted((str(k).lower(), str(v)) for k, v in items)


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_a_header_set_in_another_case_is_kept(
    mapping: Callable[[dict[str, str]], OutboundHeaders],
) -> None:
    headers = mapping({"x-request-id": "mine", "TraceParent": "theirs"})
    token = traceparent_var.set(TRACEPARENT)
    try:
        with correlation_scope("abc"):
            add_outbound_headers(headers)
    finally:
        traceparent_var.reset(token)
    assert pairs(headers) == [("traceparent", "theirs"), ("x-request-id", "mine")]


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_the_id_and_traceparent_are_added_once(
    mapping: Callable[[dict[str, str]], OutboundHeaders],
) -> None:
    headers = mapping({})
    token = traceparent_var.set(TRACEPARENT)
    try:
        with correlation_scope("abc"):
            add_outbound_headers(headers)
            add_outbound_headers(headers)
    finally:
        traceparent_var.reset(token)
    assert pairs(headers) == [("traceparent", TRACEPARENT), ("x-request-id", "abc")]


def test_the_header_follows_the_host_unless_given() -> None:
    followed: dict[str, str] = {}
    given_name: dict[str, str] = {}
    with correlation_scope("abc"):
        token = correlation_header_var.set("X-Correlation-ID")
        try:
            add_outbound_headers(followed)
            add_outbound_headers(given_name, "X-Other")
        finally:
            correlation_header_var.reset(token)
    assert followed == {"X-Correlation-ID": "abc"}
    assert given_name == {"X-Other": "abc"}


def test_a_traceparent_alone_is_not_sent_outside_a_request() -> None:
    headers: dict[str, str] = {}
    token = traceparent_var.set(TRACEPARENT)
    try:
        add_outbound_headers(headers)
    finally:
        traceparent_var.reset(token)
    assert headers == {}


@given(
    st.dictionaries(
        st.sampled_from(["x-REQUEST-id", "TraceParent", "Accept"]),
        st.text("abc-", min_size=1, max_size=8),
    )
)
def test_a_value_the_caller_set_is_never_changed(own: dict[str, str]) -> None:
    headers = CIMultiDict(own)
    token = traceparent_var.set(TRACEPARENT)
    try:
        with correlation_scope("added"):
            add_outbound_headers(headers)
    finally:
        traceparent_var.reset(token)
    for name, value in own.items():
        assert headers.getall(name) == [value]
    assert "X-Request-ID" in headers
    assert "traceparent" in headers


@pytest.mark.parametrize("bad", ["", "has space", "new\nline", "x:y", "Host"])
def test_a_bad_header_name_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="header_name"):
        checked_header_name(bad)


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_two_ids_send_this_hops_id_and_the_inherited_one(
    mapping: Callable[[dict[str, str]], OutboundHeaders],
) -> None:
    headers = mapping({})
    kept = mapping({"x-correlation-id": "set-by-caller"})
    with two_ids_set("corr-1", "caller-1"), correlation_scope("hop-1"):
        add_outbound_headers(headers)
        add_outbound_headers(kept)
    # This hop's ID is the callee's parent; the inherited one travels on.
    assert pairs(headers) == [("x-correlation-id", "corr-1"), ("x-request-id", "hop-1")]
    assert pairs(kept) == [
        ("x-correlation-id", "set-by-caller"),
        ("x-request-id", "hop-1"),
    ]


@pytest.mark.parametrize("pinned", ["X-Correlation-ID", "x-correlation-id"])
def test_a_carrier_pinned_to_the_inherited_header_keeps_both_ids(pinned: str) -> None:
    # instrument(client, header_name="X-Correlation-ID") in a two-ID service:
    # the inherited ID stays under its header, this hop's under the host's.
    headers = httpx.Headers()
    with two_ids_set("corr-1", "caller-1"), correlation_scope("hop-1"):
        add_outbound_headers(headers, pinned)
    assert pairs(headers) == [("x-correlation-id", "corr-1"), ("x-request-id", "hop-1")]
