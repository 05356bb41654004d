"""The safety check, validators and generators of ids.py."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from starlette_correlate import ContextStore, CorrelationMiddleware, correlation_id_var
from starlette_correlate.ids import (
    checked_generator,
    default_generator,
    is_safe_id,
    is_uuid,
    uuid4_hex,
    uuid7,
)
from tests.support.asgi import call_app, http_scope

SAFE_ALPHABET = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"\\')


@given(st.text(alphabet=SAFE_ALPHABET, min_size=1, max_size=128))
def test_printable_ascii_without_space_or_quotes_is_safe(value: str) -> None:
    assert is_safe_id(value)


@given(st.text(max_size=300))
def test_every_safe_id_can_go_into_a_header_and_a_quoted_log_field(value: str) -> None:
    if is_safe_id(value):
        assert 1 <= len(value) <= 128
        assert value.encode("ascii").decode("latin-1") == value
        assert not set(value) & {" ", '"', "\\", "\r", "\n", "\x00", "\t", "\x7f"}


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "a b",
        "a\tb",
        "a\r\nb",
        "a\x00b",
        "caf\u00e9",
        "a\x7fb",
        'a"b',
        "a\\b",
        "x" * 129,
    ],
)
def test_unsafe_values_are_refused(value: str) -> None:
    assert not is_safe_id(value)


def test_max_length_is_respected() -> None:
    assert is_safe_id("x" * 10, max_length=10)
    assert not is_safe_id("x" * 11, max_length=10)


def test_uuid7_is_a_version_7_rfc_uuid_and_sorts_by_time() -> None:
    values = [uuid7() for _ in range(2000)]
    parsed = [uuid.UUID(v) for v in values]
    assert {p.version for p in parsed} == {7}
    assert {p.variant for p in parsed} == {uuid.RFC_4122}
    assert len(set(values)) == len(values)
    milliseconds = [p.int >> 80 for p in parsed]
    assert milliseconds == sorted(milliseconds)
    assert all(is_safe_id(v) for v in values)


def test_default_generator_makes_distinct_uuid7s() -> None:
    values = {default_generator() for _ in range(1000)}
    assert len(values) == 1000
    assert {uuid.UUID(v).version for v in values} == {7}


def test_uuid4_hex_is_32_hex_digits() -> None:
    value = uuid4_hex()
    assert len(value) == 32
    assert uuid.UUID(value).version == 4


def test_is_uuid_accepts_canonical_uuids_only() -> None:
    assert is_uuid(str(uuid.uuid4()))
    assert is_uuid(uuid7().upper())
    assert not is_uuid(uuid.uuid4().hex)
    assert not is_uuid("{" + str(uuid.uuid4())[1:] + "}")
    assert not is_uuid("z" * 36)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_end)
        os.write(write_end, ",".join(uuid7() for _ in range(50)).encode())
        os._exit(0)
    os.close(write_end)
    parent = {uuid7()[14:] for _ in range(50)}
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    child = {value[14:] for value in b"".join(chunks).decode().split(",")}
    assert len(child) == 50
    assert not parent & child


def test_a_checked_generator_that_raises_later_gives_a_uuid7(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers = iter(["job-1"])
    make = checked_generator(lambda: next(answers))  # the second call raises
    with caplog.at_level(logging.WARNING, logger="starlette_correlate"):
        made = make()
    assert uuid.UUID(made).version == 7
    assert "generator raised" in caplog.text


def test_a_generator_that_turns_unsafe_later_falls_back_to_uuid7() -> None:
    answers = iter(["first-ok", "id\u2603"])
    store = ContextStore()
    middleware = CorrelationMiddleware(
        _ok, generator=lambda: next(answers), store=store
    )

    async def exchange() -> tuple[list[Message], str | None]:
        sent = await call_app(middleware, http_scope("/"))
        return sent, correlation_id_var.get()

    sent, after = asyncio.run(exchange())
    chosen = dict(sent[0]["headers"])[b"x-request-id"].decode()
    assert chosen != "id\u2603"
    assert len(chosen) == 36
    assert after is None
    assert len(store) == 0


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def test_a_uuid7_is_still_accepted_after_the_changes() -> None:
    async def handler(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", handler)])
    app.add_middleware(CorrelationMiddleware)
    cid = uuid7()

    async def exchange() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return (await c.get("/", headers={"X-Request-ID": cid})).headers[
                "x-request-id"
            ]

    assert asyncio.run(exchange()) == cid
