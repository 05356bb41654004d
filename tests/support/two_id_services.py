"""Two services with two IDs on, served by uvicorn for features/context_hop.feature.

``front`` handles ``/hop`` by calling ``back``'s ``/work`` (at
``BACKEND_URL``) through the httpx integration; each answers with the IDs
it ran under, and logs one line. ``front``'s ``/fail`` raises, for
features/logs_uvicorn.feature (the server's traceback line).
"""

from __future__ import annotations

import logging
import os

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from starlette_correlate import (
    CorrelationMiddleware,
    get_correlation_id,
    get_inherited_id,
    get_parent_id,
)
from starlette_correlate.integrations.httpx import instrument

logger = logging.getLogger("tests.two_ids")
INHERITED = "X-Correlation-ID"


def _ids() -> dict[str, str | None]:
    return {
        "request_id": get_correlation_id(),
        "inherited": get_inherited_id(),
        "parent": get_parent_id(),
    }


async def hop(request: Request) -> JSONResponse:
    """Call the back service; say which IDs both ran under."""
    logger.info("front calling the back")
    async with instrument(httpx.AsyncClient()) as client:
        answer = await client.get(f"{os.environ['BACKEND_URL']}/work")
    return JSONResponse({"front": _ids(), "back": answer.json()})


async def work(request: Request) -> JSONResponse:
    """Do the back service's part."""
    logger.info("back doing the work")
    return JSONResponse(_ids())


async def fail(request: Request) -> JSONResponse:
    """Fail, so the server logs the traceback after the request's context."""
    raise RuntimeError("something broke in /fail")


front = Starlette(routes=[Route("/hop", hop), Route("/fail", fail)])
front.add_middleware(CorrelationMiddleware, inherited_header=INHERITED)

back = Starlette(routes=[Route("/work", work)])
back.add_middleware(CorrelationMiddleware, inherited_header=INHERITED)
