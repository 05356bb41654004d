"""The pure ASGI middleware: one correlation ID per HTTP request or WebSocket.

Pure ASGI on purpose: ``BaseHTTPMiddleware`` runs the endpoint in another
task, so a context variable set there never travels back, and it resets
before a streaming body is sent. Here the app runs inside our ``await``, so
the ID is set for every line of the endpoint, its streaming body, its
background tasks and our own error path, and reset on every way out.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from starlette_correlate.context import correlation_header_var, correlation_id_var
from starlette_correlate.core import DEFAULT_HEADER, CorrelationCore
from starlette_correlate.errors import (
    ErrorResponseFactory,
    attach_correlation_id,
    build_error_response,
    default_error_response,
)
from starlette_correlate.extract import (
    DEFAULT_RESOLVER_TIMEOUT,
    Extractor,
    RequestEnricher,
    Resolver,
)
from starlette_correlate.fields import fields_in_use, fields_var
from starlette_correlate.ids import (
    DEFAULT_MAX_LENGTH,
    SAFE_ID_BYTES,
    IdGenerator,
    IdValidator,
)
from starlette_correlate.logs.access import AccessLogMiddleware
from starlette_correlate.logs.errorlog import ERROR_LOGGER, log_unhandled
from starlette_correlate.store import ContextStore, reset_token
from starlette_correlate.traceparent import TraceParent

__all__ = ["STATE_KEY", "CorrelationMiddleware"]

STATE_KEY = "correlation_id"
"""The name of the ID on ``request.state`` (and in ``scope["state"]``)."""

_CORRELATED = frozenset({"http", "websocket"})
# websocket.http.response.start: the denial-response extension's reply.
_STARTS = frozenset(
    {"http.response.start", "websocket.accept", "websocket.http.response.start"}
)
_HTTP1 = frozenset({"1.0", "1.1"})


class CorrelationMiddleware:
    """Give every request and WebSocket a correlation ID for its whole life.

    The ID comes from a safe, valid incoming header of a trusted client, or
    is generated. It is set in :data:`~starlette_correlate.correlation_id_var`
    while the app runs, on ``request.state.correlation_id``, and in the
    response (or ``websocket.accept``) headers; it is reset when the request
    ends, however it ends. An unhandled exception is answered with a 500
    that carries the ID, then re-raised for the server to log.

    All keyword options are those of
    :class:`~starlette_correlate.core.CorrelationCore`, plus
    ``error_response``, a function ``(request, exc, correlation_id)`` that
    returns (or awaits to) the 500 response, and ``access_log``: when
    true, one line per HTTP request on the ``starlette_correlate.access``
    logger (see :mod:`starlette_correlate.logs.access`), and ``error_log``:
    when true, each unhandled exception is logged with its traceback on the
    ``starlette_correlate.error`` logger while the request's ID is still
    set, for servers whose own traceback line cannot carry it (see
    :mod:`starlette_correlate.logs.errorlog`).

    Context options (see :mod:`starlette_correlate.extract`): ``extractors``
    (field name to ``from_header(...)``, ``from_query(...)``,
    ``from_cookie(...)`` or your function), ``resolver`` (async, derives
    more fields) with ``resolver_timeout`` seconds, ``trace_context`` (bind
    the W3C ``traceparent``'s ``trace_id`` and forward the header on httpx
    calls) and ``adopt_trace_id`` (use the trace ID as the correlation ID
    when the request brings none). Off by default, and free when off.

    Example::

        from starlette.applications import Starlette
        from starlette_correlate import CorrelationMiddleware

        app = Starlette()
        app.add_middleware(CorrelationMiddleware)
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        header_name: str = DEFAULT_HEADER,
        incoming_headers: Sequence[str] | None = None,
        validator: IdValidator | None = None,
        generator: IdGenerator | None = None,
        trusted_sources: Iterable[str] | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        store: ContextStore | None = None,
        error_response: ErrorResponseFactory | None = None,
        access_log: bool = False,
        error_log: bool = False,
        extractors: Mapping[str, Extractor] | None = None,
        resolver: Resolver | None = None,
        resolver_timeout: float = DEFAULT_RESOLVER_TIMEOUT,
        trace_context: bool = False,
        adopt_trace_id: bool = False,
    ) -> None:
        self.app = app
        if access_log:
            # Inside our context, so its line carries the ID; absent when off.
            # The 500 is answered inside it, so its line shows the status the
            # client really got (a custom error_response may choose another).
            self.app = AccessLogMiddleware(_ErrorAnswer(app, self._answer_error))
        self._error_logger = logging.getLogger(ERROR_LOGGER) if error_log else None
        self.core = CorrelationCore(
            header_name=header_name,
            incoming_headers=incoming_headers,
            validator=validator,
            generator=generator,
            trusted_sources=trusted_sources,
            max_length=max_length,
            store=store,
        )
        if error_response is not None and not callable(error_response):
            raise TypeError(
                f"error_response: {error_response!r} is not callable; pass a "
                "function (request, exc, correlation_id) -> Response"
            )
        self.error_response: ErrorResponseFactory = (
            error_response or default_error_response
        )
        self._incoming = tuple(
            name.lower().encode("latin-1") for name in self.core.incoming_headers
        )
        self._enricher = RequestEnricher.create(
            extractors=extractors,
            resolver=resolver,
            resolver_timeout=resolver_timeout,
            trace_context=trace_context,
            adopt_trace_id=adopt_trace_id,
            max_length=max_length,
        )
        core = self.core
        # The default configuration takes the inlined path in __call__.
        simple = (
            len(self._incoming) == 1
            and core.validator is None
            and core.trusted_sources is None
            and self._enricher is None
        )
        # The response header: its name, length and possible first bytes.
        name = core.header_name.lower().encode("latin-1")
        name_check = (name, len(name), frozenset({name[0], name.upper()[0]}))
        self._hot = (
            simple,
            self._incoming[0],
            core.max_length,
            core.generator,
            name_check,
            # A header name other than the default, published next to the ID
            # for outbound calls (D-where-recipes-1); None costs nothing more.
            core._named,
            *core.store.tracker(),
        )

    @property
    def store(self) -> ContextStore:
        """The context store holding the reset tokens of requests in flight."""
        return self.core.store

    def incoming_id(self, scope: Scope) -> str | None:
        """Return the raw incoming ID of ``scope``, or ``None``.

        The first listed header present wins. A header sent more than once
        counts as absent: which copy is right cannot be told. Names are
        matched lowercased, as ASGI servers deliver them (Starlette's own
        ``Headers`` relies on the same).
        """
        wanted = self._incoming
        if len(wanted) == 1:
            target = wanted[0]
            found: bytes | None = None
            for name, value in scope["headers"]:
                if name == target:
                    if found is not None:
                        return None
                    found = value
            return None if found is None else found.decode("latin-1")
        values: dict[bytes, bytes | None] = {}
        for name, value in scope["headers"]:
            if name in wanted:
                values[name] = None if name in values else value
        for name in wanted:
            if name in values:
                chosen = values[name]
                return None if chosen is None else chosen.decode("latin-1")
        return None

    async def __call__(  # noqa: PLR0912, PLR0915 - one frame on purpose (D-perf-6)
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run the app with the request's correlation ID set."""
        scope_type = scope["type"]
        if scope_type not in _CORRELATED:
            await self.app(scope, receive, send)
            return
        # One attribute load instead of one per setting: each costs about as
        # much as a dict operation on the hot path.
        simple, target, max_length, generator, name_check, named, keep, forget = (
            self._hot
        )
        # Fields bound by the app are undone by restoring this snapshot (see
        # D-context-1 in docs/design.md); until a process first sets fields
        # the variable is known to be None and is not even read.
        fields_before = fields_var.get() if fields_in_use.seen else None
        if simple:
            # The default configuration, inlined (D-perf-6): the same rule as
            # incoming_id() and CorrelationCore.request_phase(), whose
            # equivalence tests/test_hot_path.py checks, without their calls.
            raw: bytes | None = None
            repeated = False
            for name, value in scope["headers"]:
                if name == target:
                    repeated = raw is not None
                    raw = value
            if (
                raw is not None
                and not repeated
                and 0 < len(raw) <= max_length
                and not raw.strip(SAFE_ID_BYTES)
            ):
                correlation_id = raw.decode("ascii")
                if raw.__class__ is not bytes:  # a bytearray: never share it
                    raw = bytes(raw)
            else:
                correlation_id = generator()
                raw = correlation_id.encode("latin-1")
            header = (name_check[0], raw)
        else:
            correlation_id, trace = self._choose(scope)
            header = (name_check[0], correlation_id.encode("latin-1"))
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if not started and message["type"] in _STARTS:
                started = True
                headers = message.get("headers") or ()
                if headers.__class__ is not list and headers.__class__ is not tuple:
                    # ASGI allows any iterable; the scan must not use it up.
                    headers = list(headers)
                # Keep a header the app set, whatever its case; the length and
                # first byte spare a lower() of every other name. A loop, not
                # all(): no generator.
                wanted, length, initials = name_check
                for name, _ in headers:
                    if (
                        len(name) == length
                        and name[0] in initials
                        and name.lower() == wanted
                    ):
                        break
                else:
                    # A copy: an app may reuse one message dict for every
                    # response, and must never find this request's ID in it.
                    message = dict(message, headers=[*headers, header])
            await send(message)

        token = correlation_id_var.set(correlation_id)
        named_token = None if named is None else correlation_header_var.set(named)
        # The send wrapper is unique to this request: it is the store's key.
        if simple:
            keep(send_with_id, (token, correlation_id))
        else:
            self.core.store.push(send_with_id, token)
            if named_token is not None:
                self.core.store.push(send_with_id, named_token)
        state = scope.get("state")
        if state is None:
            scope["state"] = state = {}
        state[STATE_KEY] = correlation_id
        try:
            if not simple and self._enricher is not None:
                await self._enricher.enter(scope, trace, self.core.store, send_with_id)
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            attach_correlation_id(exc, correlation_id)
            if self._error_logger is not None:
                log_unhandled(self._error_logger, scope, exc)
            if not started and scope_type == "http":
                await self._answer_error(scope, receive, send_with_id, exc)
            raise
        finally:
            if simple:
                forget(send_with_id, None)
                try:
                    if named_token is not None:
                        correlation_header_var.reset(named_token)
                    correlation_id_var.reset(token)
                except (ValueError, RuntimeError):
                    # Only if something drove this coroutine across contexts.
                    if named_token is not None:
                        reset_token(named_token, named)
                    reset_token(token, correlation_id)
            else:
                self.core.response_phase(send_with_id)
            if fields_in_use.seen and fields_var.get() is not fields_before:
                fields_var.set(fields_before)

    def _choose(self, scope: Scope) -> tuple[str, tuple[str, TraceParent] | None]:
        """Return the ID of ``scope`` and its trace context, for any option set."""
        core = self.core
        incoming = self.incoming_id(scope)
        host = None
        trusted_sources = core.trusted_sources
        if trusted_sources is not None:  # the client matters only then
            client = scope.get("client")
            host = client[0] if client else None
        trace = None
        enricher = self._enricher
        if enricher is not None:
            # An untrusted client's trace context is ignored like its ID: it
            # would otherwise be bound to our logs and sent on downstream.
            if trusted_sources is None or host in trusted_sources:
                trace = enricher.trace_of(scope)
            incoming = enricher.adopted(incoming, trace)
        return core.choose_id(incoming, host), trace

    async def _answer_error(
        self, scope: Scope, receive: Receive, send: Send, exc: Exception
    ) -> None:
        request = Request(scope, receive)
        correlation_id: str = scope["state"][STATE_KEY]
        response = await build_error_response(
            self.error_response, request, exc, correlation_id
        )
        # We re-raise after this response, and servers close a connection
        # whose app raised (uvicorn does): say so, or a keep-alive client
        # sends its next request into a socket about to be reset. HTTP/2
        # forbids the header (and multiplexes instead).
        if scope.get("http_version", "1.1") in _HTTP1:
            response.headers["connection"] = "close"
        # If the client is gone the 500 cannot be sent; the re-raise still
        # reports the original exception, which is what matters.
        with contextlib.suppress(Exception):
            await response(scope, receive, send)


class _ErrorAnswer:
    """Answer an unhandled exception before it leaves ``app``, then re-raise.

    Used only under the access log, so the log sees the response the client
    got; the correlation middleware answers itself otherwise, and skips its
    own answer when this one has already started the response.
    """

    def __init__(
        self,
        app: ASGIApp,
        answer: Callable[[Scope, Receive, Send, Exception], Awaitable[None]],
    ) -> None:
        self.app = app
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception as exc:
            if not started:
                await self.answer(scope, receive, send, exc)
            raise
