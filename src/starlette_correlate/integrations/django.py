"""Django middleware: one correlation ID per request, on the split-phase core.

Django's middleware has a request hook and a response hook, which is the
shape :class:`~starlette_correlate.core.CorrelationCore` was split for:
``process_request`` runs the request phase (choose, set, keep the token in
the :class:`~starlette_correlate.store.ContextStore` under the request) and
``process_response`` runs the response phase (reset with that token). The
middleware works in sync and async mode, so Django never has to wrap it in
a thread, and under WSGI and ASGI.

Install ``starlette-correlate[django]``; importing this module without
Django raises an ``ImportError`` that says so.
"""

from __future__ import annotations

import weakref
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from typing import Any, Final, cast

try:
    # The module, not its lazy ``settings``: tools that inspect this
    # module's names (doctest) would touch settings before they exist.
    import django.conf as django_conf
    from asgiref.sync import iscoroutinefunction, markcoroutinefunction
    from django.core.exceptions import ImproperlyConfigured
    from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
    from django.http.request import HttpHeaders
    from django.http.response import HttpResponseBase
    from django.utils.log import log_response
    from django.utils.module_loading import import_string
except ImportError as exc:  # pragma: no cover - exercised with Django blocked
    raise ImportError(
        "starlette_correlate.integrations.django needs Django: "
        "pip install 'starlette-correlate[django]'"
    ) from exc

from starlette_correlate.config import ASGI_ONLY, EVERY_HOST
from starlette_correlate.core import REPEATED_HEADER, CorrelationCore
from starlette_correlate.errors import attach_correlation_id
from starlette_correlate.features import RequestHeader
from starlette_correlate.fields import fields_checkpoint
from starlette_correlate.provenance import (
    REFUSED_STATE_KEY,
    SOURCE_STATE_KEY,
    refusal_body,
)
from starlette_correlate.store import ContextStore
from starlette_correlate.two_ids import (
    INHERITED_STATE_KEY,
    PARENT_STATE_KEY,
    TwoIds,
    two_ids_var,
)

__all__ = [
    "OPTIONS",
    "REQUEST_ATTRIBUTE",
    "SETTING",
    "CorrelationMiddleware",
    "default_store",
    "request_correlation_id",
]

SETTING: Final = "STARLETTE_CORRELATE"
"""The Django setting (a dict) the middleware reads its options from."""

REQUEST_ATTRIBUTE: Final = "correlation_id"
"""The attribute of ``HttpRequest`` that holds the request's ID."""

OPTIONS: Final = EVERY_HOST | {"store"}
"""The keys ``STARLETTE_CORRELATE`` accepts: the ID rule's options, and ``store``."""

default_store = ContextStore()
"""The store every middleware instance uses unless ``store`` is configured.

Keys are request objects, so instances can share it. It is empty between
requests, which is what a test can assert::

    from starlette_correlate.integrations.django import default_store

    assert len(default_store) == 0
"""

_TWO_IDS_ATTRIBUTE: Final = "_correlation_two_ids"
# The request's TwoIds, for the exception hooks (not public: the two IDs
# are on request.inherited_id and request.parent_id).

GetResponse = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]
"""What Django hands a middleware factory: the rest of the chain."""


def request_correlation_id(request: HttpRequest) -> str | None:
    """Return the correlation ID the middleware put on ``request``, or ``None``.

    A typed spelling of ``request.correlation_id``, which type checkers do
    not know about.

    Example::

        from starlette_correlate.integrations.django import request_correlation_id

        def order(request):
            return JsonResponse({"request_id": request_correlation_id(request)})
    """
    value = getattr(request, REQUEST_ATTRIBUTE, None)
    return value if isinstance(value, str) else None


