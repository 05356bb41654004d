"""Scenarios of features/core_split_phase.feature and the steps only they use.

Steps other core features share live in conftest.py.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor

from pytest_bdd import given, parsers, scenarios, then, when

from starlette_correlate import CorrelationCore, correlation_id_var, get_correlation_id
from tests.support.core_world import World

scenarios("core_split_phase.feature")


# Given ---------------------------------------------------------------------


@given("a correlation core with its own context store")
def _core(world: World) -> None:
    world.core = CorrelationCore(store=world.store)

    def release_everything() -> None:
        # A failed scenario must not leave its ID in the test's own context.
        for key in ("r1", "outer", "inner", "hop"):
            world.store.release(key)

    world.stack.callback(release_everything)


# When ----------------------------------------------------------------------


@when(
    parsers.parse('the request phase runs for request "{key}" with incoming ID "{cid}"')
)
def _request_phase(world: World, key: str, cid: str) -> None:
    assert world.core is not None
    assert world.core.request_phase(key, cid) == cid


@when(parsers.parse('the response phase runs for request "{key}"'))
@when(parsers.parse('the response phase runs for request "{key}" again'))
def _response_phase(world: World, key: str) -> None:
    assert world.core is not None
    world.phase_results.append(world.core.response_phase(key))


@when(
    parsers.parse(
        'the request phase runs in a thread\'s context for request "{key}" '
        'with incoming ID "{cid}"'
    )
)
def _request_phase_in_thread(world: World, key: str, cid: str) -> None:
    assert world.core is not None
    core = world.core
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(context.run, core.request_phase, key, cid).result() == cid
    world.contexts["request"] = context
    world.options["key"] = key


@when("the response phase runs in a copy of that context made after the request phase")
def _response_phase_in_copy(world: World) -> None:
    assert world.core is not None
    copy = world.contexts["request"].copy()
    world.contexts["response"] = copy
    try:
        world.phase_results.append(
            copy.run(world.core.response_phase, world.options["key"])
        )
    except Exception as exc:
        world.error = exc


@when(
    parsers.parse(
        'the response phase runs in a fresh context that holds the ID "{cid}"'
    )
)
def _response_phase_in_other(world: World, cid: str) -> None:
    assert world.core is not None
    other = contextvars.Context()
    other.run(correlation_id_var.set, cid)
    world.contexts["response"] = other
    try:
        world.phase_results.append(
            other.run(world.core.response_phase, world.options["key"])
        )
    except Exception as exc:
        world.error = exc


# Then ----------------------------------------------------------------------


@then(parsers.parse('the current correlation ID is "{cid}"'))
def _current_is(cid: str) -> None:
    assert get_correlation_id() == cid


@then("the current correlation ID is unset")
def _current_unset() -> None:
    assert get_correlation_id() is None


@then(parsers.parse("the store holds {count:d} entry"))
@then(parsers.parse("the store holds {count:d} entries"))
def _store_holds(world: World, count: int) -> None:
    assert len(world.store) == count


@then("the second response phase reports nothing to reset")
def _second_phase(world: World) -> None:
    assert world.phase_results == [True, False]


@then("the response phase reports nothing to reset")
def _phase_nothing(world: World) -> None:
    assert world.phase_results == [False]


@then("no error reached the host")
def _no_error(world: World) -> None:
    assert world.error is None
    assert world.phase_results == [True]


@then("the copy's correlation ID is unset")
def _copy_unset(world: World) -> None:
    assert world.contexts["response"].get(correlation_id_var) is None


@then(parsers.parse('that context\'s correlation ID is still "{cid}"'))
def _other_untouched(world: World, cid: str) -> None:
    assert world.contexts["response"].get(correlation_id_var) == cid
