"""An example host service: a Starlette app using starlette-correlate.

Served by ``make run`` (and by ``make demo``) with uvicorn and the logging
configuration ``starlette-correlate log-config uvicorn`` prints.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from starlette_correlate import CorrelationMiddleware, bind_fields, get_correlation_id
from starlette_correlate.integrations.httpx import instrument

logger = logging.getLogger("example.service")


async def hello(request: Request) -> JSONResponse:
    """Answer with the request's correlation ID."""
    logger.info("saying hello")
    return JSONResponse({"hello": "world", "request_id": get_correlation_id()})


async def fail(request: Request) -> JSONResponse:
    """Fail, to show the 500 path."""
    logger.info("about to fail")
    raise RuntimeError("something broke in /fail")


async def stream(request: Request) -> StreamingResponse:
    """Stream three chunks, logging each one."""

    async def chunks() -> AsyncIterator[bytes]:
        for index in range(3):
            logger.info("streaming chunk %d", index)
            await asyncio.sleep(0.01)
            yield f"chunk {index}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


async def hop(request: Request) -> JSONResponse:
    """Bind a user, then call the backend service with the same ID."""
    logger.info("hop: before binding the user")
    bind_fields(user_id="demo-user")
    logger.info("hop: calling the backend")
    backend = os.environ.get("BACKEND_URL", "http://127.0.0.1:8001")
    async with instrument(httpx.AsyncClient()) as client:
        answer = await client.get(f"{backend}/work")
    logger.info("hop: the backend answered %d", answer.status_code)
    return JSONResponse(
        {
            "request_id": get_correlation_id(),
            "backend_request_id": answer.json()["request_id"],
            "backend_header": answer.headers.get("X-Request-ID"),
        }
    )


async def echo(websocket: WebSocket) -> None:
    """Echo one message over a WebSocket."""
    await websocket.accept()
    text = await websocket.receive_text()
    logger.info("websocket received %r", text)
    await websocket.send_text(f"echo {text}")
    await websocket.close()


app = Starlette(
    routes=[
        Route("/hello", hello),
        Route("/fail", fail),
        Route("/stream", stream),
        Route("/hop", hop),
        WebSocketRoute("/ws", echo),
    ]
)
app.add_middleware(CorrelationMiddleware, access_log=True)
