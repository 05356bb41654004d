"""A test-only Django site: settings, URLs, views and drivers.

Django's settings are process-wide and can be configured once, so
:func:`configure` does it with ``settings.configure`` (never
``DJANGO_SETTINGS_MODULE``, which would switch on Celery's Django fix-up in
other tests) and with ``LOGGING_CONFIG = None``, so Django leaves the
logging configuration of other tests alone. Each test varies the
middleware's options with ``override_settings``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.importorskip("django", reason="needs Django: starlette-correlate[django]")

import django
import django.conf
import httpx
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.http import (
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.request import HttpHeaders
from django.test import AsyncClient, Client
from django.urls import path

from starlette_correlate import get_correlation_id, get_inherited_id, get_parent_id
from starlette_correlate.integrations.django import request_correlation_id

MIDDLEWARE_PATH = "starlette_correlate.integrations.django.CorrelationMiddleware"
SYNC_ONLY_PATH = "tests.support.django_site.SyncOnlyMiddleware"

view_logger = logging.getLogger("tests.django_site")
# The views log at INFO; the root logger's WARNING must not swallow them.
view_logger.setLevel(logging.INFO)

SETTINGS: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": "tests-only-not-secret",
    "ALLOWED_HOSTS": ["testserver", "localhost", "127.0.0.1"],
    "ROOT_URLCONF": "tests.support.django_site",
    "MIDDLEWARE": [MIDDLEWARE_PATH],
    "INSTALLED_APPS": [],
    "DATABASES": {},
    "LOGGING_CONFIG": None,
    "USE_TZ": True,
}


def configure() -> None:
    """Configure Django for this process once; later calls do nothing."""
    settings = django.conf.settings
    if not settings.configured:
        settings.configure(**SETTINGS)
        django.setup(set_prefix=False)


@dataclass
class Sightings:
    """What the views saw: (view, current ID, ID on the request) rows."""

    rows: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def record(self, view: str, request: HttpRequest) -> None:
        """Remember the IDs ``view`` sees for ``request``."""
        self.rows.append((view, get_correlation_id(), request_correlation_id(request)))


sightings = Sightings()


def sync_view(request: HttpRequest) -> HttpResponse:
    """Record and log the ID from a sync view."""
    sightings.record("sync", request)
    view_logger.info("inside the sync view")
    return HttpResponse(get_correlation_id() or "", content_type="text/plain")


async def async_view(request: HttpRequest) -> HttpResponse:
    """Record and log the ID from an async view, across an ``await``."""
    sightings.record("async", request)
    await asyncio.sleep(0)
    view_logger.info("inside the async view")
    return HttpResponse(get_correlation_id() or "", content_type="text/plain")


def failing_view(request: HttpRequest) -> HttpResponse:
    """Fail, for the 500 path."""
    sightings.record("boom", request)
    raise RuntimeError("the Django view failed")


def streaming_view(request: HttpRequest) -> StreamingHttpResponse:
    """Stream three chunks, each naming the ID current while it is made.

    An async body under ASGI and a sync one under WSGI: what each handler
    serves without a warning.
    """
    sightings.record("stream", request)

    def chunks() -> Iterator[bytes]:
        for index in range(3):
            yield f"chunk {index} {get_correlation_id()}\n".encode()

    async def async_chunks() -> AsyncIterator[bytes]:
        for index in range(3):
            await asyncio.sleep(0)
            yield f"chunk {index} {get_correlation_id()}\n".encode()

    if request.META.get("wsgi.input") is None:
        return StreamingHttpResponse(async_chunks(), content_type="text/plain")
    return StreamingHttpResponse(chunks(), content_type="text/plain")


ID_HEADERS = frozenset({"x-request-id", "x-correlation-id"})
"""The ID headers :func:`ids_view` reports, lowercased."""


def ids_view(request: HttpRequest) -> JsonResponse:
    """Report every ID the view can see: context, request, headers, ``META``.

    ``meta`` lists each ``META`` entry that is an ID header (whatever its
    key's spelling), so a test can tell one copy from two.
    """
    sightings.record("ids", request)
    meta = sorted(
        [name.lower(), str(value)]
        for key, value in request.META.items()
        if (name := HttpHeaders.parse_header_name(key)) and name.lower() in ID_HEADERS
    )
    return JsonResponse(
        {
            "current": get_correlation_id(),
            "inherited": getattr(request, "inherited_id", None),
            "parent": getattr(request, "parent_id", None),
            "inherited_var": get_inherited_id(),
            "parent_var": get_parent_id(),
            "header": request.headers.get("X-Request-ID"),
            "meta": meta,
        }
    )


class SyncOnlyMiddleware:
    """A sync-only neighbour: under ASGI it makes Django run ours in a thread."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        return self.get_response(request)


urlpatterns = [
    path("sync", sync_view),
    path("async", async_view),
    path("boom", failing_view),
    path("stream", streaming_view),
    path("ids", ids_view),
]


@dataclass
class Reply:
    """What a client got back, and the ID current in its context after."""

    status: int
    headers: Mapping[str, str]
    body: str
    id_after: str | None


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _header_kwargs(
    request_id: str | None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    headers = {} if request_id is None else {"X-Request-ID": request_id}
    return {**headers, **(extra or {})}


def via_test_client(
    url: str, request_id: str | None, extra: Mapping[str, str] | None = None
) -> Reply:
    """Request ``url`` through Django's WSGI test client, in this thread."""
    response = Client(raise_request_exception=False).get(
        url, headers=_header_kwargs(request_id, extra)
    )
    if isinstance(response, StreamingHttpResponse):
        body = b"".join(response)  # consuming closes the response
    else:
        body = response.content
    return Reply(
        response.status_code,
        _lower(response.headers),
        body.decode(),
        get_correlation_id(),
    )


async def via_async_client(
    url: str, request_id: str | None, extra: Mapping[str, str] | None = None
) -> Reply:
    """Request ``url`` through Django's async test client, in this task."""
    response = await AsyncClient(raise_request_exception=False).get(
        url, headers=_header_kwargs(request_id, extra)
    )
    if isinstance(response, StreamingHttpResponse):
        body = b"".join([chunk async for chunk in response])
    else:
        body = response.content
    id_after = get_correlation_id()
    return Reply(
        response.status_code, _lower(response.headers), body.decode(), id_after
    )


async def via_asgi(
    handler: ASGIHandler,
    url: str,
    request_id: str | None,
    extra: Mapping[str, str] | None = None,
) -> Reply:
    """Request ``url`` from Django's ASGI handler through ``httpx.ASGITransport``."""
    # Django's stubs type the ASGI callables more narrowly than httpx does.
    app: Any = handler
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver"
    ) as client:
        response = await client.get(
            "/" + url.lstrip("/"), headers=_header_kwargs(request_id, extra)
        )
        id_after = get_correlation_id()
    return Reply(
        response.status_code, _lower(response.headers), response.text, id_after
    )


def via_wsgi(
    handler: WSGIHandler,
    url: str,
    request_id: str | None,
    extra: Mapping[str, str] | None = None,
) -> Reply:
    """Request ``url`` from Django's WSGI handler through ``httpx.WSGITransport``."""
    app: Any = handler
    with httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://testserver"
    ) as client:
        response = client.get(
            "/" + url.lstrip("/"), headers=_header_kwargs(request_id, extra)
        )
    return Reply(
        response.status_code,
        _lower(response.headers),
        response.text,
        get_correlation_id(),
    )
