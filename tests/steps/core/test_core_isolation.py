"""Scenarios of features/core_isolation.feature and the steps only they use.

Steps other core features share live in conftest.py.
"""

from __future__ import annotations

import asyncio

import httpx
from pytest_bdd import parsers, scenarios, then, when

from tests.support.core_world import World

scenarios("core_isolation.feature")


# When ----------------------------------------------------------------------


@when(
    parsers.parse(
        "{count:d} requests run concurrently in process, each with its own ID"
    )
)
def _concurrent_in_process(world: World, count: int) -> None:
    app = world.app or world.build()

    async def one(client: httpx.AsyncClient, index: int) -> None:
        marker = f"iso-{index}"
        response = await client.get(
            "/async",
            params={"marker": marker, "hops": "5"},
            headers={"X-Request-ID": marker},
        )
        assert response.headers["x-request-id"] == marker
        assert response.json()["id"] == marker

    async def exchange() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t"
        ) as client:
            await asyncio.gather(*(one(client, index) for index in range(count)))

    asyncio.run(exchange())
    world.options["expected_requests"] = count


@when(
    parsers.parse("{count:d} requests run concurrently over HTTP, each with its own ID")
)
def _concurrent_http(world: World, count: int) -> None:
    assert world.server_url is not None

    async def one(client: httpx.AsyncClient, index: int) -> None:
        marker = f"iso-http-{index}"
        response = await client.get(
            "/async",
            params={"marker": marker, "hops": "5"},
            headers={"X-Request-ID": marker},
        )
        assert response.headers["x-request-id"] == marker

    async def exchange() -> None:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(
            base_url=world.server_url or "", limits=limits
        ) as client:
            await asyncio.gather(*(one(client, index) for index in range(count)))

    asyncio.run(exchange())
    world.options["expected_requests"] = count


# Then ----------------------------------------------------------------------


@then("every request saw only its own ID at every point")
def _isolated(world: World) -> None:
    rows = [
        (marker, cid) for place, marker, cid in world.probe.seen if place == "async"
    ]
    assert len(rows) == world.options["expected_requests"] * 6
    assert all(marker == cid for marker, cid in rows)
