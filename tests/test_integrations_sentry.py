"""Sentry integration: the tag option and the processor's manners."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from starlette_correlate import CorrelationMiddleware
from starlette_correlate.scope import correlation_scope

pytest.importorskip("sentry_sdk", reason="the [sentry] extra is missing")

import sentry_sdk

from starlette_correlate.integrations.sentry import (
    CorrelationIdIntegration,
    _tag_event,
)
from tests.support.guide import recipe, send
from tests.support.sentry_events import TEST_DSN, CollectingTransport, close_sentry


def test_a_bad_tag_fails_at_configuration() -> None:
    for tag in ["", "x" * 33, "with space", "é"]:
        with pytest.raises(ValueError, match="tag"):
            CorrelationIdIntegration(tag=tag)


def test_without_the_integration_events_are_left_alone() -> None:
    with correlation_scope("abc"):
        assert _tag_event({"message": "m"}, {}) == {"message": "m"}


def test_the_users_guide_recipe_tags_the_request_s_event() -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        sentry_sdk.capture_message("payment declined")
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/pay", endpoint)])
    app.add_middleware(CorrelationMiddleware)
    transport = CollectingTransport()
    try:
        # Sentry's default integrations would patch Starlette for every
        # later test of this run; the recipe's own integration is enough.
        recipe("sentry")["setup_sentry"](
            dsn=TEST_DSN,
            transport=transport,
            default_integrations=False,
            auto_enabling_integrations=False,
        )
        assert send(app, "GET", "/pay", "guide-sentry").status_code == 200
    finally:
        close_sentry()
    (event,) = transport.events()
    assert event["message"] == "payment declined"
    assert event["tags"]["correlation_id"] == "guide-sentry"
