"""Scenarios of features/core_two_ids.feature and the steps only they use."""

from __future__ import annotations

import json
import logging
import uuid

from pytest_bdd import given, parsers, scenarios, then, when

from tests.support.core_world import World, send_request

scenarios("core_two_ids.feature")

ACCESS_LOGGER = "starlette_correlate.access"
INHERITED = "x-correlation-id"
OURS = "x-request-id"


def _values(world: World, name: str) -> list[str]:
    return [value for key, value in world.headers if key == name]


def _hop_id(world: World) -> str:
    (hop,) = _values(world, OURS)
    return hop


def _records(world: World, message: str) -> list[logging.LogRecord]:
    assert world.handler is not None
    return [r for r in world.handler.records if r.getMessage() == message]


# Given ---------------------------------------------------------------------


@given(parsers.parse('the probe app with the inherited header "{name}"'))
def _with_inherited(world: World, name: str) -> None:
    world.options["inherited_header"] = name
    world.build()


@given(
    parsers.parse(
        'the probe app with the inherited header "{name}" and on_invalid "{value}"'
    )
)
def _with_inherited_strict(world: World, name: str, value: str) -> None:
    world.options.update(inherited_header=name, on_invalid=value)
    world.build()


@given(
    parsers.parse(
        'the probe app with the inherited header "{name}" and the access log on'
    )
)
def _with_inherited_access(world: World, name: str) -> None:
    world.options.update(inherited_header=name, access_log=True)
    world.build()


# When ----------------------------------------------------------------------


@when(
    parsers.parse(
        'a client sends GET "{path}" with X-Request-ID "{cid}" '
        'and X-Correlation-ID "{inherited}"'
    )
)
def _send_both(world: World, path: str, cid: str, inherited: str) -> None:
    world.raw_value = inherited.encode()
    send_request(world, path, {"X-Request-ID": cid, "X-Correlation-ID": inherited})


# Then ----------------------------------------------------------------------


@then(parsers.parse('this hop\'s request ID is new, not "{cid}"'))
def _hop_is_new(world: World, cid: str) -> None:
    body = json.loads(world.body)
    assert body["id"] == body["state"] == _hop_id(world)
    assert body["id"] != cid
    assert uuid.UUID(body["id"]).version == 7


@then(parsers.parse('the parent ID is "{cid}"'))
def _parent_is(world: World, cid: str) -> None:
    body = json.loads(world.body)
    assert body["parent"] == body["get_parent"] == cid


@then("there is no parent ID")
def _no_parent(world: World) -> None:
    body = json.loads(world.body)
    assert body["parent"] is None
    assert body["get_parent"] is None


@then(parsers.parse('the inherited ID is "{inherited}"'))
def _inherited_is(world: World, inherited: str) -> None:
    body = json.loads(world.body)
    assert body["inherited"] == body["get_inherited"] == inherited


@then("the inherited ID is this hop's request ID")
def _inherited_is_hop(world: World) -> None:
    body = json.loads(world.body)
    assert body["inherited"] == body["get_inherited"] == body["id"] == _hop_id(world)


@then(
    parsers.parse(
        'the response carries X-Correlation-ID "{inherited}" and this hop\'s '
        "request ID, once each"
    )
)
def _response_carries(world: World, inherited: str) -> None:
    assert _values(world, INHERITED) == [inherited]
    hop = _hop_id(world)
    assert hop != inherited
    assert uuid.UUID(hop).version == 7


@then("the response carries X-Correlation-ID and X-Request-ID equal, once each")
def _response_equal(world: World) -> None:
    assert _values(world, INHERITED) == [_hop_id(world)]
    assert uuid.UUID(_hop_id(world)).version == 7


@then("no captured record carries the hostile value")
def _not_logged(world: World) -> None:
    assert world.handler is not None
    assert world.handler.records
    hostile = world.raw_value.decode()
    for record in world.handler.records:
        assert all(hostile not in str(value) for value in vars(record).values())


@then(
    parsers.parse(
        'the captured record "{message}" has correlation_id equal to its request_id'
    )
)
def _record_started_here(world: World, message: str) -> None:
    (record,) = _records(world, message)
    assert record.correlation_id == record.request_id == _hop_id(world)  # type: ignore[attr-defined]


@then(
    parsers.parse(
        'the captured record "{message}" has correlation_id "{inherited}" '
        'and request_id_parent "{parent}"'
    )
)
def _record_has(world: World, message: str, inherited: str, parent: str) -> None:
    (record,) = _records(world, message)
    assert record.correlation_id == inherited  # type: ignore[attr-defined]
    assert record.request_id_parent == parent  # type: ignore[attr-defined]


@then(
    parsers.parse(
        'the access line has correlation_id "{inherited}" '
        'and request_id_parent "{parent}"'
    )
)
def _access_has(world: World, inherited: str, parent: str) -> None:
    assert world.handler is not None
    (line,) = [r for r in world.handler.records if r.name == ACCESS_LOGGER]
    assert line.correlation_id == inherited  # type: ignore[attr-defined]
    assert line.request_id_parent == parent  # type: ignore[attr-defined]


@then("both lines carry this hop's request ID")
def _both_hop(world: World) -> None:
    assert world.handler is not None
    assert len(world.handler.records) == 2
    hop = _hop_id(world)
    assert [r.request_id for r in world.handler.records] == [hop, hop]  # type: ignore[attr-defined]


@then("the response has no X-Correlation-ID header")
def _no_inherited_header(world: World) -> None:
    assert _values(world, INHERITED) == []


@then(
    parsers.parse(
        'the captured record "{message}" has no correlation_id or request_id_parent'
    )
)
def _record_plain(world: World, message: str) -> None:
    (record,) = _records(world, message)
    assert not hasattr(record, "correlation_id")
    assert not hasattr(record, "request_id_parent")
