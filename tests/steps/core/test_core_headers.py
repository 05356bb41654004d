"""Scenarios of features/core_headers.feature and the steps only they use.

Steps other core features share live in conftest.py.
"""

from __future__ import annotations

import ast
import asyncio
import re

from pytest_bdd import parsers, scenarios, then, when
from starlette.types import Receive, Scope, Send

from starlette_correlate import CorrelationMiddleware
from tests.support.asgi import call_app, http_scope
from tests.support.core_world import World, raw_request, send_request, take_messages

scenarios("core_headers.feature")


# Given ---------------------------------------------------------------------


# When ----------------------------------------------------------------------


@when(parsers.parse('a client sends GET "{path}" with header "{name}" "{value}"'))
def _send_with_header(world: World, path: str, name: str, value: str) -> None:
    send_request(world, path, {name: value})


@when(parsers.parse("the raw header X-Request-ID {value} reaches the app"))
def _raw_hostile(world: World, value: str) -> None:
    repeated = re.fullmatch(r'(\d+) times "(.)"', value)
    if repeated:
        text = repeated.group(2) * int(repeated.group(1))
    else:
        text = ast.literal_eval(value)
    world.raw_value = text.encode("latin-1")
    raw_request(world, [(b"x-request-id", world.raw_value)])


@when(parsers.parse('a raw app answers with its own header "{name}" "{value}"'))
def _raw_app_own_header(world: World, name: str, value: str) -> None:
    # Starlette lowercases the names of its responses; a raw app may not.
    async def own_header(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/plain"), (name.encode(), value.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    app = CorrelationMiddleware(own_header, store=world.store)

    async def exchange() -> None:
        take_messages(world, await call_app(app, http_scope("/")))

    asyncio.run(exchange())


@when(parsers.parse('the client {ip} sends X-Request-ID "{cid}"'))
def _from_client(world: World, ip: str, cid: str) -> None:
    world.raw_value = cid.encode()
    raw_request(world, [(b"x-request-id", cid.encode())], client=(ip, 40000))


# Then ----------------------------------------------------------------------


@then(parsers.parse('the response header X-Request-ID is not "{cid}"'))
def _header_is_not(world: World, cid: str) -> None:
    assert len(world.ids) == 1
    assert world.ids[0] != cid


@then(parsers.parse("the response has {count:d} set-cookie headers"))
def _cookies(world: World, count: int) -> None:
    assert len([1 for name, _ in world.headers if name == "set-cookie"]) == count


@then(parsers.parse("the response has exactly {count:d} X-Request-ID header"))
def _id_header_count(world: World, count: int) -> None:
    assert len(world.ids) == count
