"""Steps for features/integrations_django.feature: the Django middleware."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.importorskip("django", reason="needs Django: starlette-correlate[django]")

from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished
from django.test import override_settings
from pytest_bdd import given, parsers, scenarios, then, when

from starlette_correlate import (
    ContextStore,
    get_correlation_id,
    get_inherited_id,
    is_uuid,
)
from starlette_correlate.logs import CorrelationIdFilter
from tests.support import django_site
from tests.support.django_site import Reply

scenarios("integrations_django.feature")

CLIENTS = "test client|async test client|WSGI handler|ASGI handler"

django_site.configure()


class ListHandler(logging.Handler):
    """Keep every record, stamped by the correlation filter."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(CorrelationIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def stamped(record: logging.LogRecord) -> str:
    """Return the ID the correlation filter stamped on ``record``."""
    return str(record.__dict__["request_id"])


@dataclass
class World:
    store: ContextStore
    logs: ListHandler
    options: dict[str, Any] = field(default_factory=dict)
    middleware: list[str] = field(default_factory=lambda: [django_site.MIDDLEWARE_PATH])
    replies: list[Reply] = field(default_factory=list)
    at_finish: list[tuple[int, str | None]] = field(default_factory=list)
    failure: BaseException | None = None

    @property
    def reply(self) -> Reply:
        assert len(self.replies) == 1
        return self.replies[0]

    def view_records(self) -> list[logging.LogRecord]:
        return [r for r in self.logs.records if r.name == django_site.view_logger.name]


@pytest.fixture
def world() -> Iterator[World]:
    handler = ListHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    # The store reports a foreign-context reset at DEBUG; let it through.
    library = logging.getLogger("starlette_correlate")
    level = library.level
    library.setLevel(logging.DEBUG)
    world = World(store=ContextStore(), logs=handler)

    def on_finished(sender: object, **kwargs: object) -> None:
        world.at_finish.append((len(world.store), get_correlation_id()))

    request_finished.connect(on_finished, weak=False)
    django_site.sightings.rows.clear()
    try:
        yield world
    finally:
        request_finished.disconnect(on_finished)
        root.removeHandler(handler)
        library.setLevel(level)
    assert get_correlation_id() is None


@given("a Django site with the correlation middleware")
def site(world: World) -> None:
    world.options["store"] = world.store


@given(parsers.parse('the middleware trusts only "{network}"'))
def trusts_only(world: World, network: str) -> None:
    world.options["trusted_sources"] = [network]


@given("a sync-only middleware sits inside the correlation middleware")
def sync_only_inside(world: World) -> None:
    world.middleware.append(django_site.SYNC_ONLY_PATH)


@given("the middleware rejects refused IDs")
def rejects(world: World) -> None:
    world.options["on_invalid"] = "reject"


@given("the middleware writes the ID into the request's headers")
def writes_request_header(world: World) -> None:
    world.options["set_request_header"] = True


@given(parsers.parse('the middleware keeps an inherited ID in "{header}"'))
def keeps_inherited(world: World, header: str) -> None:
    world.options["inherited_header"] = header


def _request(
    world: World,
    client: str,
    url: str,
    request_id: str | None,
    extra: dict[str, str] | None = None,
) -> Reply:
    with override_settings(
        MIDDLEWARE=world.middleware, STARLETTE_CORRELATE=world.options
    ):
        if client == "test client":
            return django_site.via_test_client(url, request_id, extra)
        if client == "async test client":
            return asyncio.run(django_site.via_async_client(url, request_id, extra))
        if client == "WSGI handler":
            return django_site.via_wsgi(WSGIHandler(), url, request_id, extra)
        assert client == "ASGI handler"
        handler = ASGIHandler()
        return asyncio.run(django_site.via_asgi(handler, url, request_id, extra))


@when(
    parsers.re(
        rf"the (?P<client>{CLIENTS}) requests the "
        r'(?P<kind>\w+) view with X-Request-ID "(?P<request_id>[^"]*)"'
    )
)
def request_with_id(world: World, client: str, kind: str, request_id: str) -> None:
    url = {"failing": "/boom", "streaming": "/stream"}.get(kind, f"/{kind}")
    try:
        world.replies.append(_request(world, client, url, request_id))
    except Exception as exc:
        world.failure = exc
        raise


@when(
    parsers.re(
        rf"the (?P<client>{CLIENTS}) requests the ids view with "
        r'X-Request-ID "(?P<request_id>[^"]*)" and '
        r'X-Correlation-ID "(?P<inherited>[^"]*)"'
    )
)
def request_with_two(
    world: World, client: str, request_id: str, inherited: str
) -> None:
    world.replies.append(
        _request(world, client, "/ids", request_id, {"X-Correlation-ID": inherited})
    )


@when(
    parsers.re(
        rf"the (?P<client>{CLIENTS}) requests the "
        r"(?P<kind>\w+) view without an X-Request-ID"
    )
)
def request_without_id(world: World, client: str, kind: str) -> None:
    world.replies.append(_request(world, client, f"/{kind}", None))


@when(
    parsers.parse(
        "the ASGI handler serves {count:d} concurrent requests with distinct IDs"
    )
)
def concurrent(world: World, count: int) -> None:
    async def all_at_once() -> list[Reply]:
        handler = ASGIHandler()
        return list(
            await asyncio.gather(
                *(
                    django_site.via_asgi(handler, "/async", f"dj-many-{n}")
                    for n in range(count)
                )
            )
        )

    with override_settings(
        MIDDLEWARE=world.middleware, STARLETTE_CORRELATE=world.options
    ):
        world.replies.extend(asyncio.run(all_at_once()))


