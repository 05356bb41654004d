"""Unit tests of CorrelationIdFilter's options and edge cases."""

from __future__ import annotations

import logging

import pytest

from starlette_correlate import CorrelationIdFilter, get_logger
from starlette_correlate.errors import attach_correlation_id
from starlette_correlate.fields import bound_fields
from tests.support.logparse import run_with_id
from tests.support.two_ids import failed_two_id_request, two_ids_set


def record(**attributes: object) -> logging.LogRecord:
    return logging.makeLogRecord({"msg": "m", **attributes})


@pytest.mark.parametrize(
    "field", ["name", "msg", "message", "getMessage", "bad name", ""]
)
def test_a_field_that_would_clash_or_is_not_a_name_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match="field"):
        CorrelationIdFilter(field=field)


def test_a_custom_field_and_placeholder() -> None:
    log_filter = CorrelationIdFilter(field="correlation_id", placeholder="none")
    outside = record()
    assert log_filter.filter(outside)
    assert outside.__dict__["correlation_id"] == "none"
    inside = record()
    run_with_id("req-1", lambda: log_filter.filter(inside))
    assert inside.__dict__["correlation_id"] == "req-1"
    kept = record(correlation_id="explicit")
    run_with_id("req-1", lambda: log_filter.filter(kept))
    assert kept.__dict__["correlation_id"] == "explicit"


def test_the_exception_id_is_used_only_when_no_id_is_set() -> None:
    exc = RuntimeError("late")
    attach_correlation_id(exc, "req-from-exc")
    for log_filter in (CorrelationIdFilter(), CorrelationIdFilter(field="cid")):
        late = record(exc_info=(RuntimeError, exc, None))
        log_filter.filter(late)
        assert late.__dict__[log_filter.field] == "req-from-exc"
        during = record(exc_info=(RuntimeError, exc, None))
        run_with_id("req-now", lambda f=log_filter, r=during: f.filter(r))  # type: ignore[misc]
        assert during.__dict__[log_filter.field] == "req-now"
    plain = record(exc_info=(RuntimeError, RuntimeError("x"), None))
    CorrelationIdFilter().filter(plain)
    assert plain.__dict__["request_id"] == "-"


def test_fields_never_shadow_record_attributes_or_methods() -> None:
    log_filter = CorrelationIdFilter()
    target = logging.LogRecord("app", logging.INFO, __file__, 1, "m", None, None)

    def stamp() -> None:
        with bound_fields(name="forged", getMessage="forged", user_id="u-1"):
            log_filter.filter(target)

    run_with_id("req-2", stamp)
    assert target.name == "app"
    assert target.getMessage() == "m"
    assert target.__dict__["user_id"] == "u-1"


def test_no_fields_outside_a_binding() -> None:
    target = record()
    CorrelationIdFilter().filter(target)
    assert "user_id" not in target.__dict__


def test_get_logger_attaches_one_filter_once() -> None:
    logger = get_logger("tests.logs.get_logger")
    assert get_logger("tests.logs.get_logger") is logger
    assert sum(isinstance(f, CorrelationIdFilter) for f in logger.filters) == 1


def test_a_record_with_a_bare_true_exc_info_still_passes() -> None:
    odd = record(exc_info=True)
    assert CorrelationIdFilter().filter(odd)
    assert odd.__dict__["request_id"] == "-"


def test_two_ids_are_stamped_only_inside_a_two_id_request() -> None:
    log_filter = CorrelationIdFilter()
    inside = record()
    with two_ids_set("corr-1", "caller-1"):
        run_with_id("hop-1", lambda: log_filter.filter(inside))
    assert inside.__dict__["request_id"] == "hop-1"
    assert inside.__dict__["correlation_id"] == "corr-1"
    assert inside.__dict__["request_id_parent"] == "caller-1"
    outside = record()
    log_filter.filter(outside)
    assert "correlation_id" not in outside.__dict__
    assert "request_id_parent" not in outside.__dict__


def test_two_ids_a_first_hop_extra_and_renamed_fields() -> None:
    log_filter = CorrelationIdFilter(field="rid", placeholder="none")
    first, kept = record(), record(correlation_id="mine", rid_parent="theirs")
    with two_ids_set("corr-1"):
        log_filter.filter(first)
        log_filter.filter(kept)
    assert (first.__dict__["correlation_id"], first.__dict__["rid_parent"]) == (
        "corr-1",
        "none",
    )
    assert (kept.__dict__["correlation_id"], kept.__dict__["rid_parent"]) == (
        "mine",
        "theirs",
    )
    # A filter whose own field is correlation_id writes the inherited one
    # as inherited_id, so neither hides the other.
    own = CorrelationIdFilter(field="correlation_id")
    both = record()
    with two_ids_set("corr-1"):
        run_with_id("hop-1", lambda: own.filter(both))
    assert both.__dict__["correlation_id"] == "hop-1"
    assert both.__dict__["inherited_id"] == "corr-1"
    assert both.__dict__["correlation_id_parent"] == "-"


def test_a_server_traceback_after_a_two_id_request_gets_its_two_ids() -> None:
    exc = failed_two_id_request("hop-1", "corr-1", "caller-1")
    late = record(exc_info=(RuntimeError, exc, None))
    CorrelationIdFilter().filter(late)
    assert (
        late.__dict__["request_id"],
        late.__dict__["correlation_id"],
        late.__dict__["request_id_parent"],
    ) == ("hop-1", "corr-1", "caller-1")
    first_hop = failed_two_id_request("hop-2", "corr-2")
    renamed = record(exc_info=(RuntimeError, first_hop, None))
    CorrelationIdFilter(field="rid", placeholder="none").filter(renamed)
    assert renamed.__dict__["rid"] == "hop-2"
    assert renamed.__dict__["correlation_id"] == "corr-2"
    assert renamed.__dict__["rid_parent"] == "none"


@pytest.mark.parametrize("name", ["request_id", "msg", "bad name", "request_id_parent"])
def test_an_inherited_field_that_would_clash_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="inherited_field"):
        CorrelationIdFilter(inherited_field=name)
