"""Scenarios of features/core_provenance.feature and the steps only they use."""

from __future__ import annotations

import json

from pytest_bdd import given, parsers, scenarios, then, when

from tests.support.core_world import World, send_request

scenarios("core_provenance.feature")

PROBE_LOGGER = "tests.probe"
ACCESS_LOGGER = "starlette_correlate.access"
_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


# Given ---------------------------------------------------------------------


@given("the probe app with the option adopt_trace_id")
def _with_adoption(world: World) -> None:
    world.options["adopt_trace_id"] = True
    world.build()


@given("the probe app with the access log on")
def _with_access_log(world: World) -> None:
    world.options["access_log"] = True
    world.build()


# When ----------------------------------------------------------------------


@when(parsers.parse("a client sends an X-Request-ID of {count:d} letters"))
def _send_long(world: World, count: int) -> None:
    world.raw_value = b"a" * count
    send_request(world, "/async", {"X-Request-ID": "a" * count})


@when(parsers.parse('a client sends GET "{path}" with a traceparent and no ID'))
def _send_traceparent(world: World, path: str) -> None:
    send_request(world, path, {"traceparent": _TRACEPARENT})


# Then ----------------------------------------------------------------------


@then("nothing was refused")
def _nothing_refused(world: World) -> None:
    assert json.loads(world.body)["refused"] is None


@then(parsers.parse('the captured record "{message}" has request_id_source "{source}"'))
def _record_source(world: World, message: str, source: str) -> None:
    assert world.handler is not None
    records = [r for r in world.handler.records if r.getMessage() == message]
    assert len(records) == 1
    assert getattr(records[0], "request_id_source", None) == source


@then(parsers.parse('the access line has source "{source}"'))
def _access_source(world: World, source: str) -> None:
    assert world.handler is not None
    lines = [r for r in world.handler.records if r.name == ACCESS_LOGGER]
    assert len(lines) == 1
    assert getattr(lines[0], "request_id_source", None) == source
