"""Two IDs: the rule's verdicts turned into this hop's ID, the inherited and parent."""

from __future__ import annotations

import asyncio
import contextvars
import itertools

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from starlette_correlate import (
    CorrelationCore,
    CorrelationMiddleware,
    Refusal,
    get_correlation_id,
    get_inherited_id,
    get_parent_id,
    is_uuid,
)
from starlette_correlate.fields import fields_in_use
from starlette_correlate.provenance import refusal_of, source_of
from starlette_correlate.two_ids import (
    TwoIds,
    TwoIdsRule,
    set_two_ids,
    two_ids_in_use,
    two_ids_var,
)
from tests.support.asgi import call_app, http_scope

TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def decide(
    core: CorrelationCore,
    headers: list[tuple[bytes, bytes]],
    client: str | None = None,
    trace_id: str | None = None,
) -> tuple[str, str, Refusal | None, TwoIds]:
    """Run the core's verdict on the caller's ID, then the two-ID rule."""
    rule = core.two_ids
    assert rule is not None
    caller = core.choose(core.pick(headers, core.pick_key), client, trace_id)
    hop, two = rule.decide(headers, caller, client, trace_id)
    return hop, source_of(hop) or "", refusal_of(hop), two


def numbered() -> CorrelationCore:
    counter = itertools.count(1)
    return CorrelationCore(
        inherited_header="X-Correlation-ID", generator=lambda: f"new-{next(counter)}"
    )


def test_the_callers_id_is_the_parent_and_this_hop_gets_a_new_one() -> None:
    headers = [(b"x-request-id", b"caller"), (b"x-correlation-id", b"corr")]
    hop, source, refused, two = decide(numbered(), headers)
    assert hop.startswith("new-")
    assert (source, refused) == ("generated", None)
    assert two == TwoIds("corr", "caller", "X-Correlation-ID")
    # Plain str: the parent and the inherited carry no marker type.
    assert type(two.parent) is str
    assert type(two.inherited) is str


def test_without_headers_the_inherited_id_starts_here() -> None:
    hop, source, _, two = decide(numbered(), [])
    assert hop.startswith("new-")
    assert source == "generated"
    assert two == TwoIds(hop, None, "X-Correlation-ID")


@pytest.mark.parametrize(
    ("value", "refusal"),
    [
        (b"two words", Refusal("unsafe", 9)),
        (b"x" * 200, Refusal("too_long", 200)),
        (b"", Refusal("unsafe", 0)),
    ],
)
def test_a_refused_inherited_value_is_recorded_never_kept(
    value: bytes, refusal: Refusal
) -> None:
    headers = [(b"x-request-id", b"caller"), (b"x-correlation-id", value)]
    hop, source, refused, two = decide(numbered(), headers)
    assert (source, refused) == ("replaced", refusal)
    assert two == TwoIds(hop, "caller", "X-Correlation-ID")


def test_a_repeated_inherited_header_is_refused_as_repeated() -> None:
    headers = [(b"x-correlation-id", b"a"), (b"x-correlation-id", b"b")]
    hop, source, refused, two = decide(numbered(), headers)
    assert (source, refused) == ("replaced", Refusal("repeated", 0))
    assert two.inherited == hop


def test_the_callers_refusal_wins_over_the_inherited_one() -> None:
    headers = [(b"x-request-id", b"a b"), (b"x-correlation-id", b"c\nd")]
    hop, source, refused, two = decide(numbered(), headers)
    assert (source, refused) == ("replaced", Refusal("unsafe", 3))
    assert two == TwoIds(hop, None, "X-Correlation-ID")
    assert type(two.inherited) is str


def test_the_validator_and_trusted_sources_judge_the_inherited_id_too() -> None:
    core = CorrelationCore(
        inherited_header="X-Correlation-ID",
        validator=is_uuid,
        trusted_sources=["10.0.0.0/8"],
    )
    good = "0190f9c4-3c1f-7b6e-8a3d-5f2e1c0b9a87"
    headers = [(b"x-correlation-id", good.encode())]
    assert decide(core, headers, "10.1.2.3")[3].inherited == good
    _, _, refused, two = decide(core, [(b"x-correlation-id", b"nope")], "10.1.2.3")
    assert refused == Refusal("invalid", 4)
    assert two.inherited != "nope"
    _, _, refused, two = decide(core, headers, "192.0.2.7")
    assert refused == Refusal("untrusted", len(good))
    assert two.inherited != good


