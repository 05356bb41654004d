"""The pure ASGI middleware: one correlation ID per HTTP request or WebSocket.

Pure ASGI on purpose: ``BaseHTTPMiddleware`` runs the endpoint in another
task, so a context variable set there never travels back, and it resets
before a streaming body is sent. Here the app runs inside our ``await``, so
the ID is set for every line of the endpoint, its streaming body, its
background tasks and our own error path, and reset on every way out.

The whole life of a request is :meth:`CorrelationMiddleware.__call__`, read
top to bottom: choose the ID (the core's rule), set it, publish it (on
``request.state`` and in the response headers), run the app with the
features that are on (answering an unhandled error), and reset.
"""

from __future__ import annotations

import contextlib
import logging
from contextvars import Token
from typing import Any, Unpack

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from starlette_correlate.config import CorrelationConfig, CorrelationOptions
from starlette_correlate.context import correlation_header_var, correlation_id_var
from starlette_correlate.core import CorrelationCore
from starlette_correlate.errors import (
    ErrorResponseFactory,
    attach_correlation_id,
    build_error_response,
    default_error_response,
)
from starlette_correlate.features import Trace, build_features
from starlette_correlate.fields import (
    fields_in_use,
    fields_var,
    merge_fields,
    set_fields,
)
from starlette_correlate.logs.access import AccessLine, AccessLogMiddleware
from starlette_correlate.logs.errorlog import ERROR_LOGGER, log_unhandled
from starlette_correlate.provenance import (
    GENERATED,
    INCOMING,
    REFUSED_STATE_KEY,
    SOURCE_STATE_KEY,
    ChosenId,
    IncomingId,
    Refusal,
    refusal_body,
)
from starlette_correlate.store import ContextStore, reset_token
from starlette_correlate.two_ids import (
    INHERITED_STATE_KEY,
    PARENT_STATE_KEY,
    TwoIds,
    set_two_ids,
)

__all__ = ["STATE_KEY", "CorrelationMiddleware"]

STATE_KEY = "correlation_id"
"""The name of the ID on ``request.state`` (and in ``scope["state"]``)."""

_CORRELATED = frozenset({"http", "websocket"})
# websocket.http.response.start: the denial-response extension's reply.
_STARTS = frozenset(
    {"http.response.start", "websocket.accept", "websocket.http.response.start"}
)
_HTTP1 = frozenset({"1.0", "1.1"})
_POLICY_VIOLATION = 1008


