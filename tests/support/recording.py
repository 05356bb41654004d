"""A real next service on 127.0.0.1 that records the headers it was sent."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.servers import serve_in_thread


@dataclass
class Recorded:
    """The service's base URL and the headers of each request, in order."""

    url: str = ""
    seen: list[dict[str, str]] = field(default_factory=list)


@contextlib.contextmanager
def recording_service() -> Iterator[Recorded]:
    """Serve a service that answers ``{"ok": true}`` to any POST path."""
    recorded = Recorded()

    async def record(request: Request) -> JSONResponse:
        recorded.seen.append(dict(request.headers))
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])
    with serve_in_thread(app) as url:
        recorded.url = url
        yield recorded