def test_an_adopted_trace_id_is_inherited_never_one_hops() -> None:
    core = CorrelationCore(inherited_header="X-Correlation-ID", adopt_trace_id=True)
    hop, source, _, two = decide(core, [], trace_id=TRACE_ID)
    assert hop != TRACE_ID
    assert source == "generated"
    assert two.inherited == TRACE_ID
    assert two.parent is None


def test_the_rule_is_built_only_when_on() -> None:
    assert CorrelationCore().two_ids is None
    rule = CorrelationCore(inherited_header="X-Correlation-ID").two_ids
    assert isinstance(rule, TwoIdsRule)
    assert rule.key == b"x-correlation-id"


def test_the_getters_and_the_in_use_flag() -> None:
    def inside() -> tuple[str | None, str | None]:
        set_two_ids(TwoIds("corr", "caller", "X-Correlation-ID"))
        return get_inherited_id(), get_parent_id()

    assert contextvars.copy_context().run(inside) == ("corr", "caller")
    assert two_ids_in_use.seen
    # The filter looks for two IDs behind the fields flag: it must be up.
    assert fields_in_use.seen
    assert (get_inherited_id(), get_parent_id()) == (None, None)


def _echo_app() -> tuple[list[tuple[str | None, ...]], ASGIApp]:
    seen: list[tuple[str | None, ...]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["state"]
        seen.append(
            (
                get_correlation_id(),
                get_inherited_id(),
                get_parent_id(),
                state["inherited_id"],
                state["parent_id"],
            )
        )
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            return
        headers = [(b"X-Correlation-ID", b"app-set")] if scope["path"] == "/own" else []
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    return seen, app


def _headers(messages: list[Message]) -> list[tuple[bytes, bytes]]:
    (start,) = [
        m for m in messages if m["type"] in ("http.response.start", "websocket.accept")
    ]
    return [(name.lower(), value) for name, value in start.get("headers", [])]


def test_the_middleware_sets_publishes_and_resets_both() -> None:
    seen, app = _echo_app()
    middleware = CorrelationMiddleware(app, inherited_header="X-Correlation-ID")
    scope = http_scope(
        "/", headers=[(b"x-request-id", b"caller"), (b"x-correlation-id", b"corr")]
    )
    messages = asyncio.run(call_app(middleware, scope))
    ((hop, inherited, parent, state_inherited, state_parent),) = seen
    assert (inherited, parent, state_inherited, state_parent) == (
        "corr",
        "caller",
        "corr",
        "caller",
    )
    assert sorted(_headers(messages)) == [
        (b"x-correlation-id", b"corr"),
        (b"x-request-id", str(hop).encode()),
    ]
    assert two_ids_var.get() is None


def test_an_inherited_header_the_app_set_is_kept() -> None:
    _, app = _echo_app()
    middleware = CorrelationMiddleware(app, inherited_header="X-Correlation-ID")
    scope = http_scope("/own", headers=[(b"x-correlation-id", b"corr")])
    messages = asyncio.run(call_app(middleware, scope))
    assert [v for n, v in _headers(messages) if n == b"x-correlation-id"] == [
        b"app-set"
    ]


def test_a_websocket_accept_carries_both() -> None:
    seen, app = _echo_app()
    middleware = CorrelationMiddleware(app, inherited_header="X-Correlation-ID")
    scope = http_scope(
        "/ws", headers=[(b"x-correlation-id", b"corr")], scope_type="websocket"
    )
    messages = asyncio.run(call_app(middleware, scope, [{"type": "websocket.connect"}]))
    names = dict(_headers(messages))
    assert names[b"x-correlation-id"] == b"corr"
    assert names[b"x-request-id"] == str(seen[0][0]).encode()
