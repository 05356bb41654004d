"""Scenarios of features/core_errors.feature and the steps only they use.

Steps other core features share live in conftest.py.
"""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then, when
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from tests.support.core_world import World, send_request

scenarios("core_errors.feature")


# Given ---------------------------------------------------------------------


@given("the probe app with a custom error response")
def _with_custom_error(world: World) -> None:
    def custom(
        request: Request, exc: Exception, correlation_id: str
    ) -> PlainTextResponse:
        return PlainTextResponse(
            f"custom failure for {correlation_id}", status_code=500
        )

    world.options["error_response"] = custom
    world.build()


@given("the probe app in debug mode")
def _debug_app(world: World) -> None:
    world.build().debug = True


# When ----------------------------------------------------------------------


@when(parsers.parse('a client that raises app exceptions sends GET "{path}"'))
def _send_raising(world: World, path: str) -> None:
    send_request(world, path, {}, raise_exceptions=True)


# Then ----------------------------------------------------------------------


@then(
    parsers.re(
        r'the response body mentions "(?P<text>[^"]+)" (?P<count>\d+) times or more'
    )
)
def _mentions_at_least(world: World, text: str, count: str) -> None:
    assert world.body.decode().count(text) >= int(count)


@then("the response asks the client to close the connection")
def _connection_close(world: World) -> None:
    assert ("connection", "close") in world.headers


@then("exactly one captured record has a traceback")
def _one_traceback(world: World) -> None:
    assert world.handler is not None
    assert len([r for r in world.handler.records if r.exc_info]) == 1


@then(parsers.parse('the client sees the RuntimeError "{message}"'))
def _client_error(world: World, message: str) -> None:
    assert isinstance(world.error, RuntimeError)
    assert str(world.error) == message
