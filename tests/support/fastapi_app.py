"""A FastAPI app with the two-line set-up, for features/fastapi_app.feature.

Each route reports what ``get_correlation_id()`` returned where FastAPI ran
the user's code: dependencies (async, sync ones run in a worker thread, and
the teardown of one with ``yield``),
sync and async endpoints, a background task (by logging a line), exception
handlers and a WebSocket endpoint with a dependency.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import (
    BackgroundTasks,
    Depends,
    FastAPI,
    HTTPException,
    Request,
    WebSocket,
)
from fastapi.responses import JSONResponse

from starlette_correlate import (
    CorrelationMiddleware,
    correlation_id_from_exception,
    get_correlation_id,
)

LOGGER_NAME = "tests.fastapi_app"
_logger = logging.getLogger(LOGGER_NAME)


class TeapotError(Exception):
    """The app's own exception, answered by the app's own handler."""


@dataclass
class Sightings:
    """What the app's handler for ``Exception`` saw, after the request."""

    from_exception: list[str | None] = field(default_factory=list)
    from_context: list[str | None] = field(default_factory=list)
    teardown: list[str | None] = field(default_factory=list)


async def async_dependency() -> str | None:
    return get_correlation_id()


def sync_dependency() -> str | None:
    # FastAPI runs a plain ``def`` dependency in a worker thread.
    return get_correlation_id()


async def session(request: Request) -> AsyncIterator[str | None]:
    # A dependency with ``yield``: its teardown runs once the endpoint has
    # returned, still inside the request.
    yield get_correlation_id()
    request.app.state.sightings.teardown.append(get_correlation_id())


def send_notification(to: str) -> None:
    # A plain ``def`` task: Starlette runs it in a worker thread after the
    # response has been sent.
    _logger.info("notification sent", extra={"to": to})


def build_fastapi_app() -> tuple[FastAPI, Sightings]:
    """Return the app, set up as the users' guide shows, and its sightings."""
    sightings = Sightings()
    app = FastAPI()
    app.add_middleware(CorrelationMiddleware)
    app.state.sightings = sightings

    @app.exception_handler(TeapotError)
    async def teapot(request: Request, exc: TeapotError) -> JSONResponse:
        return JSONResponse({"handler_id": get_correlation_id()}, status_code=418)

    @app.exception_handler(Exception)
    async def unhandled(request: Request, exc: Exception) -> JSONResponse:
        # Starlette calls this from ServerErrorMiddleware, outside ours: the
        # request's context is gone, the exception still names the ID.
        sightings.from_exception.append(correlation_id_from_exception(exc))
        sightings.from_context.append(get_correlation_id())
        return JSONResponse({"detail": "not sent: the response has started"})

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, object]:
        if item_id == 404:
            raise HTTPException(status_code=404, detail="no such item")
        return {"item_id": item_id, "endpoint_id": get_correlation_id()}

    @app.get("/sync-items")
    def sync_items(
        from_async: Annotated[str | None, Depends(async_dependency)],
        from_sync: Annotated[str | None, Depends(sync_dependency)],
        from_session: Annotated[str | None, Depends(session)],
    ) -> dict[str, str | None]:
        return {
            "async_dependency_id": from_async,
            "sync_dependency_id": from_sync,
            "yield_dependency_id": from_session,
            "endpoint_id": get_correlation_id(),
        }

    @app.post("/notify", status_code=202)
    async def notify(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(send_notification, "ops@example.com")
        return {"queued": "yes"}

    @app.get("/teapot")
    async def teapot_route() -> None:
        raise TeapotError

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the endpoint failed")

    @app.websocket("/ws")
    async def ws(
        websocket: WebSocket,
        from_dependency: Annotated[str | None, Depends(async_dependency)],
    ) -> None:
        await websocket.accept()
        await websocket.send_text(f"{from_dependency} {get_correlation_id()}")
        await websocket.close()

    return app, sightings
