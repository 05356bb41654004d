"""Unit tests of the Django middleware: options, hooks, modes and edge paths."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import importlib
import io
import json
import logging
import logging.config
import sys
import types
from collections.abc import Awaitable
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

pytest.importorskip("django", reason="needs Django: starlette-correlate[django]")

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import AsyncClient, Client, RequestFactory, override_settings

from starlette_correlate import (
    ContextStore,
    CorrelationIdFilter,
    Refusal,
    bind_fields,
    correlation_id_from_exception,
    get_correlation_id,
    get_fields,
    get_inherited_id,
    uuid7,
)
from starlette_correlate.core import REPEATED_HEADER
from starlette_correlate.errors import choose_record_two_ids
from starlette_correlate.integrations.django import (
    CorrelationMiddleware,
    default_store,
    request_correlation_id,
)
from tests.support import django_site
from tests.support.guide import recipe

django_site.configure()

factory = RequestFactory()


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse(get_correlation_id() or "")


def test_importing_without_django_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "starlette_correlate.integrations.django")
    monkeypatch.setitem(sys.modules, "django", None)
    with pytest.raises(ImportError, match=r"starlette-correlate\[django\]"):
        importlib.import_module("starlette_correlate.integrations.django")


def test_the_core_does_not_import_django() -> None:
    import subprocess  # noqa: PLC0415 - only this test starts a child

    code = (
        "import sys, starlette_correlate, starlette_correlate.integrations;"
        "print('django' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"header_nam": "X-Id"}, r"unknown option\(s\) 'header_nam'"),
        (
            {"access_log": True},
            "'access_log' belong\\(s\\) to the ASGI middleware only",
        ),
        (["trusted_sources"], "must be a dict"),
        ({"trusted_sources": ["10.0.0.0/33"]}, "not an IP address or CIDR range"),
        ({"header_name": "X Request"}, "not a valid HTTP header name"),
        ({"validator": "no.such.module.check"}, "cannot be imported"),
        ({"generator": "builtins.print"}, "not a safe ID"),
    ],
)
def test_bad_settings_fail_when_django_loads_the_middleware(
    setting: object, message: str
) -> None:
    with (
        override_settings(STARLETTE_CORRELATE=setting),
        pytest.raises(ImproperlyConfigured, match=message),
    ):
        CorrelationMiddleware(ok)


def test_dotted_paths_and_keyword_arguments_configure_it() -> None:
    with override_settings(
        STARLETTE_CORRELATE={
            "validator": "starlette_correlate.is_uuid",
            "header_name": "X-From-Settings",
        }
    ):
        middleware = CorrelationMiddleware(ok, header_name="X-Correlation-ID")
    assert middleware.core.header_name == "X-Correlation-ID"
    assert middleware.core.accepts("not-a-uuid") is False
    assert middleware.store is default_store


def test_incoming_headers_are_read_in_order() -> None:
    middleware = CorrelationMiddleware(
        ok, incoming_headers=["X-Request-ID", "X-Correlation-ID"], store=ContextStore()
    )
    both = factory.get(
        "/", headers={"X-Correlation-ID": "second", "X-Request-ID": "first"}
    )
    only_second = factory.get("/", headers={"X-Correlation-ID": "second"})
    assert middleware.incoming_id(both) == "first"
    assert middleware.incoming_id(only_second) == "second"
    assert middleware.incoming_id(factory.get("/")) is None


def test_the_header_is_read_whatever_the_meta_spelling() -> None:
    # Django's test client puts headers= into META as HTTP_X-Request-ID;
    # request.headers reads it, and so must we.
    middleware = CorrelationMiddleware(ok, store=ContextStore())
    dashed: dict[str, Any] = {"HTTP_X-Request-ID": "spelled-with-dashes"}
    request = factory.get("/", **dashed)
    assert request.headers["X-Request-ID"] == "spelled-with-dashes"
    assert middleware.incoming_id(request) == "spelled-with-dashes"
    dashed["HTTP_X-Request-ID"] = "from-the-client"
    response = Client().get("/sync", **dashed)
    assert response["X-Request-ID"] == "from-the-client"


def test_a_header_the_view_set_is_kept() -> None:
    def own_header(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("mine")
        response["X-Request-ID"] = "set-by-view"
        return response

    store = ContextStore()
    response = CorrelationMiddleware(own_header, store=store)(
        factory.get("/", headers={"X-Request-ID": "incoming"})
    )
    assert isinstance(response, HttpResponseBase)
    assert response["X-Request-ID"] == "set-by-view"
    assert len(store) == 0


def test_fields_bound_in_a_view_end_with_the_request() -> None:
    seen: list[dict[str, str]] = []

    def binding_view(request: HttpRequest) -> HttpResponse:
        bind_fields(user_id="u-1")
        seen.append(dict(get_fields()))
        return HttpResponse("bound")

    store = ContextStore()
    middleware = CorrelationMiddleware(binding_view, store=store)
    # The WSGI path runs in this very thread and context, as a reused
    # server thread would: a field left behind would show here.
    middleware(factory.get("/"))
    assert seen == [{"user_id": "u-1"}]
    assert dict(get_fields()) == {}
    assert get_correlation_id() is None
    assert len(store) == 0


def test_a_response_hook_without_a_request_hook_changes_nothing() -> None:
    store = ContextStore()
    middleware = CorrelationMiddleware(ok, store=store)
    response = HttpResponse("untouched")
    assert middleware.process_response(factory.get("/"), response) is response
    assert "X-Request-ID" not in response
    assert len(store) == 0


def test_hooks_in_different_contexts_neither_raise_nor_pollute() -> None:
    store = ContextStore()
    middleware = CorrelationMiddleware(ok, store=store)
    request = factory.get("/", headers={"X-Request-ID": "hop-1"})
    request_context = contextvars.copy_context()
    request_context.run(middleware.process_request, request)
    response_context = request_context.copy()  # e.g. asgiref copying it to a thread
    response = response_context.run(
        middleware.process_response, request, HttpResponse()
    )
    assert response["X-Request-ID"] == "hop-1"
    assert response_context.run(get_correlation_id) is None
    assert get_correlation_id() is None
    assert len(store) == 0


def test_sync_and_async_mode_follow_get_response() -> None:
    async def async_ok(request: HttpRequest) -> HttpResponse:
        return ok(request)

    assert not iscoroutinefunction(CorrelationMiddleware(ok))
    assert iscoroutinefunction(CorrelationMiddleware(async_ok))
    assert CorrelationMiddleware.sync_capable
    assert CorrelationMiddleware.async_capable


def test_an_exception_escaping_the_chain_still_resets_and_carries_the_id() -> None:
    def propagate(request: HttpRequest) -> HttpResponse:
        raise RuntimeError("propagated, as with DEBUG_PROPAGATE_EXCEPTIONS")

    store = ContextStore()
    middleware = CorrelationMiddleware(propagate, store=store)
    with pytest.raises(RuntimeError) as caught:
        middleware(factory.get("/", headers={"X-Request-ID": "escaped-1"}))
    assert correlation_id_from_exception(caught.value) == "escaped-1"
    assert get_correlation_id() is None
    assert len(store) == 0


def test_a_cancelled_async_request_still_resets() -> None:
    started = asyncio.Event()

    async def hang(request: HttpRequest) -> HttpResponse:
        started.set()
        await asyncio.sleep(60)
        return HttpResponse()

    store = ContextStore()
    middleware = CorrelationMiddleware(hang, store=store)

    async def cancel_it() -> str | None:
        call = middleware(factory.get("/", headers={"X-Request-ID": "cancel-1"}))
        assert isinstance(call, Awaitable)

        async def run() -> None:
            await call

        task = asyncio.create_task(run())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return get_correlation_id()

    assert asyncio.run(cancel_it()) is None
    assert len(store) == 0


def test_the_default_store_is_empty_after_requests() -> None:
    with override_settings(STARLETTE_CORRELATE={}):
        response = Client().get("/sync", headers={"X-Request-ID": "default-store-1"})
    assert response["X-Request-ID"] == "default-store-1"
    assert len(default_store) == 0


def test_request_correlation_id_reads_only_strings() -> None:
    request = factory.get("/")
    assert request_correlation_id(request) is None
    request.__dict__["correlation_id"] = 42
    assert request_correlation_id(request) is None


def test_the_users_guide_recipe_works(monkeypatch: pytest.MonkeyPatch) -> None:
    configured = recipe("django-settings")
    urls = types.ModuleType("guide_django_urls")
    urls.__dict__.update(recipe("django-views"))

    # Build the recipe's filter and formatter as dictConfig would, without
    # replacing the handlers of the whole test run.
    configurator = logging.config.DictConfigurator(configured["LOGGING"])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(
        configurator.configure_filter(configurator.config["filters"]["correlation"])
    )
    handler.setFormatter(
        configurator.configure_formatter(configurator.config["formatters"]["line"])
    )
    root = logging.getLogger()
    monkeypatch.setattr(root, "level", logging.INFO)
    root.addHandler(handler)
    incoming = uuid7()
    try:
        with override_settings(
            MIDDLEWARE=configured["MIDDLEWARE"],
            STARLETTE_CORRELATE=configured["STARLETTE_CORRELATE"],
            ROOT_URLCONF=urls,
        ):
            sync = Client().get("/orders/7", headers={"X-Request-ID": incoming})
            not_uuid = Client().get("/orders/7", headers={"X-Request-ID": "abc"})
            untrusted = Client(REMOTE_ADDR="192.0.2.1").get(
                "/orders/7", headers={"X-Request-ID": incoming}
            )
            status = asyncio.run(
                AsyncClient().get(
                    "/orders/7/status", headers={"X-Request-ID": incoming}
                )
            )
    finally:
        root.removeHandler(handler)
    assert sync.json() == {"order": 7, "request_id": incoming}
    assert sync["X-Request-ID"] == incoming
    assert status.json() == {"order": 7, "request_id": incoming}
    # Any safe ID of a trusted source is kept, a UUID or not: an operator's
    # "abc" is found in the logs with the same grep.
    assert not_uuid["X-Request-ID"] == "abc"
    assert untrusted["X-Request-ID"] != incoming
    lines = stream.getvalue().splitlines()
    assert lines[:2] == [
        f"INFO request_id={incoming} shop.orders order 7 viewed",
        "INFO request_id=abc shop.orders order 7 viewed",
    ]
    assert len(default_store) == 0


def test_a_streaming_response_dropped_unclosed_leaves_nothing() -> None:
    def stream(request: HttpRequest) -> StreamingHttpResponse:
        return StreamingHttpResponse(iter([b"never read"]))

    store = ContextStore()
    middleware = CorrelationMiddleware(stream, store=store)
    response = middleware(factory.get("/", headers={"X-Request-ID": "dropped-1"}))
    assert get_correlation_id() == "dropped-1"  # the body would stream with it
    assert len(store) == 1
    del response
    gc.collect()
    assert len(store) == 0
    assert get_correlation_id() is None


def test_django_refuses_a_repeated_id_header_as_repeated() -> None:
    # Django joins the copies with commas; as in ASGI, the operator sees
    # that the caller's ID was refused, and why, never its value.
    seen: list[tuple[object, object]] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append((request.correlation_id_source, request.correlation_id_refused))  # type: ignore[attr-defined]
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.META["HTTP_X_REQUEST_ID"] = "first,second"
    middleware = CorrelationMiddleware(view, store=ContextStore())
    assert middleware.incoming_id(request) is REPEATED_HEADER
    response = middleware(request)
    assert isinstance(response, HttpResponseBase)
    assert response["X-Request-ID"] != "first,second"
    assert seen == [("replaced", Refusal("repeated", 0))]


def test_strict_mode_answers_before_the_view_in_sync_and_async_mode() -> None:
    called: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        called.append("sync")
        return HttpResponse()

    async def async_view(request: HttpRequest) -> HttpResponse:
        called.append("async")
        return HttpResponse()

    store = ContextStore()
    hostile = "x" * 300
    for get_response in (view, async_view):
        middleware = CorrelationMiddleware(
            get_response, on_invalid="reject", store=store
        )
        result = middleware(factory.get("/", headers={"X-Request-ID": hostile}))
        if isinstance(result, HttpResponseBase):
            response = result
        else:

            async def wait(call: Awaitable[HttpResponseBase]) -> HttpResponseBase:
                return await call

            response = asyncio.run(wait(result))
        assert isinstance(response, HttpResponse)
        assert response.status_code == 400
        body = json.loads(response.content)
        assert body["reason"] == "too_long"
        assert body["request_id"] == response["X-Request-ID"] != hostile
        assert hostile not in response.content.decode()
    assert called == []
    assert get_correlation_id() is None
    assert len(store) == 0


def test_strict_mode_lets_an_accepted_or_absent_id_through() -> None:
    middleware = CorrelationMiddleware(ok, on_invalid="reject", store=ContextStore())
    for headers in ({"X-Request-ID": "fine-1"}, {}):
        response = middleware(factory.get("/", headers=headers))
        assert isinstance(response, HttpResponse)
        assert response.status_code == 200
        assert response.content.decode() == response["X-Request-ID"]


def test_the_request_header_replaces_every_spelling_and_alias_in_meta() -> None:
    seen: list[tuple[str | None, list[str]]] = []

    def view(request: HttpRequest) -> HttpResponse:
        ids = sorted(
            key
            for key in request.META
            if "REQUEST-ID" in key.upper().replace("_", "-") or "ALIAS" in key
        )
        seen.append((request.headers.get("X-Request-ID"), ids))
        return HttpResponse()

    request = factory.get("/", headers={"X-Alias": "alias-value"})
    request.META["HTTP_X-Request-ID"] = "two words"  # the test client's spelling
    request.META["HTTP_X_REQUEST_ID"] = "a,b"
    request.META["HTTP_ACCEPT"] = "*/*"
    assert request.headers["X-Request-ID"]  # cached before the middleware runs
    environ = request.META  # under WSGI, the server's own dict
    before = dict(environ)
    middleware = CorrelationMiddleware(
        view,
        incoming_headers=["X-Request-ID", "X-Alias"],
        set_request_header=True,
        store=ContextStore(),
    )
    response = middleware(request)
    assert isinstance(response, HttpResponse)
    chosen = response["X-Request-ID"]
    assert seen == [(chosen, ["HTTP_X_REQUEST_ID"])]
    assert request.META["HTTP_ACCEPT"] == "*/*"
    assert environ == before


def test_without_the_option_the_request_headers_are_left_alone() -> None:
    request = factory.get("/", headers={"X-Request-ID": "two words"})
    response = CorrelationMiddleware(ok, store=ContextStore())(request)
    assert isinstance(response, HttpResponse)
    assert request.headers["X-Request-ID"] == "two words"


def test_with_two_ids_the_inherited_header_is_rewritten_too() -> None:
    request = factory.get(
        "/", headers={"X-Request-ID": "caller-1", "X-Correlation-ID": "a,b"}
    )
    middleware = CorrelationMiddleware(
        ok,
        set_request_header=True,
        inherited_header="X-Correlation-ID",
        store=ContextStore(),
    )
    response = middleware(request)
    assert isinstance(response, HttpResponse)
    # A repeated inherited header is refused: the inherited ID starts here.
    assert response["X-Correlation-ID"] == response["X-Request-ID"]
    assert request.headers["X-Correlation-ID"] == response["X-Correlation-ID"]
    assert request.headers["X-Request-ID"] == response["X-Request-ID"]
    assert request.correlation_id_refused == Refusal("repeated", 0)  # type: ignore[attr-defined]
    assert request.parent_id == "caller-1"  # type: ignore[attr-defined]


def test_two_ids_ride_on_an_escaping_exception_and_are_reset() -> None:
    def fail(request: HttpRequest) -> HttpResponse:
        assert get_inherited_id() == "corr-9"
        raise RuntimeError("escaped")

    store = ContextStore()
    middleware = CorrelationMiddleware(
        fail, inherited_header="X-Correlation-ID", store=store
    )
    request = factory.get(
        "/", headers={"X-Request-ID": "caller-9", "X-Correlation-ID": "corr-9"}
    )
    with pytest.raises(RuntimeError) as caught:
        middleware(request)
    two = choose_record_two_ids(None, None, caught.value)
    assert two is not None
    assert (two.inherited, two.parent) == ("corr-9", "caller-9")
    assert get_inherited_id() is None
    assert len(store) == 0


def test_process_exception_attaches_the_two_ids() -> None:
    middleware = CorrelationMiddleware(
        ok, inherited_header="X-Correlation-ID", store=ContextStore()
    )
    request = factory.get("/", headers={"X-Correlation-ID": "corr-7"})
    middleware.process_request(request)
    exc = ValueError("in the view")
    middleware.process_exception(request, exc)
    middleware.process_response(request, HttpResponse(status=500))
    two = choose_record_two_ids(None, None, exc)
    assert two is not None
    assert (two.inherited, two.parent) == ("corr-7", None)


def test_an_inherited_header_the_view_set_is_kept() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(headers={"X-Correlation-ID": "the-views-own"})

    middleware = CorrelationMiddleware(
        view, inherited_header="X-Correlation-ID", store=ContextStore()
    )
    response = middleware(factory.get("/", headers={"X-Correlation-ID": "corr-3"}))
    assert isinstance(response, HttpResponse)
    assert response["X-Correlation-ID"] == "the-views-own"


@pytest.mark.parametrize(
    ("setting", "url", "request_id", "line"),
    [
        # Strict mode's 400, and a view that returns a 404 rather than raise.
        ({"on_invalid": "reject"}, "/sync", "bad value", "Bad Request: /sync"),
        ({}, "/missing", "dj-404", "Not Found: /missing"),
        # Logged by Django with its exception, inside the chain: once.
        ({}, "/boom", "dj-500", "Internal Server Error: /boom"),
    ],
)
def test_an_error_response_is_logged_once_with_the_id_it_answers(
    setting: dict[str, str], url: str, request_id: str, line: str
) -> None:
    # Django logs a 4xx or 5xx response after the middleware chain, when
    # the ID is reset: that line must name the ID the response carries.
    seen: list[tuple[str, str]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append((record.getMessage(), record.request_id))  # type: ignore[attr-defined]

    handler = Collect()
    handler.addFilter(CorrelationIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        with override_settings(STARLETTE_CORRELATE=setting):
            reply = django_site.via_test_client(url, request_id)
    finally:
        logger.removeHandler(handler)
    assert reply.status >= 400
    if reply.status == 400:
        assert reply.headers["content-length"] == str(len(reply.body.encode()))
    assert seen == [(line, reply.headers["x-request-id"])]


def test_an_accepted_id_is_a_plain_str_header_for_wsgiref() -> None:
    # runserver's wsgiref refuses a str subclass (an accepted IncomingId)
    # as a header value with a 500; its validator checks the same.
    environ: dict[str, Any] = {
        "PATH_INFO": "/sync",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "HTTP_X_REQUEST_ID": "dj-ok",
    }
    setup_testing_defaults(environ)
    started: list[list[tuple[str, str]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
        started.append(headers)
        return lambda data: None

    app = validator(WSGIHandler())
    result: Any = app(environ, start_response)
    try:
        b"".join(result)
    finally:
        result.close()  # the validator insists on it
    assert ("X-Request-ID", "dj-ok") in started[0]
