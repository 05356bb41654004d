"""The app the server tests serve: a normal, a failing, a streaming endpoint.

``app`` relies on the server's own lines (uvicorn, gunicorn, hypercorn);
``app_with_library_lines`` is the guide's ``granian-app`` recipe, as
printed, with these routes added: the library's access and error lines on,
for servers whose own lines cannot carry the ID (granian, daphne).
``/together`` holds each request until ``n`` of its group have arrived, so
concurrent requests truly overlap, then answers, fails with its own
exception, or fails with one exception object shared by the group.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from starlette_correlate import CorrelationMiddleware, get_correlation_id
from tests.support.guide import recipe

logger = logging.getLogger("tests.server_app")

_groups: dict[str, tuple[asyncio.Event, list[str]]] = {}
_shared: dict[str, Exception] = {}


async def hello(request: Request) -> JSONResponse:
    logger.info("hello")
    return JSONResponse({"request_id": get_correlation_id()})


async def fail(request: Request) -> JSONResponse:
    raise RuntimeError(f"failed on purpose in {get_correlation_id()}")


async def stream(request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for index in range(3):
            await asyncio.sleep(0)
            yield f"chunk {index}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


async def upload(request: Request) -> PlainTextResponse:
    body = await request.body()
    return PlainTextResponse(f"{len(body)} bytes")


async def together(request: Request) -> JSONResponse:
    group = request.query_params["group"]
    expected = int(request.query_params["n"])
    event, arrived = _groups.setdefault(group, (asyncio.Event(), []))
    arrived.append(str(get_correlation_id()))
    if len(arrived) >= expected:
        event.set()
    # Bounded: a lost request must not hang the server's test.
    await asyncio.wait_for(event.wait(), timeout=10)
    outcome = request.query_params.get("outcome", "ok")
    if outcome == "shared":
        raise _shared.setdefault(group, RuntimeError(f"shared failure of {group}"))
    if outcome == "own":
        raise RuntimeError(f"own failure in {get_correlation_id()}")
    return JSONResponse({"request_id": get_correlation_id()})


def routes() -> list[Route]:
    """Return the test routes, fresh."""
    return [
        Route("/hello", hello),
        Route("/fail", fail),
        Route("/stream", stream),
        Route("/upload", upload, methods=["POST"]),
        Route("/together", together),
    ]


def build(**options: Any) -> Starlette:
    """Return the test app behind ``CorrelationMiddleware(**options)``."""
    built = Starlette(routes=routes())
    built.add_middleware(CorrelationMiddleware, **options)
    return built


def from_recipe(name: str) -> Starlette:
    """Run the guide's recipe ``name`` as printed; give its ``app`` our routes."""
    built = recipe(name)["app"]
    assert isinstance(built, Starlette)
    # Starlette builds its middleware stack on the first call: routes added
    # now sit behind the middleware the recipe added.
    built.router.routes.extend(routes())
    return built


app = build()
app_with_library_lines = from_recipe("granian-app")


class SentinelError(Exception):
    """Raised outside the middleware by ``/sentinel`` (see ``with_sentinel``)."""


def with_sentinel(inner: ASGIApp) -> ASGIApp:
    """Wrap ``inner`` so that ``/sentinel`` fails outside the correlation middleware.

    daphne logs failures from a timer, up to a second later. The library
    logged this one nowhere, so daphne's line for it shows that the timer
    has run, and has reported every failure that came before.
    """

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/sentinel":
            raise SentinelError("the sentinel failed")
        await inner(scope, receive, send)

    return wrapper
