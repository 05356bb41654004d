"""Scenarios of features/core_visibility.feature and the steps only they use.

Steps other core features share live in conftest.py.
"""

from __future__ import annotations

import uuid

from pytest_bdd import parsers, scenarios, then

from tests.support.core_world import World

scenarios("core_visibility.feature")


# Then ----------------------------------------------------------------------


@then("the response header X-Request-ID is a UUID of version 7")
def _header_uuid7(world: World) -> None:
    assert len(world.ids) == 1
    assert uuid.UUID(world.ids[0]).version == 7


@then(parsers.re(r'the response body mentions "(?P<text>[^"]+)" (?P<count>\d+) times$'))
def _mentions_exactly(world: World, text: str, count: str) -> None:
    assert world.body.decode().count(text) == int(count)
