"""Scenarios of features/core_clearing.feature and the steps only they use.

Steps other core features share live in conftest.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from pytest_bdd import parsers, scenarios, then, when

from tests.support.asgi import call_app, http_scope
from tests.support.core_world import World, observe_client_context

scenarios("core_clearing.feature")


# When ----------------------------------------------------------------------


@when(parsers.parse('the client disconnects after the first chunk of "{path}"'))
def _disconnect(world: World, path: str) -> None:
    app = world.app or world.build()

    async def exchange() -> None:
        try:
            await call_app(app, http_scope(path), disconnect_after_first_body=True)
        except Exception as exc:
            world.error = exc
        observe_client_context(world)

    asyncio.run(exchange())


@when(parsers.parse('a request to "{path}" is cancelled while its handler waits'))
def _cancel(world: World, path: str) -> None:
    app = world.app or world.build()

    async def run_and_observe() -> None:
        try:
            scope = http_scope(path, headers=[(b"x-request-id", b"cancel-me")])
            await call_app(app, scope)
        finally:
            observe_client_context(world)

    async def exchange() -> None:
        task = asyncio.create_task(run_and_observe())
        for _ in range(1000):
            if world.probe.ids_at("slow"):
                break
            await asyncio.sleep(0.001)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(exchange())


# Then ----------------------------------------------------------------------


@then(parsers.parse('every ID recorded at "{place}" is the same generated ID'))
def _recorded_same(world: World, place: str) -> None:
    seen = world.probe.ids_at(place)
    assert seen
    assert len(set(seen)) == 1
    only = seen[0]
    assert only is not None
    assert uuid.UUID(only).version == 7
