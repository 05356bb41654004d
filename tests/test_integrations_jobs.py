"""The rules the job-queue integrations share: carrying, entering, stamping."""

from __future__ import annotations

import contextvars
import logging
from typing import Any

import pytest

from starlette_correlate import (
    correlation_id_var,
    get_correlation_id,
    get_inherited_id,
    get_parent_id,
    is_safe_id,
)
from starlette_correlate.context import correlation_header_var
from starlette_correlate.fields import bind_fields, get_fields
from starlette_correlate.integrations._outbound import add_outbound_headers
from starlette_correlate.integrations.jobs import (
    HEADER_NAME_KEY,
    ID_KEY,
    INHERITED_HEADER_KEY,
    INHERITED_KEY,
    PARENT_KEY,
    JobFilter,
    enter_job,
    job_generator,
    job_id_var,
    job_parent_id_var,
    stamp_carrier,
)
from starlette_correlate.scope import correlation_scope
from starlette_correlate.store import ContextStore
from tests.support.two_ids import two_ids_set


def test_nothing_is_carried_outside_requests_and_jobs() -> None:
    carrier: dict[str, object] = {}
    stamp_carrier(carrier, None)
    assert carrier == {}


def test_a_carried_value_the_caller_set_wins() -> None:
    carrier: dict[str, object] = {ID_KEY: "given", PARENT_KEY: "given-parent"}
    with correlation_scope("current"):
        stamp_carrier(carrier, "running")
    assert carrier == {ID_KEY: "given", PARENT_KEY: "given-parent"}


def test_the_header_name_is_carried_only_when_set() -> None:
    carrier: dict[str, object] = {}
    with correlation_scope("current"):
        token = correlation_header_var.set("X-Correlation-ID")
        try:
            stamp_carrier(carrier, None)
        finally:
            correlation_header_var.reset(token)
    assert carrier == {ID_KEY: "current", HEADER_NAME_KEY: "X-Correlation-ID"}


def run_job(carried: dict[str, object], **options: Any) -> tuple[Any, ...]:
    """Enter a job in a fresh context; return what it saw, and what was left."""
    store = ContextStore()

    def job() -> tuple[Any, ...]:
        enter_job(store, "k", carried, **options)
        bind_fields(user_id="u-1")
        seen = (
            correlation_id_var.get(),
            job_parent_id_var.get(),
            job_id_var.get(),
            correlation_header_var.get(),
        )
        store.release("k")
        left = (
            correlation_id_var.get(),
            job_parent_id_var.get(),
            job_id_var.get(),
            correlation_header_var.get(),
            dict(get_fields()),
            len(store),
        )
        return seen, left

    result: tuple[Any, ...] = contextvars.copy_context().run(job)
    return result


def test_a_job_sets_what_it_carried_and_leaves_nothing() -> None:
    seen, left = run_job(
        {ID_KEY: "req-1", PARENT_KEY: "job-0", HEADER_NAME_KEY: "X-Correlation-ID"},
        job_id="job-1",
        generator=None,
    )
    assert seen == ("req-1", "job-0", "job-1", "X-Correlation-ID")
    assert left == (None, None, None, None, {}, 0)


@pytest.mark.parametrize("bad", ["bad\nline", "x" * 2000, 'quote"d', 42, None, ""])
def test_unsafe_carried_values_are_dropped(bad: object) -> None:
    seen, _ = run_job(
        {ID_KEY: bad, PARENT_KEY: bad, HEADER_NAME_KEY: bad},
        job_id=bad,
        generator=lambda: "made-1",
    )
    assert seen == ("made-1", None, None, None)


@pytest.mark.parametrize(
    "bad",
    # Not a header; or one a forged payload could use to steer the worker's
    # outbound calls (Host, proxies' and auth headers).
    ["Bad Header", "x" * 300, "a\r\nb", 7, "Host", "X-Forwarded-For", "Cookie"],
)
def test_a_carried_header_name_that_is_no_header_is_ignored(bad: object) -> None:
    seen, _ = run_job(
        {ID_KEY: "req-1", HEADER_NAME_KEY: bad}, job_id="j", generator=None
    )
    assert seen[3] is None


