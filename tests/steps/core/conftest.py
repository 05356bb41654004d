"""Steps several core features share (features/core_*.feature), and ``world``.

A step only one feature uses lives in that feature's module,
tests/steps/core/test_core_<feature>.py.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Iterator

import pytest
from pytest_bdd import given, parsers, then, when

from starlette_correlate import is_uuid
from starlette_correlate.logs import CorrelationIdFilter
from tests.support.core_world import (
    UNSEEN,
    ListHandler,
    World,
    raw_request,
    send_request,
)
from tests.support.servers import serve_in_thread

PROBE_LOGGER = "tests.probe"
ACCESS_LOGGER = "starlette_correlate.access"


@pytest.fixture
def world() -> Iterator[World]:
    with contextlib.ExitStack() as stack:
        yield World(stack=stack)


# Given ---------------------------------------------------------------------


@given("the probe app behind the correlation middleware")
def _probe_app(world: World) -> None:
    world.build()


@given("the app is served by uvicorn on 127.0.0.1")
def _served(world: World) -> None:
    app = world.app or world.build()
    world.server_url = world.stack.enter_context(serve_in_thread(app))


@given(parsers.parse('a log handler with the correlation filter captures "{name}"'))
def _capture(world: World, name: str) -> None:
    handler = ListHandler()
    handler.addFilter(CorrelationIdFilter())
    logger = logging.getLogger(name)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    world.handler = handler

    def detach() -> None:
        logger.removeHandler(handler)
        logger.setLevel(old_level)

    world.stack.callback(detach)


@given(
    "a log handler with the correlation filter captures the app's and the access lines"
)
def _capture_both(world: World) -> None:
    handler = ListHandler()
    handler.addFilter(CorrelationIdFilter())
    world.handler = handler
    for name in (PROBE_LOGGER, ACCESS_LOGGER):
        logger = logging.getLogger(name)
        old_level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        world.stack.callback(logger.setLevel, old_level)
        world.stack.callback(logger.removeHandler, handler)


@given("the probe app with the option validator is_uuid")
def _with_validator(world: World) -> None:
    world.options["validator"] = is_uuid
    world.build()


@given(parsers.parse('the probe app with trusted sources "{sources}"'))
def _with_trusted(world: World, sources: str) -> None:
    world.options["trusted_sources"] = [s.strip() for s in sources.split(",")]
    world.build()


# When ----------------------------------------------------------------------


@when(parsers.parse('a client sends GET "{path}" with X-Request-ID "{cid}"'))
@when(parsers.parse('an HTTP client sends GET "{path}" with X-Request-ID "{cid}"'))
def _send_with_id(world: World, path: str, cid: str) -> None:
    send_request(world, path, {"X-Request-ID": cid})


@when(parsers.parse('a client sends GET "{path}" without an ID header'))
@when(parsers.parse('an HTTP client sends GET "{path}" without an ID header'))
def _send_without_id(world: World, path: str) -> None:
    send_request(world, path, {})


@when(
    parsers.parse(
        'the raw header X-Request-ID is sent twice with "{first}" and "{second}"'
    )
)
def _raw_twice(world: World, first: str, second: str) -> None:
    raw_request(
        world, [(b"x-request-id", first.encode()), (b"x-request-id", second.encode())]
    )


# Then ----------------------------------------------------------------------


@then(parsers.parse("the response status is {status:d}"))
def _status(world: World, status: int) -> None:
    assert world.status == status, world.body


@then(parsers.parse('the response header X-Request-ID is "{cid}"'))
def _header_is(world: World, cid: str) -> None:
    assert world.ids == [cid]


@then(parsers.parse('every ID recorded at "{place}" is "{cid}"'))
def _recorded_is(world: World, place: str, cid: str) -> None:
    seen = world.probe.ids_at(place)
    assert seen, f"nothing was recorded at {place}"
    assert set(seen) == {cid}


@then(parsers.parse('every ID recorded at "{place}" is the response\'s ID'))
def _recorded_is_response(world: World, place: str) -> None:
    assert len(world.ids) == 1
    _recorded_is(world, place, world.ids[0])


@then(parsers.parse('the response JSON field "{name}" is "{value}"'))
def _json_field(world: World, name: str, value: str) -> None:
    assert json.loads(world.body)[name] == value


@then(parsers.parse('the response body is "{text}"'))
def _body_is(world: World, text: str) -> None:
    assert world.body.decode() == text


@then(parsers.parse('the captured record "{message}" has request_id "{cid}"'))
def _captured(world: World, message: str, cid: str) -> None:
    assert world.handler is not None
    handler = world.handler
    # A server logs the traceback after the client already has the 500.
    deadline = time.monotonic() + 5
    while True:
        records = [r for r in handler.records if r.getMessage().startswith(message)]
        if records or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert records, [r.getMessage() for r in handler.records]
    assert [getattr(r, "request_id", None) for r in records] == [cid] * len(records)


@then(parsers.parse('the request\'s ID source is "{source}"'))
def _source_is(world: World, source: str) -> None:
    assert json.loads(world.body)["source"] == source


@then(parsers.parse('the refusal is "{reason}" of length {length:d}'))
def _refusal_is(world: World, reason: str, length: int) -> None:
    assert json.loads(world.body)["refused"] == [reason, length]


@then("the app was not called")
def _not_called(world: World) -> None:
    assert world.probe.seen == []


@then("the correlation ID is unset in the client's context")
def _unset_in_client(world: World) -> None:
    assert world.client_context_id != UNSEEN, "the step did not observe the context"
    assert world.client_context_id is None


@then("the request left nothing in the client's context")
def _nothing_left(world: World) -> None:
    # The ASGI middleware keeps its tokens in its own frame, not in the
    # store: what must be checked is the variables, the ID and the fields
    # the app bound (the probe's endpoints bind one on each way out).
    assert world.client_context_id != UNSEEN, "the step did not observe the context"
    assert world.client_context_id is None
    assert world.client_context_fields is None


@then("the hostile value appears nowhere in the response")
def _not_echoed(world: World) -> None:
    raw = world.raw_value
    if raw.strip():
        assert raw not in world.body
        assert all(raw not in value.encode("latin-1") for _, value in world.headers)


@then("the response carries a fresh generated ID exactly once")
def _fresh_id(world: World) -> None:
    assert len(world.ids) == 1
    assert uuid.UUID(world.ids[0]).version == 7
    assert world.ids[0].encode() != world.raw_value