@then(parsers.parse("the response status is {status:d}"))
def status_is(world: World, status: int) -> None:
    assert world.reply.status == status


@then(parsers.re(r'the response header (?P<name>[\w-]+) is "(?P<expected>[^"]*)"'))
def header_is(world: World, name: str, expected: str) -> None:
    assert world.reply.headers[name.lower()] == expected


@then("the response header X-Correlation-ID is the response header's X-Request-ID")
def inherited_header_is_hop(world: World) -> None:
    headers = world.reply.headers
    assert headers["x-correlation-id"] == headers["x-request-id"]


@then(
    parsers.parse(
        'the JSON body names the response header\'s ID and the reason "{reason}"'
    )
)
def body_names(world: World, reason: str) -> None:
    reply = world.reply
    assert reply.headers["content-type"] == "application/json"
    assert json.loads(reply.body) == {
        "detail": "the incoming correlation ID was refused",
        "reason": reason,
        "request_id": reply.headers["x-request-id"],
    }


@then(parsers.parse('no response carries "{text}"'))
def no_response_carries(world: World, text: str) -> None:
    for reply in world.replies:
        assert text not in reply.body
        assert all(text not in value for value in reply.headers.values())


@then("the view was not called")
def view_not_called(world: World) -> None:
    assert django_site.sightings.rows == []


@then(
    "the view read the response header's ID in request.headers and request.META, once"
)
def view_read_header(world: World) -> None:
    chosen = world.reply.headers["x-request-id"]
    seen = json.loads(world.reply.body)
    assert seen["current"] == chosen
    assert seen["header"] == chosen
    assert seen["meta"] == [["x-request-id", chosen]]


@then(
    parsers.parse(
        'the view saw inherited "{inherited}" and parent "{parent}" '
        "on the request and in the context"
    )
)
def view_saw_two(world: World, inherited: str, parent: str) -> None:
    seen = json.loads(world.reply.body)
    assert seen["current"] == world.reply.headers["x-request-id"]
    assert (seen["inherited"], seen["parent"]) == (inherited, parent)
    assert (seen["inherited_var"], seen["parent_var"]) == (inherited, parent)


@then("no two IDs are set afterwards")
def no_two_after(world: World) -> None:
    assert get_inherited_id() is None


@then("the response header X-Request-ID is a UUIDv7")
def header_is_uuid7(world: World) -> None:
    value = world.reply.headers["x-request-id"]
    assert is_uuid(value)
    assert value[14] == "7"


@then(parsers.parse('the view saw "{expected}" as the current ID and on the request'))
def view_saw(world: World, expected: str) -> None:
    assert [(cid, on_request) for _, cid, on_request in django_site.sightings.rows] == [
        (expected, expected)
    ]


@then(parsers.parse('the view\'s log line carries "{expected}"'))
def view_log_carries(world: World, expected: str) -> None:
    assert [stamped(r) for r in world.view_records()] == [expected]


@then("the view's log line carries the ID of the response header")
def view_log_carries_header(world: World) -> None:
    header = world.reply.headers["x-request-id"]
    assert [stamped(r) for r in world.view_records()] == [header]


@then(parsers.parse('no log line contains "{text}"'))
def no_log_contains(world: World, text: str) -> None:
    for record in world.logs.records:
        assert text not in record.getMessage()
        assert text not in str(record.__dict__.get("request_id"))


@then(parsers.parse('the error log record with the traceback carries "{expected}"'))
def error_record_carries(world: World, expected: str) -> None:
    errors = [
        r for r in world.logs.records if r.exc_info and r.levelno >= logging.ERROR
    ]
    assert [r.name for r in errors] == ["django.request"]
    assert stamped(errors[0]) == expected


@then(parsers.parse('every chunk of the body names "{expected}"'))
def chunks_name(world: World, expected: str) -> None:
    lines = world.reply.body.splitlines()
    assert lines == [f"chunk {n} {expected}" for n in range(3)]
    assert world.reply.headers["x-request-id"] == expected


@then("the context store was empty when request_finished was sent")
def empty_at_finish(world: World) -> None:
    assert world.at_finish
    assert all(size == 0 for size, _ in world.at_finish)


@then("the response phase ran in another context than the request phase")
def foreign_reset(world: World) -> None:
    messages = [r.getMessage() for r in world.logs.records]
    assert "context store: reset from a foreign context" in messages


@then("no error reached the host")
def no_error(world: World) -> None:
    assert world.failure is None
    assert world.reply.status == 200
    assert not [r for r in world.logs.records if r.levelno >= logging.WARNING]


@then("no correlation ID is set afterwards")
def nothing_afterwards(world: World) -> None:
    assert [reply.id_after for reply in world.replies] == [None] * len(world.replies)
    assert get_correlation_id() is None


@then("the context store is empty")
def store_empty(world: World) -> None:
    assert len(world.store) == 0


@then("each response header and each view's log line carry that request's own ID")
def each_own(world: World) -> None:
    sent = sorted(reply.headers["x-request-id"] for reply in world.replies)
    assert sent == sorted(f"dj-many-{n}" for n in range(len(world.replies)))
    for reply in world.replies:
        assert reply.body == reply.headers["x-request-id"]
    logged = sorted(stamped(r) for r in world.view_records())
    assert logged == sent
    seen = sorted(str(cid) for view, cid, on_request in django_site.sightings.rows)
    assert seen == sent
    assert all(re.fullmatch(r"dj-many-\d+", s) for s in seen)