class CorrelationMiddleware:
    """Give every request and WebSocket a correlation ID for its whole life.

    The ID comes from a safe, valid incoming header of a trusted client, or
    is generated. It is set in :data:`~starlette_correlate.correlation_id_var`
    while the app runs, on ``request.state.correlation_id``, and in the
    response (or ``websocket.accept``) headers; it is reset when the request
    ends, however it ends. An unhandled exception is answered with a 500
    that carries the ID, then re-raised for the server to log.

    The options are those of
    :class:`~starlette_correlate.config.CorrelationConfig`, given as keyword
    arguments or as one ``config``: the ID rule (``header_name``,
    ``incoming_headers``, ``validator``, ``generator``, ``trusted_sources``,
    ``max_length``), ``error_response`` (``(request, exc, correlation_id)``
    returning, or awaiting to, the 500), ``access_log`` (one line per HTTP
    request, see :mod:`starlette_correlate.logs.access`), ``error_log``
    (each unhandled exception logged with its traceback while the ID is
    set, see :mod:`starlette_correlate.logs.errorlog`), and the context
    options (see :mod:`starlette_correlate.extract`): ``extractors``,
    ``resolver`` with ``resolver_timeout``, ``trace_context`` and
    ``adopt_trace_id``; ``on_invalid`` (``"reject"`` answers a refused
    incoming ID with a 400 without calling the app), ``set_request_header``
    (the chosen ID written into the request's own headers, once) and
    ``inherited_header`` (two IDs: an inherited ID kept end to end beside a
    request ID made at every hop). Off by default, and free when off.
    ``store``, not a field of the config but a keyword of its own, is the
    context store of the core (see :mod:`starlette_correlate.core`).

    Example::

        from starlette.applications import Starlette
        from starlette_correlate import CorrelationMiddleware

        app = Starlette()
        app.add_middleware(CorrelationMiddleware)
    """

    def __init__(
        self,
        app: ASGIApp,
        config: CorrelationConfig | None = None,
        *,
        store: ContextStore | None = None,
        **options: Unpack[CorrelationOptions],
    ) -> None:
        self.app = app
        self.core = core = CorrelationCore(config, store=store, **options)
        self.config = config = core.config
        self.error_response: ErrorResponseFactory = (
            config.error_response or default_error_response
        )
        self._trace, self._features = build_features(config)
        # Its line is written inside our context, so it carries the ID, after
        # our answer to an error, so it shows the status the client got (a
        # custom error_response may choose another). Absent when off.
        self._access_log = AccessLogMiddleware(app) if config.access_log else None
        self._error_logger = (
            logging.getLogger(ERROR_LOGGER) if config.error_log else None
        )
        # The rule, specialised by the core for this configuration.
        self._choose = core.choose
        self._pick, self._pick_key = core.pick, core.pick_key
        self._named = core.named_header
        self._reject = config.on_invalid == "reject"
        # Only trusted_sources makes the client's address matter.
        self._needs_client = core.trusted_sources is not None
        self._two_ids = core.two_ids
        self._extras = bool(
            self._trace
            or self._needs_client
            or self._access_log
            or self._features
            or self._two_ids
        )
        self._header_check = _header_check(core.header_name)
        self._inherited_check = (
            None if self._two_ids is None else _header_check(self._two_ids.header)
        )

    @property
    def store(self) -> ContextStore:
        """The core's context store (the split-phase hosts keep tokens there)."""
        return self.core.store

    def incoming_id(self, scope: Scope) -> str | None:
        """Return the raw incoming ID of ``scope``, or ``None``.

        The first listed header present wins; a header sent more than once
        counts as absent (see :func:`~starlette_correlate.core.pick_header`).
        """
        return self.core.incoming_id(scope["headers"])

    async def __call__(  # noqa: PLR0912, PLR0915 - the lifecycle in one frame (D-rule-5)
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run the app with the request's correlation ID set."""
        if scope["type"] not in _CORRELATED:
            await self.app(scope, receive, send)
            return
        # Fields bound by the app are undone by restoring this snapshot (see
        # D-context-1); until a process first sets fields the variable is
        # known to be None and is not even read.
        fields_before = fields_var.get() if fields_in_use.seen else None
        # Whether any opt-in feature is on: the default configuration tests
        # this one local instead of each feature.
        extras = self._extras
        trace: Trace | None = None
        client = trace_id = None
        if extras:
            if self._trace is not None:
                trace = self._trace.read(scope)
                trace_id = None if trace is None else trace[1].trace_id
            if self._needs_client:
                client = _client_host(scope)
        # 1. Choose: the core's rule, given what only this host can read.
        raw = self._pick(scope["headers"], self._pick_key)
        correlation_id = self._choose(raw, client, trace_id)
        two_ids: TwoIds | None = None
        if extras and self._two_ids is not None:
            # Two IDs: that verdict names the parent; this hop gets its own
            # ID (never an IncomingId, so the header below is encoded); the
            # inherited ID goes by the same rule (D-peers-two-2).
            correlation_id, two_ids = self._two_ids.decide(
                scope["headers"], correlation_id, client, trace_id
            )
        # 2. Set. The token stays in this frame, the only one that can reset
        # it in the request's own context (D-rule-5).
        token = correlation_id_var.set(correlation_id)
        named = self._named
        named_token = None if named is None else correlation_header_var.set(named)
        # 3. Publish: on the request state, and in the response headers.
        state = scope.get("state")
        if state is None:
            scope["state"] = state = {}
        state[STATE_KEY] = correlation_id
        # The source rides on the ID's type: no second variable, and for
        # the two common sources no attribute read (D-peers-prov-1).
        kind = correlation_id.__class__
        refused: Refusal | None = None
        check = self._header_check
        wanted = check[0]
        if kind is IncomingId:
            state[SOURCE_STATE_KEY] = INCOMING
            # An accepted ID is the header's own bytes, checked safe: sent
            # back as they came, with no encode (D-peers-prov-4). Only the
            # chooser makes an IncomingId, from those bytes: never None.
            header: tuple[bytes, bytes] = (wanted, raw)  # type: ignore[assignment]
        else:
            if kind is ChosenId:
                state[SOURCE_STATE_KEY] = correlation_id.source  # type: ignore[attr-defined]
                refused = correlation_id.refused  # type: ignore[attr-defined]
                if refused is not None:
                    state[REFUSED_STATE_KEY] = refused
            else:
                state[SOURCE_STATE_KEY] = GENERATED
            header = (wanted, correlation_id.encode("latin-1"))
        line: AccessLine | None = None
        tokens: list[tuple[Token[Any], object]] | None = None
        two_token: Token[TwoIds | None] | None = None
        also: tuple[HeaderCheck, tuple[bytes, bytes]] | None = None
        if extras:
            if two_ids is not None:
                two_token = set_two_ids(two_ids)
                state[INHERITED_STATE_KEY] = two_ids.inherited
                state[PARENT_STATE_KEY] = two_ids.parent
                inherited_check = self._inherited_check
                if inherited_check is not None:  # made with the two-ID rule
                    # Added by send_with_id beside ours: no second wrapper.
                    inherited = two_ids.inherited.encode("latin-1")
                    also = (inherited_check, (inherited_check[0], inherited))
            if self._access_log is not None:
                # The access line watches what the client gets: our header
                # and our answer to an error included.
                line = self._access_log.start(scope, receive, send)
                if line is not None:
                    receive, send = line.receive, line.send
            if self._features:
                tokens = []
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if not started and message["type"] in _STARTS:
                started = True
                message = _with_header(message, check, header)
                if also is not None:
                    message = _with_header(message, *also)
            await send(message)

        # 4. Run the app, with the features that are on; answer its error.
        failure: BaseException | None = None
        try:
            if refused is not None and self._reject:
                # Strict mode: the app is not called (D-peers-prov-3).
                await _refuse(scope, send_with_id, correlation_id, refused)
            else:
                if tokens is not None:
                    await self._enter_features(scope, trace, client, tokens)
                await self.app(scope, receive, send_with_id)
        except BaseException as exc:
            failure = exc
            if isinstance(exc, Exception):
                await self._fail(
                    scope, receive, send_with_id, exc, started, two_ids=two_ids
                )
            raise
        # 5. Reset, on every way out.
        finally:
            if extras:
                if line is not None:
                    line.finish(failure)
                if tokens:
                    for feature_token, value_set in reversed(tokens):
                        reset_token(feature_token, value_set)
                if two_token is not None:
                    reset_token(two_token, two_ids)
            try:
                if named_token is not None:
                    correlation_header_var.reset(named_token)
                correlation_id_var.reset(token)
            except (ValueError, RuntimeError):
                # Only if something drove this coroutine across contexts.
                if named_token is not None:
                    reset_token(named_token, named)
                reset_token(token, correlation_id)
            if fields_in_use.seen and fields_var.get() is not fields_before:
                fields_var.set(fields_before)

    async def _enter_features(
        self,
        scope: Scope,
        trace: Trace | None,
        client: str | None,
        tokens: list[tuple[Token[Any], object]],
    ) -> None:
        # An untrusted client's trace context is ignored like its ID: it
        # would otherwise be bound to our logs and sent on downstream.
        sources = self.core.trusted_sources
        if sources is not None and client not in sources:
            trace = None
        found: dict[str, object] = {}
        for feature in self._features:
            token = await feature.enter(scope, trace, found)
            if token is not None:
                tokens.append((token, token.var.get(None)))
        if found:
            set_fields(merge_fields(fields_var.get(), found))

    async def _fail(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        exc: Exception,
        started: bool,
        *,
        two_ids: TwoIds | None,
    ) -> None:
        """Answer an unhandled error: the one place, whatever the options.

        The exception carries the ID, and with two IDs on the inherited ID
        and parent (D-core-4, D-peers-two-6); the error log, when on,
        writes its traceback while the ID is still set; a 500 naming the ID
        goes out if no response has started.
        """
        attach_correlation_id(exc, scope["state"][STATE_KEY], two_ids)
        if self._error_logger is not None:
            log_unhandled(self._error_logger, scope, exc)
        if not started and scope["type"] == "http":
            await self._answer_error(scope, receive, send, exc)

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


HeaderCheck = tuple[bytes, int, frozenset[int]]
"""A response header's lowercased name, its length and its possible first
bytes: what :func:`_with_header` compares before it lowers a name."""


def _header_check(name: str) -> HeaderCheck:
    wanted = name.lower().encode("latin-1")
    return (wanted, len(wanted), frozenset({wanted[0], wanted.upper()[0]}))


def _with_header(
    message: Message, check: HeaderCheck, header: tuple[bytes, bytes]
) -> Message:
    """Return the response's start ``message`` with ``header`` added.

    The one home of the rule: a header the app set, whatever its case, is
    kept, and ``message`` returned as it is; else a copy gets ours (an app
    may reuse one message dict for every response, and must never find a
    request's ID in it).
    """
    wanted, length, initials = check
    headers = message.get("headers") or ()
    if headers.__class__ is not list and headers.__class__ is not tuple:
        # ASGI allows any iterable; the scan must not use it up.
        headers = list(headers)
    # The length and first byte spare a lower() of every other name.
    for name, _ in headers:
        if len(name) == length and name[0] in initials and name.lower() == wanted:
            return message
    return dict(message, headers=[*headers, header])


def _client_host(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


async def _refuse(
    scope: Scope, send: Send, correlation_id: str, refused: Refusal
) -> None:
    """Answer a refused incoming ID with a 400 naming the fresh ID and why.

    Never the raw value. A WebSocket gets the same response through the
    denial extension when the server offers it, else is closed before it
    is accepted (the server answers 403; no header can go out).
    """
    body = refusal_body(correlation_id, refused)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    if scope["type"] == "http":
        prefix = "http.response"
    elif "websocket.http.response" in (scope.get("extensions") or {}):
        prefix = "websocket.http.response"
    else:
        await send({"type": "websocket.close", "code": _POLICY_VIOLATION})
        return
    # A gone client cannot be answered; that is no error of the app's.
    with contextlib.suppress(OSError):
        await send({"type": f"{prefix}.start", "status": 400, "headers": headers})
        await send({"type": f"{prefix}.body", "body": body})
