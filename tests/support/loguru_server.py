"""An app module served by a real uvicorn that routes every logger into loguru.

As a loguru user sets it up: loguru writes JSON lines to stdout with the
correlation patcher, and the stdlib root logger and uvicorn's own loggers
hand their records to ``InterceptHandler``. uvicorn configures its logging
before it imports the app, so the module replaces uvicorn's handlers here.
It does so only in the server process (``ROUTE_VARIABLE`` set): pytest
imports every module under ``tests/`` for doctests, and the test process
must keep its own logging configuration.
"""

from __future__ import annotations

import logging
import os
import sys

from loguru import logger
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from starlette_correlate import CorrelationMiddleware
from starlette_correlate.integrations.loguru import InterceptHandler, patcher

ROUTE_VARIABLE = "STARLETTE_CORRELATE_LOGURU_SERVER"


def route_every_logger_into_loguru() -> None:
    """Configure loguru and send the stdlib's and uvicorn's records into it."""
    logger.remove()
    logger.configure(patcher=patcher)
    logger.add(sys.stdout, serialize=True, level="INFO")
    logging.basicConfig(handlers=[InterceptHandler()], level=logging.INFO, force=True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_logger = logging.getLogger(name)
        server_logger.handlers = []
        server_logger.propagate = True


if os.environ.get(ROUTE_VARIABLE) == "1":
    route_every_logger_into_loguru()


async def hello(request: Request) -> PlainTextResponse:
    """Log one loguru line and answer."""
    logger.info("hello")
    return PlainTextResponse("hello")


async def fail(request: Request) -> PlainTextResponse:
    """Fail, so uvicorn logs the traceback after the request's context is gone."""
    raise RuntimeError("loguru server broke in /fail")


app = Starlette(routes=[Route("/hello", hello), Route("/fail", fail)])
app.add_middleware(CorrelationMiddleware)
