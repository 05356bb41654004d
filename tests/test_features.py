"""The opt-in request features: what each does to a request, and nothing when off."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from starlette_correlate import CorrelationMiddleware, from_header, get_fields
from starlette_correlate.config import CorrelationConfig
from starlette_correlate.features import RequestHeader, build_features
from tests.support.asgi import call_app, http_scope

_NAMES = (b"x-request-id", b"x-correlation-id")
_header = st.tuples(
    st.sampled_from([*_NAMES, b"X-Request-ID", b"accept", b"x-other"]),
    st.binary(max_size=20),
)


def _run(middleware: CorrelationMiddleware, scope: dict[str, Any]) -> list[Any]:
    return asyncio.run(call_app(middleware, scope))


class _Recorder:
    """An ASGI app that keeps the scope it was given and what it read then."""

    def __init__(self) -> None:
        self.scope: Scope | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.fields: dict[str, object] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.headers = list(scope["headers"])
        self.fields = dict(get_fields())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@given(st.lists(_header, max_size=8))
def test_the_rewrite_keeps_other_headers_in_order_and_the_id_once(
    headers: list[tuple[bytes, bytes]],
) -> None:
    feature = RequestHeader("X-Request-ID", ["X-Request-ID", "X-Correlation-ID"])
    rewritten = feature.rewrite(headers, "the-id")
    others = [pair for pair in headers if pair[0].lower() not in _NAMES]
    assert rewritten == [*others, (b"x-request-id", b"the-id")]


def test_the_servers_list_is_never_changed() -> None:
    app = _Recorder()
    incoming = [(b"x-request-id", b"bad value"), (b"accept", b"*/*")]
    scope = http_scope("/", headers=incoming)
    server_list = scope["headers"]
    _run(CorrelationMiddleware(app, set_request_header=True), scope)
    assert server_list == incoming
    assert app.scope is scope  # the same scope dict, for state and routing
    assert scope["headers"] is not server_list
    (chosen,) = [value for name, value in app.headers if name == b"x-request-id"]
    assert chosen != b"bad value"
    assert (b"accept", b"*/*") in app.headers


def test_a_custom_header_name_is_written_and_the_default_left_alone() -> None:
    app = _Recorder()
    headers = [(b"x-correlation-id", b"abc"), (b"x-request-id", b"other")]
    middleware = CorrelationMiddleware(
        app, header_name="X-Correlation-ID", set_request_header=True
    )
    _run(middleware, http_scope("/", headers=headers))
    assert app.headers == [(b"x-request-id", b"other"), (b"x-correlation-id", b"abc")]


def test_extractors_read_the_written_id() -> None:
    app = _Recorder()
    middleware = CorrelationMiddleware(
        app,
        set_request_header=True,
        extractors={"seen_id": from_header("X-Request-ID")},
    )
    _run(middleware, http_scope("/", headers=[(b"x-request-id", b"bad value")]))
    (chosen,) = [value for name, value in app.headers if name == b"x-request-id"]
    assert app.fields["seen_id"] == chosen.decode()


def test_off_by_default_the_app_gets_the_servers_own_list() -> None:
    app = _Recorder()
    scope = http_scope("/", headers=[(b"x-request-id", b"bad value")])
    server_list = scope["headers"]
    _run(CorrelationMiddleware(app), scope)
    assert scope["headers"] is server_list
    assert build_features(CorrelationConfig()) == (None, ())


def test_the_option_is_read_as_a_flag() -> None:
    assert CorrelationConfig(set_request_header=1).set_request_header is True  # type: ignore[arg-type]


def test_with_two_ids_the_inherited_header_is_rewritten_too() -> None:
    app = _Recorder()
    incoming = [
        (b"x-request-id", b"caller"),
        (b"x-correlation-id", b"bad value"),
        # Not ASGI's lowercase: never read, and still never passed on.
        (b"X-Correlation-ID", b"sneaky"),
    ]
    scope = http_scope("/", headers=incoming)
    middleware = CorrelationMiddleware(
        app, set_request_header=True, inherited_header="X-Correlation-ID"
    )
    _run(middleware, scope)
    (ours,) = [value for name, value in app.headers if name == b"x-request-id"]
    (inherited,) = [value for name, value in app.headers if name == b"x-correlation-id"]
    # A refused inherited value is replaced: it starts here, as this hop's ID.
    assert ours != b"caller"
    assert inherited == ours
