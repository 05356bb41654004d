"""Bad configuration fails at construction with an error that says what to fix."""

from __future__ import annotations

import logging
import re
from dataclasses import fields
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from starlette_correlate import CorrelationCore, CorrelationMiddleware, TrustedSources
from starlette_correlate.config import (
    ASGI_ONLY,
    EVERY_HOST,
    CorrelationConfig,
    CorrelationOptions,
)
from starlette_correlate.middleware import STATE_KEY


async def app(scope: Any, receive: Any, send: Any) -> None:
    """Do nothing: the tests only construct the middleware."""


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (
            {"header_name": "X Request ID"},
            ValueError,
            "header_name: 'X Request ID' is not a valid",
        ),
        ({"header_name": ""}, ValueError, "header_name"),
        ({"header_name": "X-Req\r\n"}, ValueError, "header_name"),
        (
            {"incoming_headers": []},
            ValueError,
            "incoming_headers: give a non-empty list",
        ),
        ({"incoming_headers": "X-Request-ID"}, ValueError, "incoming_headers"),
        (
            {"incoming_headers": ["ok", "bad name"]},
            ValueError,
            "incoming_headers: 'bad name'",
        ),
        ({"validator": "uuid"}, TypeError, "validator: 'uuid' is not callable"),
        ({"generator": 42}, TypeError, "generator: 42 is not callable"),
        ({"generator": lambda: "a b"}, ValueError, "generator: it returned 'a b'"),
        ({"generator": lambda: "x\r\nSet-Cookie: a=1"}, ValueError, "not a safe ID"),
        ({"generator": lambda: None}, ValueError, "generator: it returned None"),
        (
            {"trusted_sources": ["10.0.0.0/33"]},
            ValueError,
            "trusted_sources: '10.0.0.0/33'",
        ),
        (
            {"trusted_sources": ["not-an-ip"]},
            ValueError,
            "is not an IP address or CIDR",
        ),
        ({"trusted_sources": "10.0.0.0/8"}, TypeError, "give a list of addresses"),
        ({"trusted_sources": []}, ValueError, "the list is empty"),
        ({"max_length": 0}, ValueError, "max_length: 0 must be a whole number"),
        ({"max_length": True}, ValueError, "max_length"),
        (
            {"inherited_header": "X Correlation"},
            ValueError,
            "inherited_header: 'X Correlation' is not a valid",
        ),
        ({"inherited_header": ""}, ValueError, "inherited_header"),
        (
            {"inherited_header": "x-request-id"},
            ValueError,
            "inherited_header: 'x-request-id' is already a header of this hop's ID",
        ),
        (
            {
                "incoming_headers": ["X-Request-ID", "X-Trace"],
                "inherited_header": "X-TRACE",
            },
            ValueError,
            "the inherited ID needs its own",
        ),
    ],
)
def test_bad_options_fail_with_a_clear_message(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=None) as caught:
        CorrelationMiddleware(app, **options)
    assert message in str(caught.value)


def test_a_non_callable_error_response_is_refused() -> None:
    with pytest.raises(TypeError, match="error_response"):
        CorrelationMiddleware(app, error_response="oops")  # type: ignore[arg-type]


def test_a_validator_that_raises_refuses_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(value: str) -> bool:
        raise RuntimeError("validator bug")

    core = CorrelationCore(validator=broken)
    with caplog.at_level(logging.WARNING, logger="starlette_correlate"):
        assert core.choose_id("secret-abc") != "secret-abc"
        assert core.choose_id("secret-abc") != "secret-abc"
    [record] = caplog.records
    assert "validator raised RuntimeError" in record.getMessage()
    assert "secret-abc" not in caplog.text


