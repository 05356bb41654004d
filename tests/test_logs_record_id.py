"""The one rule for which ID a log record gets, whatever logging stack asks."""

from __future__ import annotations

import logging

import pytest

from starlette_correlate import CorrelationIdFilter
from starlette_correlate.errors import attach_correlation_id
from starlette_correlate.logs.record_id import (
    record_correlation_id,
    record_two_ids,
    two_id_fields,
)
from tests.support.logparse import run_with_id
from tests.support.two_ids import failed_two_id_request, two_ids_set


def failed(correlation_id: str) -> RuntimeError:
    exc = RuntimeError("late")
    attach_correlation_id(exc, correlation_id)
    return exc


def test_the_current_id_then_the_exception_s_then_none() -> None:
    exc = failed("req-exc")
    assert run_with_id("req-now", lambda: record_correlation_id(None)) == "req-now"
    assert record_correlation_id((RuntimeError, exc, None)) == "req-exc"
    assert record_correlation_id((RuntimeError, RuntimeError(), None)) is None
    assert record_correlation_id(None) is None


@pytest.mark.parametrize(
    "exc_info",
    [
        True,
        (),
        (None, None, None),
        (ValueError, "not an exception", None),
        (ValueError, object(), None),
        "text",
    ],
)
def test_a_malformed_exc_info_counts_as_no_exception(exc_info: object) -> None:
    assert record_correlation_id(exc_info) is None


def test_the_filter_keeps_a_record_with_a_malformed_exc_info() -> None:
    # The filter once followed __cause__ on whatever sat in exc_info and
    # raised AttributeError, which made logging drop the line.
    record = logging.makeLogRecord(
        {"msg": "m", "exc_info": (ValueError, "not an exception", None)}
    )
    assert CorrelationIdFilter().filter(record)
    assert record.__dict__["request_id"] == "-"


def test_record_two_ids_reads_the_variable_once_in_use() -> None:
    assert record_two_ids(None) is None
    with two_ids_set("corr-1", "caller-1") as value:
        assert record_two_ids(None) is value
    assert record_two_ids(None) is None


def test_record_two_ids_come_from_the_exception_with_the_id() -> None:
    exc = failed_two_id_request("hop-1", "corr-1", "caller-1")
    exc_info = (RuntimeError, exc, None)
    # The server's line, after the request: ID and two IDs from the exception.
    assert record_correlation_id(exc_info) == "hop-1"
    late = record_two_ids(exc_info)
    assert late is not None
    assert (late.inherited, late.parent) == ("corr-1", "caller-1")
    # Logged inside another two-ID request: that request's, all three.
    with two_ids_set("corr-2", "caller-2") as value:
        assert run_with_id("hop-2", lambda: record_correlation_id(exc_info)) == "hop-2"
        assert run_with_id("hop-2", lambda: record_two_ids(exc_info)) is value
        # A malformed exc_info counts as no exception.
        assert record_two_ids((ValueError, "not an exception", None)) is value
    # An exception that carries nothing: the (absent) context's.
    assert record_two_ids((RuntimeError, RuntimeError(), None)) is None


def test_two_id_fields_follow_the_id_field() -> None:
    assert two_id_fields("request_id") == ("correlation_id", "request_id_parent")
    assert two_id_fields("rid", "corr") == ("corr", "rid_parent")
    assert two_id_fields("correlation_id")[0] == "inherited_id"
    for clash in ("rid", "rid_source", "rid_parent"):
        with pytest.raises(ValueError, match="inherited_field"):
            two_id_fields("rid", clash)
