"""A probe app: endpoints that record the correlation ID wherever code runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from starlette_correlate import (
    CorrelationMiddleware,
    bind_fields,
    get_correlation_id,
    get_inherited_id,
    get_parent_id,
)

probe_logger = logging.getLogger("tests.probe")


@dataclass
class Probe:
    """What the endpoints saw: (place, request marker, correlation ID) rows."""

    seen: list[tuple[str, str, str | None]] = field(default_factory=list)
    lifespan_events: list[str] = field(default_factory=list)
    child_done: asyncio.Event | None = None

    def record(self, place: str, marker: str = "") -> None:
        """Remember the current ID at ``place``."""
        self.seen.append((place, marker, get_correlation_id()))

    def ids_at(self, place: str) -> list[str | None]:
        """Return every ID recorded at ``place``."""
        return [cid for where, _, cid in self.seen if where == place]


def build_app(
    probe: Probe, middleware_options: Mapping[str, Any] | None = None
) -> Starlette:
    """Return the probe app behind ``CorrelationMiddleware``."""

    async def async_endpoint(request: Request) -> JSONResponse:
        marker = request.query_params.get("marker", "")
        hops = int(request.query_params.get("hops", "1"))
        for _ in range(hops):
            probe.record("async", marker)
            await asyncio.sleep(random.random() / 500)
        probe.record("async", marker)
        return JSONResponse(
            {
                "marker": marker,
                "id": get_correlation_id(),
                "state": request.state.correlation_id,
                "source": getattr(request.state, "correlation_id_source", None),
                "refused": getattr(request.state, "correlation_id_refused", None),
                "inherited": getattr(request.state, "inherited_id", None),
                "parent": getattr(request.state, "parent_id", None),
                "get_inherited": get_inherited_id(),
                "get_parent": get_parent_id(),
            }
        )

    def sync_endpoint(request: Request) -> PlainTextResponse:
        probe.record("sync")
        return PlainTextResponse(get_correlation_id() or "")

    async def stream_endpoint(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for index in range(3):
                await asyncio.sleep(0)
                probe.record("stream")
                yield f"chunk {index} {get_correlation_id()}\n".encode()

        return StreamingResponse(body(), media_type="text/plain")

    async def endless_stream(request: Request) -> StreamingResponse:
        bind_fields(way_out="disconnect")

        async def body() -> AsyncIterator[bytes]:
            while True:
                probe.record("endless")
                yield b"tick\n"
                await asyncio.sleep(0.001)

        return StreamingResponse(body(), media_type="text/plain")

    async def background_endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(
            "queued", background=BackgroundTask(probe.record, "background")
        )

    async def child_task_endpoint(request: Request) -> PlainTextResponse:
        async def child() -> None:
            await asyncio.sleep(0)
            probe.record("child")

        await asyncio.create_task(child())
        return PlainTextResponse("done")

    async def log_endpoint(request: Request) -> PlainTextResponse:
        probe_logger.info("inside the handler")
        return PlainTextResponse("logged")

    # The endpoints that leave by an error, a cancellation or a disconnect
    # bind a field, so the scenarios see that it is undone on that way out.
    async def boom(request: Request) -> PlainTextResponse:
        probe.record("boom")
        bind_fields(way_out="error")
        raise RuntimeError("the endpoint failed")

    async def teapot(request: Request) -> PlainTextResponse:
        probe.record("teapot")
        bind_fields(way_out="http-exception")
        raise HTTPException(status_code=418, detail="short and stout")

    async def slow(request: Request) -> PlainTextResponse:
        probe.record("slow")
        bind_fields(way_out="cancelled")
        await asyncio.sleep(30)
        return PlainTextResponse("too late")

    async def cookies(request: Request) -> PlainTextResponse:
        response = PlainTextResponse("two cookies")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    async def websocket_endpoint(websocket: WebSocket) -> None:
        probe.record("websocket")
        await websocket.accept()
        message = await websocket.receive_text()
        probe.record("websocket")
        await websocket.send_text(f"{message} {get_correlation_id()}")
        await websocket.close()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        probe.lifespan_events.append(f"startup {get_correlation_id()}")
        yield {"greeting": "hello from lifespan"}
        probe.lifespan_events.append(f"shutdown {get_correlation_id()}")

    async def lifespan_state(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.state.greeting)

    app = Starlette(
        routes=[
            Route("/async", async_endpoint),
            Route("/sync", sync_endpoint),
            Route("/stream", stream_endpoint),
            Route("/endless", endless_stream),
            Route("/background", background_endpoint),
            Route("/child-task", child_task_endpoint),
            Route("/log", log_endpoint),
            Route("/boom", boom),
            Route("/teapot", teapot),
            Route("/slow", slow),
            Route("/cookies", cookies),
            Route("/lifespan-state", lifespan_state),
            WebSocketRoute("/ws", websocket_endpoint),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(CorrelationMiddleware, **dict(middleware_options or {}))
    return app
