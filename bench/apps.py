"""The app every benchmark serves, and the middleware variants compared.

One Starlette app, built fresh for each variant, so the only difference
between two rows of a table is the middleware in front of it. The floor is
the least a correct correlation middleware can do: find the incoming header,
take its value or generate a UUIDv7 (with the generator our default uses, so
the comparison is of middleware work, not of UUID libraries), set and reset
a context variable around the app, and append the response header.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from starlette_correlate import ContextStore, CorrelationMiddleware, default_generator

HEADER = b"x-request-id"

floor_var: ContextVar[str | None] = ContextVar("bench.floor", default=None)


class PassThroughMiddleware:
    """Calls the app and nothing else: the cost of one more ASGI layer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class FloorMiddleware:
    """The four essential steps, written as plainly and cheaply as we can."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id: str | None = None
        for name, value in scope["headers"]:
            if name == HEADER:
                correlation_id = value.decode("latin-1")
                break
        if correlation_id is None:
            correlation_id = default_generator()
        header = (HEADER, correlation_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = floor_var.set(correlation_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            floor_var.reset(token)


async def _hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def _boom(request: Request) -> PlainTextResponse:
    raise RuntimeError("boom")


async def _stream(request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"one"
        yield b"two"

    return StreamingResponse(chunks())


def build_app(middleware: list[Middleware]) -> Starlette:
    """Return the benchmark app behind ``middleware`` (outermost first)."""
    return Starlette(
        routes=[Route("/", _hello), Route("/boom", _boom), Route("/stream", _stream)],
        middleware=middleware,
    )


def _asgi_correlation_id() -> list[Middleware]:
    from asgi_correlation_id import CorrelationIdMiddleware  # noqa: PLC0415

    return [Middleware(CorrelationIdMiddleware)]


def _starlette_context_raw() -> list[Middleware]:
    from starlette_context.middleware import RawContextMiddleware  # noqa: PLC0415
    from starlette_context.plugins import RequestIdPlugin  # noqa: PLC0415

    return [Middleware(RawContextMiddleware, plugins=(RequestIdPlugin(),))]


def _starlette_context_base() -> list[Middleware]:
    from starlette_context.middleware import ContextMiddleware  # noqa: PLC0415
    from starlette_context.plugins import RequestIdPlugin  # noqa: PLC0415

    return [Middleware(ContextMiddleware, plugins=(RequestIdPlugin(),))]


def ours(store: ContextStore | None = None) -> list[Middleware]:
    """Our middleware with default settings (and optionally a given store)."""
    if store is None:
        return [Middleware(CorrelationMiddleware)]
    return [Middleware(CorrelationMiddleware, store=store)]


VARIANTS: dict[str, Callable[[], list[Middleware]]] = {
    "bare": list,
    "pass-through": lambda: [Middleware(PassThroughMiddleware)],
    "floor": lambda: [Middleware(FloorMiddleware)],
    "starlette-correlate": ours,
    "asgi-correlation-id": _asgi_correlation_id,
    "starlette-context (pure ASGI)": _starlette_context_raw,
    "starlette-context (BaseHTTPMiddleware)": _starlette_context_base,
}
"""Name -> the middleware list of that variant, in table order."""

ADDS_HEADER = set(VARIANTS) - {"bare", "pass-through"}
"""The variants that must answer with an ``X-Request-ID`` header."""


def add_variant(name: str, middleware: Callable[[ASGIApp], ASGIApp]) -> None:
    """Add a correlating middleware class, with default settings, as a variant.

    For comparisons the table does not make by itself: an earlier version
    of ours, a compiled build, another peer (``--also`` of ``bench.inprocess``).
    """
    if name in VARIANTS:
        raise ValueError(f"variant {name!r} exists already")
    VARIANTS[name] = lambda: [Middleware(middleware)]
    ADDS_HEADER.add(name)


def variant_app(name: str) -> Starlette:
    """Return the benchmark app behind the middleware of variant ``name``."""
    return build_app(VARIANTS[name]())


# uvicorn imports these by name in the HTTP benchmark.
bare = variant_app("bare")
correlated = variant_app("starlette-correlate")
asgi_correlation_id = variant_app("asgi-correlation-id")
floor = variant_app("floor")