def test_a_validator_result_is_read_as_a_condition() -> None:
    uuid_like = re.compile(r"[0-9a-f-]{8,}")
    # A peer's validator returns re.Match or None; "yes" and 0 are truthy/falsy.
    assert CorrelationCore(validator=uuid_like.fullmatch).choose_id("abcd-1234") == (
        "abcd-1234"
    )
    assert CorrelationCore(validator=uuid_like.fullmatch).choose_id("xyz") != "xyz"
    assert CorrelationCore(validator=lambda value: "yes").choose_id("abc") == "abc"
    assert CorrelationCore(validator=lambda value: 0).choose_id("abc") != "abc"


def test_ordered_incoming_headers_prefer_the_first_present() -> None:
    middleware = CorrelationMiddleware(
        app, incoming_headers=["X-Request-ID", "X-Correlation-ID"]
    )
    both = {"headers": [(b"x-correlation-id", b"second"), (b"x-request-id", b"first")]}
    assert middleware.incoming_id(both) == "first"
    only_second = {"headers": [(b"x-correlation-id", b"second")]}
    assert middleware.incoming_id(only_second) == "second"
    assert middleware.incoming_id({"headers": []}) is None


def test_trusted_sources_match_ipv4_ipv6_and_refuse_garbage() -> None:
    trusted = TrustedSources(["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"])
    assert "10.255.0.1" in trusted
    assert "2001:db8::7" in trusted
    assert "127.0.0.1" in trusted
    assert "127.0.0.2" not in trusted
    assert "unix-socket" not in trusted
    assert None not in trusted
    assert "10.255.0.1" in trusted  # the cached verdict is the same
    assert "10.0.0.0/8" in repr(trusted)


def test_the_state_key_is_documented_name() -> None:
    assert STATE_KEY == "correlation_id"


def test_the_typed_keyword_options_are_the_config_fields() -> None:
    # Declared twice, for type checkers and for checking: held equal here,
    # names and annotations alike (both modules defer annotations).
    declared = {option.name: option.type for option in fields(CorrelationConfig)}
    typed = {
        name: getattr(hint, "__forward_arg__", hint)
        for name, hint in CorrelationOptions.__annotations__.items()
    }
    assert typed == declared


@pytest.mark.parametrize(
    "name",
    [
        "Host",
        "authorization",
        "Content-Length",
        "Content-Disposition",
        "X-Forwarded-Host",
        "traceparent",
        "Set-Cookie",
    ],
)
@pytest.mark.parametrize("option", ["header_name", "inherited_header"])
def test_a_header_the_library_writes_must_not_mean_something_else(
    name: str, option: str
) -> None:
    # The ID goes out under these names, on responses, calls and jobs.
    with pytest.raises(ValueError, match=rf"{option}: .* already means something"):
        CorrelationConfig(**{option: name})  # type: ignore[arg-type]
    assert CorrelationConfig(incoming_headers=[name, "X-Request-ID"])


def test_every_host_takes_the_rule_strict_mode_the_header_and_two_ids() -> None:
    # Django reads EVERY_HOST (D-django-4); what stays ASGI-only is named.
    assert {"set_request_header", "on_invalid", "inherited_header"} <= EVERY_HOST
    assert {
        "error_response",
        "access_log",
        "error_log",
        "extractors",
        "resolver",
        "resolver_timeout",
        "trace_context",
        "adopt_trace_id",
    } == ASGI_ONLY
    assert not ASGI_ONLY & EVERY_HOST


def test_a_config_is_taken_by_position_or_as_config() -> None:
    # add_middleware(CorrelationMiddleware, config=...) passes it by keyword.
    config = CorrelationConfig(header_name="X-Trace-Me")
    app = Starlette()
    app.add_middleware(CorrelationMiddleware, config=config)
    with TestClient(app) as client:
        assert "x-trace-me" in client.get("/").headers
    assert CorrelationCore(config=config).config is config
    assert CorrelationCore(config).config is config
    with pytest.raises(TypeError, match="either a CorrelationConfig or keyword"):
        CorrelationCore(config=config, max_length=10)
