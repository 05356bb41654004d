"""How each request's ID was chosen: the choosers' sources and refusals."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import pickle

import pytest
from starlette.types import Receive, Scope, Send

from starlette_correlate import (
    CorrelationCore,
    CorrelationIdFilter,
    CorrelationMiddleware,
    Refusal,
    get_correlation_source,
    is_uuid,
)
from starlette_correlate.core import pick_header
from starlette_correlate.logs import JsonFormatter, KeyValueFormatter
from starlette_correlate.provenance import (
    GENERATED,
    REASONS,
    REPLACED,
    SOURCES,
    IncomingId,
    chosen_id,
    refusal_of,
    source_of,
)
from tests.support.asgi import call_app, http_scope

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def chosen(
    core: CorrelationCore, raw: bytes | None, client: str | None = None
) -> tuple[str, str | None, Refusal | None]:
    """What the chooser returned, with the source and refusal its type says."""
    correlation_id = core.choose(raw, client, None)
    return correlation_id, source_of(correlation_id), refusal_of(correlation_id)


def test_the_plain_chooser_names_each_source() -> None:
    core = CorrelationCore(max_length=5, generator=lambda: "new")
    assert chosen(core, b"abc") == ("abc", "incoming", None)
    assert chosen(core, None) == ("new", "generated", None)
    assert chosen(core, b"abcdef") == (
        "new",
        "replaced",
        Refusal("too_long", 6),
    )
    assert chosen(core, b"")[2] == Refusal("unsafe", 0)
    assert chosen(core, b"a\nb")[2] == Refusal("unsafe", 3)


def test_the_checked_chooser_names_each_source() -> None:
    core = CorrelationCore(
        trusted_sources=["10.0.0.0/8"], validator=is_uuid, generator=lambda: "new"
    )
    inside, outside = "10.1.2.3", "192.0.2.7"
    assert core.decide("abc", outside).refused == Refusal("untrusted", 3)
    assert core.decide(None, outside).source == "generated"
    assert core.decide("abc", inside).refused == Refusal("invalid", 3)
    assert core.decide("a b", inside).refused == Refusal("unsafe", 3)


def test_an_adopted_trace_id_is_traceparent_and_a_refused_one_is_generated() -> None:
    adopting = CorrelationCore(adopt_trace_id=True, generator=lambda: "new")
    assert adopting.decide(None, None, TRACE_ID) == (TRACE_ID, "traceparent", None)
    assert adopting.decide("mine", None, TRACE_ID).source == "incoming"
    # A validator refusing the trace ID is not the client's ID refused.
    strict = CorrelationCore(
        adopt_trace_id=True, validator=is_uuid, generator=lambda: "new"
    )
    assert strict.decide(None, None, TRACE_ID) == ("new", "generated", None)
    short = CorrelationCore(adopt_trace_id=True, max_length=8, generator=lambda: "n")
    assert short.decide(None, None, TRACE_ID) == ("n", "generated", None)


@pytest.mark.parametrize("plain", [True, False])
def test_a_repeated_header_is_refused_as_repeated(plain: bool) -> None:
    core = (
        CorrelationCore() if plain else CorrelationCore(trusted_sources=["127.0.0.1"])
    )
    headers = [(b"x-request-id", b"one"), (b"x-request-id", b"two")]
    raw = core.pick(headers, core.pick_key)
    assert chosen(core, raw, "127.0.0.1")[1:] == (
        "replaced",
        Refusal("repeated", 0),
    )
    # The public picker still reports a repeated header as absent.
    assert pick_header(headers, (b"x-request-id",)) is None
    assert pick_header(headers, (b"x-a", b"x-request-id")) is None


def test_every_source_and_reason_is_declared() -> None:
    assert {"incoming", "generated", "replaced", "traceparent"} == SOURCES
    assert {"unsafe", "too_long", "repeated", "invalid", "untrusted"} == REASONS


def test_the_source_is_set_for_the_request_and_reset_after() -> None:
    seen: list[tuple[str | None, dict[str, object]]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((get_correlation_source(), scope["state"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = CorrelationMiddleware(app)
    scope = http_scope(headers=[(b"x-request-id", b"x" * 300)])
    asyncio.run(call_app(middleware, scope))
    source, state = seen[0]
    assert source == "replaced"
    assert state["correlation_id_source"] == "replaced"
    assert state["correlation_id_refused"] == Refusal("too_long", 300)
    assert get_correlation_source() is None


def test_the_split_phase_sets_and_resets_the_source() -> None:
    core = CorrelationCore()
    assert core.begin("k", "a b").refused == Refusal("unsafe", 3)
    assert get_correlation_source() == "replaced"
    assert core.response_phase("k")
    assert get_correlation_source() is None


def _record(**attributes: object) -> logging.LogRecord:
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "hi", None, None)
    record.__dict__.update(attributes)
    return record


def test_the_filter_writes_the_source_under_its_field_name() -> None:
    core = CorrelationCore()
    core.begin("k", None)
    try:
        record = _record()
        CorrelationIdFilter(field="trace").filter(record)
        assert record.trace_source == "generated"  # type: ignore[attr-defined]
        kept = _record(request_id_source="mine")
        CorrelationIdFilter().filter(kept)
        assert kept.request_id_source == "mine"  # type: ignore[attr-defined]
    finally:
        core.response_phase("k")
    outside = _record()
    CorrelationIdFilter(placeholder="?").filter(outside)
    assert outside.request_id_source == "?"  # type: ignore[attr-defined]


def test_both_formatters_write_the_source() -> None:
    record = _record()
    CorrelationIdFilter().filter(record)
    assert (
        json.loads(JsonFormatter(timestamp=False).format(record))["request_id_source"]
        == "-"
    )
    assert "request_id_source=-" in KeyValueFormatter(timestamp=False).format(record)


def test_the_access_line_of_a_replaced_id_names_the_reason_never_the_value() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationIdFilter())
    handler.setFormatter(KeyValueFormatter(timestamp=False))
    logger = logging.getLogger("starlette_correlate.access")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    try:
        middleware = CorrelationMiddleware(app, access_log=True)
        scope = http_scope(headers=[(b"x-request-id", b"evil value")])
        asyncio.run(call_app(middleware, scope))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    line = stream.getvalue()
    assert "request_id_source=replaced" in line
    assert "refused=unsafe" in line
    assert "refused_length=10" in line
    assert "evil" not in line


def test_a_pickled_id_is_a_plain_str_the_other_side_can_read() -> None:
    # A job queue pickles its payload (rq, arq), a SocketHandler its record:
    # the reader may not have this package, and a copy has no request.
    incoming = IncomingId(b"abc-123", "ascii")
    replaced = chosen_id("new-1", REPLACED, Refusal("unsafe", 3))
    payload = pickle.dumps({"starlette_correlate_id": incoming, "other": replaced})
    assert b"starlette_correlate.provenance" not in payload
    loaded = pickle.loads(payload)  # noqa: S301 - our own bytes
    assert loaded == {"starlette_correlate_id": "abc-123", "other": "new-1"}
    assert {type(value) for value in loaded.values()} == {str}
    assert source_of(loaded["starlette_correlate_id"]) == GENERATED


def test_a_wsgi_hosts_text_is_measured_as_the_bytes_that_came() -> None:
    # WSGI hands a header over as its bytes read as latin-1 (PEP 3333): the
    # refusal must name the length and reason an ASGI host sees.
    wire = ("a" * 126 + "é").encode()  # 128 bytes
    choice = CorrelationCore().decide(wire.decode("latin-1"))
    assert choice.refused == Refusal("unsafe", 128)
    raw = wire.decode("latin-1").encode("latin-1")
    asgi = CorrelationCore().choose(raw, None, None)
    assert refusal_of(asgi) == choice.refused
