"""Steps for features/integrations_pytest_plugin.feature, run through pytester."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

pytest_plugins = ["pytester"]

scenarios("integrations_pytest_plugin.feature")

LOGS_UNDER_FIXTURE = """
import logging

def test_logged(correlation_id, correlation_records):
    logging.getLogger("users.app").info("order placed")
    assert correlation_records.ids == [correlation_id]
    print("FIXTURE", correlation_id)
    for cid, message in correlation_records.messages():
        print("RECORD", cid, message)
"""

MARKED = """
import logging
import pytest
from starlette_correlate import get_correlation_id

@pytest.mark.correlation_id("order-42")
def test_marked(correlation_id, correlation_records):
    assert get_correlation_id() == correlation_id == "order-42"
    logging.getLogger("users.app").info("marked")
    for cid, message in correlation_records.messages():
        print("RECORD", cid, message)
"""

BEFORE_UNDER_NEXT = """
import logging
import pytest
from starlette_correlate import get_correlation_id

logger = logging.getLogger("users.app")

@pytest.fixture
def logged_before(correlation_records):
    logger.info("before the ID")
    return correlation_records

def test_first(logged_before, correlation_id):
    logger.info("under the ID")
    print("FIXTURE", correlation_id)
    print("IDS", " ".join(logged_before.ids))

def test_second():
    print("NEXT", get_correlation_id())
"""

WRONG = """
import logging

def test_wrong(correlation_id, correlation_records):
    logging.getLogger("users.app").info("order placed")
    assert correlation_records.ids == ["some-other-id"]
"""

SOURCES = {
    "that logs a line under the correlation_id fixture": LOGS_UNDER_FIXTURE,
    'with a test marked with correlation ID "order-42"': MARKED,
    "that logs before the ID, under it, and in the next test": BEFORE_UNDER_NEXT,
    "that expects the wrong ID in its captured record": WRONG,
}


@dataclass
class Run:
    outcomes: dict[str, int]
    lines: list[str]

    def values(self, label: str) -> list[str]:
        # pytest prints the file name and progress dots on the same line.
        pattern = re.compile(rf"\b{label} (.*)$")
        return [m.group(1) for m in map(pattern.search, self.lines) if m]


@pytest.fixture
def run_holder() -> list[Run]:
    return []


@given(parsers.re(r"a user's test file (?P<which>.+)"))
def user_file(pytester: pytest.Pytester, which: str) -> None:
    pytester.makepyfile(test_users=textwrap.dedent(SOURCES[which]))


@when("pytest runs the user's tests")
def run_in_process(pytester: pytest.Pytester, run_holder: list[Run]) -> None:
    result = pytester.runpytest("-s", "-p", "no:cacheprovider")
    run_holder.append(Run(result.parseoutcomes(), result.outlines))


@when("pytest runs the user's tests in a separate process")
def run_in_subprocess(pytester: pytest.Pytester, run_holder: list[Run]) -> None:
    # No -p option: the plugin must arrive through its entry point, as it
    # does in a user's project.
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    run_holder.append(Run(result.parseoutcomes(), result.outlines))


@then(parsers.parse("the user's tests passed: {count:d}"))
def passed(run_holder: list[Run], count: int) -> None:
    (run,) = run_holder
    assert run.outcomes == {"passed": count}, run.lines


@then(parsers.parse("the user's tests failed: {count:d}"))
def failed(run_holder: list[Run], count: int) -> None:
    (run,) = run_holder
    assert run.outcomes == {"failed": count}, run.lines


@then("the captured record carried the fixture's ID")
def record_has_fixture_id(run_holder: list[Run]) -> None:
    (run,) = run_holder
    (fixture_id,) = run.values("FIXTURE")
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", fixture_id
    )
    assert run.values("RECORD") == [f"{fixture_id} order placed"]


@then(parsers.parse('the captured record carried "{expected}"'))
def record_has(run_holder: list[Run], expected: str) -> None:
    (run,) = run_holder
    assert run.values("RECORD") == [f"{expected} marked"]


@then(
    parsers.parse(
        'the captured IDs of the first test were "{placeholder}" then the fixture\'s ID'
    )
)
def first_ids(run_holder: list[Run], placeholder: str) -> None:
    (run,) = run_holder
    (fixture_id,) = run.values("FIXTURE")
    assert run.values("IDS") == [f"{placeholder} {fixture_id}"]


@then("the second test saw no correlation ID")
def second_none(run_holder: list[Run]) -> None:
    (run,) = run_holder
    assert run.values("NEXT") == ["None"]
