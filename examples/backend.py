"""The second example service: the one ``examples.service`` calls on ``/hop``.

Run it next to the first service to watch one correlation ID cross a real
network hop and come back::

    starlette-correlate log-config uvicorn > log.json
    uvicorn examples.backend:app --port 8001 --log-config log.json
    BACKEND_URL=http://127.0.0.1:8001 uvicorn examples.service:app --port 8000 \\
        --log-config log.json
    curl -i http://127.0.0.1:8000/hop
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from starlette_correlate import CorrelationMiddleware, get_correlation_id

logger = logging.getLogger("example.backend")


async def work(request: Request) -> JSONResponse:
    """Do the backend's part of a request and say which ID it ran under."""
    logger.info("backend doing the work")
    return JSONResponse({"backend": "done", "request_id": get_correlation_id()})


app = Starlette(routes=[Route("/work", work)])
app.add_middleware(CorrelationMiddleware)
