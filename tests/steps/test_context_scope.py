"""Steps for features/context_scope.feature: scopes and the executor helper."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from starlette_correlate import get_correlation_id
from starlette_correlate.fields import bind_fields, get_fields
from starlette_correlate.scope import (
    correlation_scope,
    run_in_executor,
    submit_with_context,
)

scenarios("context_scope.feature")


def render(fields: Mapping[str, str]) -> str:
    return " ".join(f"{key}={value}" for key, value in sorted(fields.items()))


def snapshot() -> tuple[str | None, str]:
    return get_correlation_id(), render(get_fields())


@dataclass
class World:
    seen: list[tuple[str | None, str]] = field(default_factory=list)
    by_task: dict[str, list[str | None]] = field(default_factory=dict)
    through: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    failure: BaseException | None = None
    after: tuple[str | None, str] | None = None


@pytest.fixture
def world() -> Iterator[World]:
    yield World()
    assert snapshot() == (None, "")


@given("no correlation ID is set")
def nothing_set(world: World) -> None:
    assert snapshot() == (None, "")


@when(parsers.parse('a job runs in a scope with ID "{cid}" and field {key} "{value}"'))
def scope_with_id(world: World, cid: str, key: str, value: str) -> None:
    with correlation_scope(cid, **{key: value}) as entered:
        assert entered == cid
        world.seen.append(snapshot())
    world.after = snapshot()


@when("a job runs in a scope without an ID")
def scope_without_id(world: World) -> None:
    with correlation_scope():
        world.seen.append(snapshot())
    world.after = snapshot()


@when(parsers.parse('scopes with IDs "{outer}" and "{inner}" are nested'))
def nested(world: World, outer: str, inner: str) -> None:
    with correlation_scope(outer, step="outer"):
        world.seen.append(snapshot())
        with correlation_scope(inner, stage="inner"):
            world.seen.append(snapshot())
        world.seen.append(snapshot())
    world.after = snapshot()


@when(parsers.parse('a job binds a field and fails inside a scope with ID "{cid}"'))
def failing_job(world: World, cid: str) -> None:
    def job() -> None:
        with correlation_scope(cid):
            bind_fields(more="bound inside")
            raise ConnectionError("the job failed")

    try:
        job()
    except ConnectionError as exc:
        world.failure = exc
    world.after = snapshot()


@when(parsers.parse("{count:d} tasks each run an async scope with their own ID"))
def async_tasks(world: World, count: int) -> None:
    async def task(name: str) -> None:
        async with correlation_scope(name) as entered:
            assert entered == name
            for _ in range(3):
                await asyncio.sleep(0)
                world.by_task.setdefault(name, []).append(get_correlation_id())

    async def main() -> None:
        # One task for all: the scopes run in turn in the same context, so a
        # scope that failed to restore would show in the next.
        await task("first")
        world.seen.append(snapshot())
        await asyncio.gather(*(task(f"task-{index}") for index in range(count)))
        world.seen.append(snapshot())

    asyncio.run(main())
    world.after = world.seen[-1]


@when(parsers.parse('a function runs in a thread pool from a scope with ID "{cid}"'))
def thread_pool(world: World, cid: str) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        with correlation_scope(cid, user_id="u-3"):
            world.through["submit_with_context"] = submit_with_context(
                pool, snapshot
            ).result()
            world.through["plain submit"] = pool.submit(snapshot).result()

            async def in_loop() -> tuple[str | None, str]:
                return await run_in_executor(pool, snapshot)

            world.through["run_in_executor"] = asyncio.run(in_loop())
        world.after = snapshot()


@then(parsers.parse('inside the scope the ID was "{cid}" and the fields "{fields}"'))
def inside_was(world: World, cid: str, fields: str) -> None:
    assert world.seen == [(cid, fields)]


@then("inside the scope the ID was a UUIDv7")
def inside_uuid7(world: World) -> None:
    [(cid, _)] = world.seen
    assert cid is not None
    assert uuid.UUID(cid).version == 7


@then("afterwards no ID and no fields are set")
def afterwards_nothing(world: World) -> None:
    assert world.after == (None, "")


@then(parsers.parse('the IDs seen were "{ids}"'))
def ids_seen(world: World, ids: str) -> None:
    assert " ".join(str(cid) for cid, _ in world.seen) == ids


@then(parsers.parse('the inner scope saw fields "{fields}"'))
def inner_fields(world: World, fields: str) -> None:
    assert world.seen[1][1] == fields


@then("the failure reached the caller")
def failure_reached(world: World) -> None:
    assert isinstance(world.failure, ConnectionError)


@then("every task saw only its own ID")
def own_ids(world: World) -> None:
    assert len(world.by_task) == 51
    for name, ids in world.by_task.items():
        assert ids == [name] * 3
    assert world.seen == [(None, ""), (None, "")]


@then(parsers.parse('a scope with ID "{cid}" fails with a ValueError'))
def unsafe_scope(world: World, cid: str) -> None:
    raw = cid.replace("\\r", "\r").replace("\\n", "\n")
    with pytest.raises(ValueError, match="not a safe ID"), correlation_scope(raw):
        pass
    assert snapshot() == (None, "")


@then(parsers.parse('through {way} it saw "{cid}" and field "{fields}"'))
def through_saw(world: World, way: str, cid: str, fields: str) -> None:
    assert world.through[way] == (cid, fields)


@then("through plain submit it saw no ID")
def plain_submit(world: World) -> None:
    assert world.through["plain submit"] == (None, "")
    assert world.after == (None, "")
