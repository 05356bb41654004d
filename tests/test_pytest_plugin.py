"""Unit tests of the pytest plugin; this suite loads it by its entry point too."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap

import pytest

from starlette_correlate import correlation_scope, get_correlation_id
from starlette_correlate.pytest_plugin import CorrelationRecords
from tests.support.guide import tagged

pytest_plugins = ["pytester"]

OPTIONAL = (
    "django",
    "celery",
    "kombu",
    "sentry_sdk",
    "opentelemetry",
    "structlog",
    "httpx",
)

logger = logging.getLogger("tests.pytest_plugin")


def _child(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_importing_the_plugin_imports_no_optional_extra() -> None:
    code = f"""
        import sys
        import starlette_correlate.pytest_plugin
        print(sorted(name for name in {OPTIONAL!r} if name in sys.modules))
    """
    assert _child(code) == "[]"


def test_the_plugin_works_with_every_optional_extra_missing() -> None:
    code = f"""
        import sys
        for name in {(*OPTIONAL, "uuid_utils")!r}:
            sys.modules[name] = None  # importing it now raises ImportError
        import starlette_correlate.pytest_plugin as plugin
        print(plugin.correlation_id.__name__, plugin.correlation_records.__name__)
    """
    assert _child(code) == "correlation_id correlation_records"


@pytest.mark.correlation_id("unit-marked-1")
def test_the_marker_chooses_the_id(correlation_id: str) -> None:
    assert correlation_id == get_correlation_id() == "unit-marked-1"


def test_the_id_reaches_code_run_by_an_event_loop(correlation_id: str) -> None:
    async def read() -> str | None:
        await asyncio.sleep(0)
        return get_correlation_id()

    assert asyncio.run(read()) == correlation_id


def test_records_group_by_id(
    correlation_id: str, correlation_records: CorrelationRecords
) -> None:
    logger.info("under the fixture")
    with correlation_scope("job-7"):
        logger.warning("in a job")
    assert correlation_records.ids == [correlation_id, "job-7"]
    assert [r.getMessage() for r in correlation_records.with_id("job-7")] == [
        "in a job"
    ]
    correlation_records.clear()
    assert correlation_records.messages() == []


def test_set_level_lets_debug_through_and_is_undone(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_levels="""
        import logging

        ROOT_LEVEL = logging.getLogger().level

        def test_debug(correlation_records):
            logging.getLogger("lib").debug("hidden")
            correlation_records.set_level(logging.DEBUG, "lib")
            logging.getLogger("lib").debug("shown")
            assert [m for _, m in correlation_records.messages()] == ["shown"]

        def test_after():
            assert logging.getLogger("lib").level == logging.NOTSET
            assert logging.getLogger().level == ROOT_LEVEL
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_an_unsafe_marker_value_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.correlation_id("two words")
        def test_bad(correlation_id):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*'two words' is not a safe correlation ID*"])


def test_the_users_guide_recipe_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_recipe=tagged("recipe")["pytest-fixtures"])
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