def _read_header(request: HttpRequest, name: str) -> str | None:
    """Return header ``name`` of ``request`` as a view reads it, or ``None``.

    Through ``request.headers``, which finds the header whatever its
    ``META`` key's spelling (``HTTP_X_REQUEST_ID`` from a server,
    ``HTTP_X-Request-ID`` from Django's test client).
    """
    value = request.headers.get(name)
    if value is None:
        return None
    text = str(value)
    # Django joins a repeated header with commas: which copy is right
    # cannot be told, so it is refused as repeated (as in ASGI). A single
    # value with a comma cannot be told apart.
    return REPEATED_HEADER if "," in text else text


def _rewrite_meta(
    request: HttpRequest,
    feature: RequestHeader,
    correlation_id: str,
    inherited: str | None,
) -> None:
    """Apply ``feature``'s rewrite to ``request.META`` (D-django-6).

    Every ``META`` entry whose header name is one of the feature's is
    removed, whatever its key's spelling; the feature's pairs are written
    under the key a server uses. ``META`` is a copy: under WSGI it is the
    server's own environ, which is never changed (as the ASGI scope's
    header list, D-peers-headers-1). ``request.headers`` is a cached view
    of ``META``, so it is dropped to be rebuilt on its next read.
    """
    meta = request.META = dict(request.META)
    names = feature.names
    for key in [
        key
        for key in meta
        if (parsed := HttpHeaders.parse_header_name(key)) is not None
        and parsed.lower().encode("latin-1", "replace") in names
    ]:
        del meta[key]
    for name, value in feature.pairs(correlation_id, inherited):
        meta[HttpHeaders.to_wsgi_name(name.decode("latin-1"))] = value.decode("latin-1")
    request.__dict__.pop("headers", None)


def _options(overrides: Mapping[str, object]) -> dict[str, Any]:
    configured = getattr(django_conf.settings, SETTING, None)
    if configured is None:
        configured = {}
    if not isinstance(configured, Mapping):
        raise ImproperlyConfigured(
            f"{SETTING} must be a dict of options, e.g. "
            "{'trusted_sources': ['10.0.0.0/8']}; got "
            f"{type(configured).__name__}"
        )
    options = {**configured, **overrides}
    unknown = sorted(set(options) - OPTIONS)
    asgi_only = [name for name in unknown if name in ASGI_ONLY]
    if asgi_only:
        raise ImproperlyConfigured(
            f"{SETTING}: {', '.join(map(repr, asgi_only))} belong(s) to the ASGI "
            "middleware only (CorrelationMiddleware on Starlette or FastAPI); "
            f"Django's takes: {', '.join(sorted(OPTIONS))}"
        )
    if unknown:
        raise ImproperlyConfigured(
            f"{SETTING}: unknown option(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(OPTIONS))}"
        )
    for name in ("validator", "generator"):
        value = options.get(name)
        if isinstance(value, str):
            try:
                options[name] = import_string(value)
            except ImportError as exc:
                raise ImproperlyConfigured(
                    f"{SETTING}: {name} {value!r} cannot be imported: {exc}"
                ) from exc
    options.setdefault("store", default_store)
    return options


class _ReleasingIterator:
    """A streaming body that runs the response phase when Django closes it.

    Django calls the ``close`` of a streaming body when it closes the
    response, right before it sends ``request_finished``; that is where a
    streamed request ends.
    """

    def __init__(self, body: Iterable[object], release: Callable[[], object]) -> None:
        self._body = iter(body)
        self._release = release

    def __iter__(self) -> Iterator[object]:
        return self

    def __next__(self) -> object:
        return next(self._body)

    def close(self) -> None:
        self._release()


class _ReleasingAsyncIterator:
    """The async twin of :class:`_ReleasingIterator`; ``close`` stays sync."""

    def __init__(
        self, body: AsyncIterable[object], release: Callable[[], object]
    ) -> None:
        self._body = aiter(body)
        self._release = release

    def __aiter__(self) -> AsyncIterator[object]:
        return self

    async def __anext__(self) -> object:
        return await anext(self._body)

    def close(self) -> None:
        self._release()


