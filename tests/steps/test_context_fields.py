"""Steps for features/context_fields.feature: bound fields and their isolation."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from starlette_correlate import CorrelationIdFilter, CorrelationMiddleware
from starlette_correlate.fields import (
    bind_fields,
    bound_fields,
    fields_var,
    get_fields,
)
from starlette_correlate.logs import KeyValueFormatter

scenarios("context_fields.feature")

handler_logger = logging.getLogger("tests.fields")


def render(fields: Mapping[str, str]) -> str:
    return " ".join(f"{key}={value}" for key, value in sorted(fields.items()))


@dataclass
class World:
    app: Starlette | None = None
    kept: Mapping[str, str] | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)
    status: int | None = None
    lines: list[str] = field(default_factory=list)


class LineCollector(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def world() -> Iterator[World]:
    token = fields_var.set(None)
    world = World()
    collector = LineCollector(world.lines)
    collector.addFilter(CorrelationIdFilter())
    collector.setFormatter(KeyValueFormatter(timestamp=False))
    handler_logger.addHandler(collector)
    handler_logger.setLevel(logging.INFO)
    try:
        yield world
    finally:
        handler_logger.removeHandler(collector)
        fields_var.reset(token)


def build_fields_app(world: World) -> Starlette:
    async def bind(request: Request) -> JSONResponse:
        marker = request.path_params["marker"]
        bind_fields(user_id=marker)
        handler_logger.info("bound the user")
        views = []
        for _ in range(3):
            await asyncio.sleep(random.random() / 1000)
            views.append(render(get_fields()))
        world.seen.append({"marker": marker, "views": views})
        return JSONResponse({"views": views})

    async def bind_then_fail(request: Request) -> JSONResponse:
        bind_fields(user_id=request.path_params["marker"])
        raise RuntimeError("the handler failed after binding")

    app = Starlette(
        routes=[
            Route("/bind/{marker}", bind),
            Route("/bind-then-fail/{marker}", bind_then_fail),
        ]
    )
    app.add_middleware(CorrelationMiddleware)
    return app


def client_for(app: Starlette) -> httpx.AsyncClient:
    # ASGITransport awaits the app in this very task: a field that is not
    # reset at the end of the request would still be bound here afterwards.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@given("no fields are bound")
def no_fields(world: World) -> None:
    assert fields_var.get() is None
    assert dict(get_fields()) == {}


@given("the fields app")
def fields_app(world: World) -> None:
    world.app = build_fields_app(world)


@given(parsers.parse('the code binds {key} "{value}"'))
@when(parsers.parse('the code binds {key} "{value}"'))
def code_binds(world: World, key: str, value: str) -> None:
    bind_fields(**{key: value})


@when("the code keeps a view of the fields")
def keep_view(world: World) -> None:
    world.kept = get_fields()


@when(
    parsers.parse(
        'a block binds {key} "{value}" and {other} "{other_value}" and then fails'
    )
)
def block_fails(
    world: World, key: str, value: str, other: str, other_value: str
) -> None:
    def block() -> None:
        with bound_fields(**{key: value, other: other_value}):
            assert get_fields()[key] == value
            assert get_fields()[other] == other_value
            raise LookupError("the block failed")

    with pytest.raises(LookupError):
        block()


@when(parsers.parse('a request to "{path}" runs in this very task'))
def request_in_task(world: World, path: str) -> None:
    assert world.app is not None
    app = world.app

    async def go() -> None:
        async with client_for(app) as client:
            response = await client.get(path)
        world.status = response.status_code
        # Still inside the task that ran the app: a leak would show here.
        world.seen.append({"after": render(get_fields())})

    asyncio.run(go())


@when(parsers.parse('{count:d} requests to "/bind/<marker>" run concurrently'))
def concurrent_requests(world: World, count: int) -> None:
    assert world.app is not None
    app = world.app

    async def go() -> None:
        async with client_for(app) as client:
            responses = await asyncio.gather(
                *(client.get(f"/bind/m-{index}") for index in range(count))
            )
        assert all(r.status_code == 200 for r in responses)
        world.seen.append({"after": render(get_fields())})

    asyncio.run(go())
    world.status = count


@then(parsers.parse('the fields are "{expected}"'))
def fields_are(world: World, expected: str) -> None:
    assert render(get_fields()) == expected


@then(parsers.parse('the kept view is "{expected}"'))
def kept_view_is(world: World, expected: str) -> None:
    assert world.kept is not None
    assert render(world.kept) == expected


@then("changing the view of the fields fails with a TypeError")
def view_read_only(world: World) -> None:
    view: Any = get_fields()
    with pytest.raises(TypeError):
        view["user_id"] = "someone else"
    assert get_fields()["user_id"] == "u-1"


@then(parsers.parse('the handler saw "{expected}"'))
def handler_saw(world: World, expected: str) -> None:
    views = [row for row in world.seen if "views" in row]
    assert views
    assert views[0]["views"] == [expected] * 3


@then(
    parsers.parse('the handler\'s log line, formatted as key=value, has "{expected}"')
)
def log_line_has(world: World, expected: str) -> None:
    [line] = world.lines
    assert 'message="bound the user"' in line
    assert expected in line.split()
    assert "request_id=-" not in line


@then("no fields are bound afterwards")
def none_after(world: World) -> None:
    seen_after(world, "")


@then(parsers.parse('the fields seen after the request are "{expected}"'))
def seen_after(world: World, expected: str) -> None:
    after = [row["after"] for row in world.seen if "after" in row]
    assert after == [expected]


@then(parsers.parse("the response status is {status:d}"))
def response_status(world: World, status: int) -> None:
    assert world.status == status


@then("every request saw only its own user_id")
def own_user_id(world: World) -> None:
    rows = [row for row in world.seen if "views" in row]
    assert len(rows) == world.status
    for row in rows:
        assert row["views"] == [f"user_id={row['marker']}"] * 3
