"""Steps for features/integrations_sentry.feature: events tagged with the ID."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from starlette_correlate import CorrelationMiddleware
from tests.support.asgi import run

pytest.importorskip("sentry_sdk", reason="the [sentry] extra is missing")

import sentry_sdk
from sentry_sdk.integrations.asgi import SentryAsgiMiddleware

from starlette_correlate.integrations.sentry import (
    CorrelationIdIntegration,
)
from tests.support.sentry_events import TEST_DSN, CollectingTransport, close_sentry
from tests.support.servers import REPO_ROOT

scenarios("integrations_sentry.feature")


@dataclass
class World:
    transport: CollectingTransport = field(default_factory=CollectingTransport)
    status: int | None = None
    process_events: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    yield world
    # Later tests capture nothing, and the event processor (registered once
    # per process) finds no integration.
    close_sentry()


def build_app() -> Starlette:
    async def message(request: Request) -> PlainTextResponse:
        tagged = request.query_params.get("tag")
        if tagged is not None:
            with sentry_sdk.new_scope() as scope:
                scope.set_tag("correlation_id", tagged)
                sentry_sdk.capture_message(f"message {tagged}")
        else:
            marker = request.query_params.get("marker", "")
            await asyncio.sleep(0)
            sentry_sdk.capture_message(f"message {marker}")
        return PlainTextResponse("captured")

    async def boom(request: Request) -> PlainTextResponse:
        raise RuntimeError("the endpoint failed")

    app = Starlette(routes=[Route("/message", message), Route("/boom", boom)])
    app.add_middleware(CorrelationMiddleware)
    return app


def get(app: ASGIApp, path: str, request_id: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as client:
            return await client.get(path, headers={"X-Request-ID": request_id})

    response: httpx.Response = run(go)
    return response


@given("Sentry initialised with the correlation integration and a test transport")
def sentry_initialised(world: World) -> None:
    sentry_sdk.init(
        dsn=TEST_DSN,
        transport=world.transport,
        integrations=[CorrelationIdIntegration()],
        default_integrations=False,
        auto_enabling_integrations=False,
    )


@when(parsers.parse('a request with X-Request-ID "{value}" captures a message'))
def request_captures(world: World, value: str) -> None:
    world.status = get(build_app(), "/message", value).status_code


@when(
    parsers.parse(
        'a request with X-Request-ID "{value}" captures a message tagged "{tag}"'
    )
)
def request_captures_tagged(world: World, value: str, tag: str) -> None:
    world.status = get(build_app(), f"/message?tag={tag}", value).status_code


@when(
    parsers.parse(
        'a request with X-Request-ID "{value}" fails under Sentry\'s ASGI middleware'
    )
)
def request_fails(world: World, value: str) -> None:
    # What Sentry's Starlette integration wraps every app in, applied by hand
    # so that Starlette itself is not patched for the rest of the test run.
    app = SentryAsgiMiddleware(build_app(), mechanism_type="starlette")
    world.status = get(app, "/boom", value).status_code


@when(
    parsers.parse(
        "{count:d} requests with their own IDs capture a message concurrently"
    )
)
def many_requests(world: World, count: int) -> None:
    app = build_app()

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as client:
            await asyncio.gather(
                *(
                    client.get(
                        f"/message?marker=m-{index}",
                        headers={"X-Request-ID": f"m-{index}"},
                    )
                    for index in range(count)
                )
            )

    run(go)


@when("a message is captured outside any request")
def capture_outside(world: World) -> None:
    sentry_sdk.capture_message("outside")


@then(parsers.parse("the response status is {status:d}"))
def response_status(world: World, status: int) -> None:
    assert world.status == status


def only_event(world: World) -> dict[str, Any]:
    events = world.transport.events()
    assert len(events) == 1, events
    return events[0]


@then(parsers.parse('the captured event has the tag "{tag}" "{value}"'))
def event_has_tag(world: World, tag: str, value: str) -> None:
    assert only_event(world).get("tags", {}).get(tag) == value


@then(parsers.parse('the captured event has no tag "{tag}"'))
def event_has_no_tag(world: World, tag: str) -> None:
    assert tag not in only_event(world).get("tags", {})


@then("every captured event carries the ID of its own request")
def events_carry_own_ids(world: World) -> None:
    events = world.transport.events()
    assert len(events) == 50
    for event in events:
        marker = event["message"].removeprefix("message ")
        assert event["tags"]["correlation_id"] == marker


@when("a fresh process serves requests under Sentry's default integrations")
def fresh_process(world: World) -> None:
    # Sentry's Starlette integration patches Starlette for the whole process.
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.sentry_starlette_check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    world.process_events = [json.loads(line) for line in done.stdout.splitlines()]


@then("the Starlette integration of Sentry was enabled")
def starlette_enabled(world: World) -> None:
    assert world.process_events
    for event in world.process_events:
        assert {"starlette", "starlette_correlate"} <= set(event["integrations"])


@then(parsers.parse('the handler\'s message event carries the tag "{tag}" "{value}"'))
def message_event_tag(world: World, tag: str, value: str) -> None:
    (event,) = [e for e in world.process_events if e["message"] == "from the handler"]
    assert event["tags"][tag] == value


@then(
    parsers.parse('the unhandled exception\'s event carries the tag "{tag}" "{value}"')
)
def exception_event_tag(world: World, tag: str, value: str) -> None:
    (event,) = [
        e for e in world.process_events if e["message"].startswith("the handler failed")
    ]
    assert event["tags"][tag] == value