class CorrelationMiddleware:
    """Give every Django request a correlation ID for its whole life.

    ``process_request`` chooses the ID (a safe, valid incoming header from a
    trusted ``REMOTE_ADDR``, else a new UUIDv7), sets it, keeps the reset
    token in the store under the request and puts the ID on
    ``request.correlation_id``. ``process_response`` adds the response
    header (never replacing one the view set) and resets the ID; for a
    streaming response it waits until Django closes the response, so the
    body streams with the ID set. The response phase runs on every way out,
    including cancellation.

    Options come from the ``STARLETTE_CORRELATE`` setting, a dict with the
    keyword options of :class:`~starlette_correlate.core.CorrelationCore`
    (``validator`` and ``generator`` may be dotted paths); keyword arguments
    to the constructor win over it. Bad options, and those only the ASGI
    middleware has, raise ``ImproperlyConfigured`` when Django loads the
    middleware. The opt-in ones work as in ASGI, from the same code:
    ``on_invalid="reject"`` answers a refused ID with a 400 before the
    view; ``set_request_header`` puts the chosen ID in ``request.META``
    and ``request.headers``; ``inherited_header`` turns on two IDs
    (``request.inherited_id``, ``request.parent_id``, and the inherited
    header on the response).

    Example::

        MIDDLEWARE = [
            "starlette_correlate.integrations.django.CorrelationMiddleware",
            # ... the rest of your middleware
        ]
        STARLETTE_CORRELATE = {"trusted_sources": ["10.0.0.0/8"]}
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse, **options: object) -> None:
        self.get_response = get_response
        try:
            self.core = CorrelationCore(**_options(options))
        except (TypeError, ValueError) as exc:
            raise ImproperlyConfigured(f"{SETTING}: {exc}") from exc
        config = self.core.config
        self._reject = config.on_invalid == "reject"
        self._request_header = (
            RequestHeader(
                config.header_name,
                config.incoming_headers or (),
                config.inherited_header,
            )
            if config.set_request_header
            else None
        )
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    @property
    def store(self) -> ContextStore:
        """The context store holding the reset tokens of requests in flight."""
        return self.core.store

    def __call__(
        self, request: HttpRequest
    ) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        """Run the rest of the chain with the request's ID set."""
        if self._is_async:
            return self._acall(request)
        response = self.process_request(request)
        try:
            if response is None:
                # In sync mode Django hands us a sync get_response.
                response = cast(HttpResponseBase, self.get_response(request))
        except BaseException as exc:
            self._abort(request, exc)
            raise
        return self.process_response(request, response)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        response = self.process_request(request)
        try:
            if response is None:
                called = self.get_response(request)
                response = (
                    called if isinstance(called, HttpResponseBase) else await called
                )
        except BaseException as exc:
            # CancelledError included: Django cancels the request's task when
            # the client disconnects, and the token must still be reset.
            self._abort(request, exc)
            raise
        return self.process_response(request, response)

    def incoming_id(self, request: HttpRequest) -> str | None:
        """Return the raw incoming ID of ``request``: the first header present.

        Read through ``request.headers``, as a view would: it finds the
        header whatever its ``META`` key's spelling (``HTTP_X_REQUEST_ID``
        from a server, ``HTTP_X-Request-ID`` from Django's test client).
        """
        for name in self.core.incoming_headers:
            value = _read_header(request, name)
            if value is not None:
                return value
        return None

    def process_request(self, request: HttpRequest) -> HttpResponseBase | None:
        """Choose and set the request's ID; keep its token under the request.

        Returns ``None``, or in strict mode (``on_invalid="reject"``) the
        400 for a refused incoming ID, which the view is never called for;
        either way :meth:`process_response` ends the request.
        """
        client = request.META.get("REMOTE_ADDR")
        two_ids_rule = self.core.two_ids
        choice = self.core.begin(
            request,
            self.incoming_id(request),
            client if isinstance(client, str) else None,
            None
            if two_ids_rule is None
            else _read_header(request, two_ids_rule.header),
        )
        # Fields a view binds must end with the request: a WSGI server reuses
        # its threads, and their contexts, for the next request. Setting the
        # checkpoint's token, reset in the response phase, undoes them.
        self.core.store.push(request, fields_checkpoint())
        correlation_id = choice.correlation_id
        setattr(request, REQUEST_ATTRIBUTE, correlation_id)
        # As on ASGI's request.state (D-peers-prov-1).
        setattr(request, SOURCE_STATE_KEY, choice.source)
        setattr(request, REFUSED_STATE_KEY, choice.refused)
        two_ids: TwoIds | None = None
        if two_ids_rule is not None:
            # The core has just set them in this context (D-django-5).
            two_ids = two_ids_var.get()
            assert two_ids is not None  # noqa: S101 - set by begin above
            setattr(request, _TWO_IDS_ATTRIBUTE, two_ids)
            setattr(request, INHERITED_STATE_KEY, two_ids.inherited)
            setattr(request, PARENT_STATE_KEY, two_ids.parent)
        if choice.refused is not None and self._reject:
            # Strict mode (D-peers-prov-3, D-django-4): the view is not called.
            body = refusal_body(correlation_id, choice.refused)
            response = HttpResponse(body, status=400, content_type="application/json")
            response["Content-Length"] = str(len(response.content))
            return response
        if self._request_header is not None:
            _rewrite_meta(
                request,
                self._request_header,
                correlation_id,
                None if two_ids is None else two_ids.inherited,
            )
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """Let the exception carry the ID, for log lines after the request.

        Returns ``None``: Django goes on to build its 500 response, which
        passes through :meth:`process_response` and gets the header.
        """
        correlation_id = request_correlation_id(request)
        if correlation_id is not None:
            attach_correlation_id(
                exception, correlation_id, getattr(request, _TWO_IDS_ATTRIBUTE, None)
            )

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        """Add the response header and reset the ID (a streamed one on close)."""
        correlation_id = request_correlation_id(request)
        if correlation_id is None:
            return response
        header = self.core.header_name
        if header not in response:
            # A plain str: wsgiref (runserver) refuses a str subclass such
            # as an accepted IncomingId with a 500.
            response[header] = str.__str__(correlation_id)
        if response.status_code >= 400:
            # Django logs a 4xx or 5xx after the middleware chain has
            # returned, when the ID is reset: log it here, as Django would,
            # with the ID; log_response marks it, so Django skips its copy
            # (and one logged with its exception is not logged again).
            log_response(
                "%s: %s",
                response.reason_phrase,
                request.path,
                # Django passes any response here; it reads only the status.
                response=cast("HttpResponse", response),
                request=request,
            )
        if self.core.two_ids is not None:
            # Looked up only when on: a missing attribute costs a raise.
            two_ids: TwoIds | None = getattr(request, _TWO_IDS_ATTRIBUTE, None)
            if two_ids is not None and two_ids.header not in response:
                response[two_ids.header] = two_ids.inherited
        if isinstance(response, StreamingHttpResponse):

            def release() -> bool:
                return self.core.response_phase(request)

            body = response.streaming_content
            response.streaming_content = (
                _ReleasingAsyncIterator(body, release)
                if isinstance(body, AsyncIterable)
                else _ReleasingIterator(body, release)
            )
            # A streaming response dropped without being closed (a middleware
            # above ours replaced it, a test never read it) must not keep its
            # entry: release when it is collected, a no-op after a close.
            weakref.finalize(response, release)
        else:
            self.core.response_phase(request)
        return response

    def _abort(self, request: HttpRequest, exc: BaseException) -> None:
        correlation_id = request_correlation_id(request)
        if correlation_id is not None:
            attach_correlation_id(
                exc, correlation_id, getattr(request, _TWO_IDS_ATTRIBUTE, None)
            )
        self.core.response_phase(request)
