"""Run as a program: Sentry's own Starlette integration plus ours, in a fresh process.

Sentry's Starlette integration, enabled by default, patches Starlette for
the whole process, so it runs here rather than in the test process. Prints
one JSON object per captured event: its message or exception and its tags.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import sentry_sdk
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from starlette_correlate import CorrelationMiddleware
from starlette_correlate.integrations.sentry import CorrelationIdIntegration
from tests.support.sentry_events import TEST_DSN, CollectingTransport


async def message(request: Request) -> PlainTextResponse:
    sentry_sdk.capture_message("from the handler")
    return PlainTextResponse("ok")


async def boom(request: Request) -> PlainTextResponse:
    raise RuntimeError("the handler failed")


async def main() -> None:
    transport = CollectingTransport()
    sentry_sdk.init(
        dsn=TEST_DSN, transport=transport, integrations=[CorrelationIdIntegration()]
    )
    app = Starlette(routes=[Route("/message", message), Route("/boom", boom)])
    app.add_middleware(CorrelationMiddleware)
    client_transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=client_transport, base_url="http://testserver"
    ) as client:
        await client.get("/message", headers={"X-Request-ID": "real-1"})
        await client.get("/boom", headers={"X-Request-ID": "real-2"})
    sentry_sdk.get_client().close()
    for event in transport.events():
        values = event.get("exception", {}).get("values", [{}])
        print(
            json.dumps(
                {
                    "message": event.get("message") or values[-1].get("value"),
                    "tags": event.get("tags", {}),
                    "integrations": event.get("sdk", {}).get("integrations", []),
                }
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