def test_without_a_generator_a_job_with_no_id_runs_without_one() -> None:
    seen, _ = run_job({}, job_id="j", generator=None)
    assert seen[0] is None


def test_a_job_generator_is_checked_when_configured() -> None:
    with pytest.raises(ValueError, match="generate_missing=False"):
        job_generator(False, lambda: "x")
    with pytest.raises(ValueError, match="generator"):
        job_generator(True, lambda: "bad id\n")
    made = job_generator(True, None)
    assert made is not None
    assert is_safe_id(made())


def test_a_generator_that_fails_later_gives_a_uuid7() -> None:
    calls = iter(["first-ok"])

    def flaky() -> str:
        return next(calls)  # StopIteration on the second call

    generator = job_generator(True, flaky)
    assert generator is not None
    seen, _ = run_job({}, job_id="j", generator=generator)
    assert seen[0] != "first-ok"
    assert is_safe_id(seen[0])


def test_the_job_filter_stamps_both_ids_and_keeps_extra() -> None:
    stamp = JobFilter()

    def records() -> list[logging.LogRecord]:
        made = []
        for extra in ({}, {"job_id": "from-extra"}):
            record = logging.makeLogRecord(extra)
            assert stamp.filter(record)
            made.append(record)
        return made

    outside, kept = records()
    assert (outside.__dict__["job_id"], outside.__dict__["job_parent_id"]) == ("-", "-")
    assert kept.__dict__["job_id"] == "from-extra"

    def in_job() -> logging.LogRecord:
        job_id_var.set("j-1")
        job_parent_id_var.set("j-0")
        return records()[0]

    inside = contextvars.copy_context().run(in_job)
    assert (inside.__dict__["job_id"], inside.__dict__["job_parent_id"]) == (
        "j-1",
        "j-0",
    )


def test_the_job_filter_renames_leaves_out_and_refuses() -> None:
    record = logging.makeLogRecord({})
    JobFilter(job_field="job", parent_field=None, placeholder="").filter(record)
    assert record.__dict__["job"] == ""
    assert not hasattr(record, "job_parent_id")
    with pytest.raises(ValueError, match="job_field"):
        JobFilter(job_field="not a name")
    with pytest.raises(ValueError, match="nothing to stamp"):
        JobFilter(job_field=None, parent_field=None)


def test_two_ids_travel_to_the_job_and_end_with_it() -> None:
    carrier: dict[str, object] = {}
    with two_ids_set("corr-1", "caller-1"), correlation_scope("hop-1"):
        stamp_carrier(carrier, None)
    assert carrier == {
        ID_KEY: "hop-1",
        INHERITED_KEY: "corr-1",
        INHERITED_HEADER_KEY: "X-Correlation-ID",
    }
    store = ContextStore()

    def job() -> tuple[object, ...]:
        enter_job(store, "k", carrier, job_id="j-1", generator=None)
        seen = (get_correlation_id(), get_inherited_id(), get_parent_id())
        outbound: dict[str, str] = {}
        add_outbound_headers(outbound)
        store.release("k")
        return seen, outbound, get_inherited_id()

    seen, outbound, left = contextvars.copy_context().run(job)
    assert seen == ("hop-1", "corr-1", None)
    assert outbound == {"X-Request-ID": "hop-1", "X-Correlation-ID": "corr-1"}
    assert left is None


@pytest.mark.parametrize(
    "carried",
    [
        {INHERITED_KEY: "bad\nid", INHERITED_HEADER_KEY: "X-Correlation-ID"},
        {INHERITED_KEY: "corr-1", INHERITED_HEADER_KEY: "bad name"},
        {INHERITED_KEY: "corr-1"},
    ],
)
def test_an_unsafe_carried_inherited_id_or_header_is_dropped(
    carried: dict[str, object],
) -> None:
    store = ContextStore()

    def job() -> str | None:
        enter_job(store, "k", carried, job_id="j-1", generator=None)
        try:
            return get_inherited_id()
        finally:
            store.release("k")

    assert contextvars.copy_context().run(job) is None
