"""Steps for features/context_extractors.feature: extractors and the resolver."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from starlette_correlate import CorrelationIdFilter, CorrelationMiddleware
from starlette_correlate.extract import from_cookie, from_header, from_query
from starlette_correlate.fields import fields_var, get_fields
from starlette_correlate.logs import KeyValueFormatter

scenarios("context_extractors.feature")

handler_logger = logging.getLogger("tests.extractors")


def unescape(text: str) -> str:
    """Turn the feature's ``\\xNN``, ``\\n`` and ``\\"`` into the characters."""
    return re.sub(
        r'\\(x[0-9a-f]{2}|n|")',
        lambda m: {"n": "\n", '"': '"'}.get(m[1]) or chr(int(m[1][1:], 16)),
        text,
    )


def render(fields: Mapping[str, str]) -> str:
    return " ".join(f"{key}={value}" for key, value in sorted(fields.items()))


class LineCollector(logging.Handler):
    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world

    def emit(self, record: logging.LogRecord) -> None:
        self.world.records.append(record)
        self.world.lines.append(self.format(record))


@dataclass
class World:
    options: dict[str, Any] = field(default_factory=dict)
    extractors: dict[str, Any] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    status: int | None = None
    records: list[logging.LogRecord] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def warnings(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno == logging.WARNING]


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    collector = LineCollector(world)
    collector.addFilter(CorrelationIdFilter())
    collector.setFormatter(KeyValueFormatter(timestamp=False))
    loggers = [logging.getLogger("starlette_correlate"), handler_logger]
    for logger in loggers:
        logger.addHandler(collector)
    handler_logger.setLevel(logging.INFO)
    token = fields_var.set(None)
    try:
        yield world
    finally:
        fields_var.reset(token)
        for logger in loggers:
            logger.removeHandler(collector)


def build_app(world: World) -> Starlette:
    async def handler(request: Request) -> JSONResponse:
        world.seen.append(render(get_fields()))
        handler_logger.info("handled")
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/", handler)])
    app.add_middleware(
        CorrelationMiddleware, extractors=world.extractors, **world.options
    )
    return app


@given("the middleware extracts session_id, tenant and theme")
def standard_extractors(world: World) -> None:
    world.extractors.update(
        session_id=from_header("X-Session-ID"),
        tenant=from_query("tenant"),
        theme=from_cookie("theme"),
    )


@given("the tenant extractor raises")
def tenant_raises(world: World) -> None:
    def broken(request: HTTPConnection) -> str | None:
        raise KeyError("secret-tenant-value")

    world.extractors["tenant"] = broken


@given(parsers.parse('a resolver that finds user "{user}" for session "{session}"'))
def finding_resolver(world: World, user: str, session: str) -> None:
    async def resolver(
        request: HTTPConnection, fields: Mapping[str, str]
    ) -> dict[str, str]:
        await asyncio.sleep(0)
        found = fields.get("session_id") == session
        return {"user_id": unescape(user)} if found else {}

    world.options["resolver"] = resolver


@given("a resolver that raises")
def raising_resolver(world: World) -> None:
    async def resolver(
        request: HTTPConnection, fields: Mapping[str, str]
    ) -> dict[str, str]:
        raise ConnectionError("session store down")

    world.options["resolver"] = resolver


@given(
    parsers.parse(
        "a resolver that never answers, with a time-out of {seconds:f} seconds"
    )
)
def slow_resolver(world: World, seconds: float) -> None:
    async def resolver(
        request: HTTPConnection, fields: Mapping[str, str]
    ) -> dict[str, str]:
        await asyncio.Event().wait()
        return {"user_id": "never"}

    world.options.update(resolver=resolver, resolver_timeout=seconds)


def send(world: World, headers: dict[str, str], params: dict[str, str]) -> None:
    app = build_app(world)

    async def go() -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as client:
            response = await client.get("/", headers=headers, params=params)
        world.status = response.status_code
        world.after.append(render(get_fields()))

    asyncio.run(go())


@when(
    parsers.parse(
        'a request arrives with session "{session}", tenant "{tenant}" '
        'and theme "{theme}"'
    )
)
def request_all(world: World, session: str, tenant: str, theme: str) -> None:
    send(
        world,
        {"X-Session-ID": session, "Cookie": f"theme={theme}"},
        {"tenant": tenant},
    )


@when(parsers.parse('a request arrives with session "{session}"'))
def request_session(world: World, session: str) -> None:
    send(world, {"X-Session-ID": unescape(session)}, {})


@given("it extracts the user agent and the forwarded chain")
def agent_and_chain(world: World) -> None:
    world.extractors.update(
        agent=from_header("User-Agent"), forwarded=from_header("X-Forwarded-For")
    )


@when(
    parsers.parse(
        'a request arrives with session "{session}", tenant "{tenant}", '
        'user agent "{agent}" and forwarded chain "{chain}"'
    )
)
def request_agent(
    world: World, session: str, tenant: str, agent: str, chain: str
) -> None:
    send(
        world,
        {"X-Session-ID": session, "User-Agent": agent, "X-Forwarded-For": chain},
        {"tenant": tenant},
    )


@then(parsers.parse("the response status is {status:d}"))
def response_status(world: World, status: int) -> None:
    assert world.status == status


@then(parsers.parse('the handler saw "{expected}"'))
def handler_saw(world: World, expected: str) -> None:
    assert world.seen == [expected]


@then("the handler saw no fields")
def handler_saw_none(world: World) -> None:
    assert world.seen == [""]


@then("no warning was logged")
def no_warning(world: World) -> None:
    assert world.warnings() == []


@then("no fields are bound afterwards")
def none_after(world: World) -> None:
    assert world.after == [""]


@then(parsers.parse('one warning was logged, naming "{word}"'))
def one_warning(world: World, word: str) -> None:
    [warning] = world.warnings()
    assert word in warning.getMessage()
    assert "secret-tenant-value" not in warning.getMessage()
    # Logged inside the request: the line names the request's ID.
    assert getattr(warning, "request_id", "-") != "-"


@then(parsers.parse('no log line contains "{text}"'))
def no_line_contains(world: World, text: str) -> None:
    assert world.lines
    assert not any(text in line for line in world.lines)


@then(parsers.parse('the handler\'s log line has "{first}" and "{second}"'))
def handler_line_has(world: World, first: str, second: str) -> None:
    [line] = [line for line in world.lines if 'message="handled"' in line]
    assert first in line.split()
    assert second in line.split()


def _not_callable() -> Any:
    return "X-Session-ID"


CONFIGURATIONS: dict[str, dict[str, Any]] = {
    'a field named "message"': {"extractors": {"message": from_header("X-A")}},
    'a field named "not a name"': {"extractors": {"not a name": from_header("X-A")}},
    "an extractor that is not callable": {
        "extractors": {"session_id": _not_callable()}
    },
    "a resolver that is not callable": {"resolver": 42},
    "a resolver time-out of 0": {"resolver_timeout": 0},
}


@then(parsers.parse('configuring {option} fails with a {error} naming "{hint}"'))
def bad_configuration(world: World, option: str, error: str, hint: str) -> None:
    expected = {"ValueError": ValueError, "TypeError": TypeError}[error]

    async def noop(scope: Any, receive: Any, send: Any) -> None:
        return None

    with pytest.raises(expected) as caught:
        CorrelationMiddleware(noop, **CONFIGURATIONS[option])
    assert hint in str(caught.value)
