"""Unit tests of the structlog processor: precedence and the missing extra."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import pytest
import structlog

from starlette_correlate.errors import attach_correlation_id
from starlette_correlate.fields import bound_fields
from starlette_correlate.logs import CorrelationIdFilter
from starlette_correlate.logs.structlog_processor import (
    CorrelationIdProcessor,
    add_correlation_id,
)
from starlette_correlate.provenance import IncomingId
from tests.support.logparse import run_with_id
from tests.support.two_ids import failed_two_id_request, two_ids_set

MODULE = "starlette_correlate.logs.structlog_processor"


def foreign(record: logging.LogRecord) -> MutableMapping[str, Any]:
    return add_correlation_id(None, "info", {"event": "x", "_record": record})


def test_a_value_bound_by_the_caller_is_kept() -> None:
    event = run_with_id(
        "req-1", lambda: add_correlation_id(None, "info", {"request_id": "mine"})
    )
    assert event["request_id"] == "mine"


def test_bound_fields_are_added_without_overriding() -> None:
    def process() -> MutableMapping[str, Any]:
        with bound_fields(user_id="u-1", tenant="t-1"):
            return add_correlation_id(None, "info", {"tenant": "explicit"})

    event = run_with_id("req-2", process)
    assert event == {
        "tenant": "explicit",
        "request_id": "req-2",
        "request_id_source": "generated",
        "user_id": "u-1",
    }


def test_a_stdlib_record_keeps_the_value_the_filter_or_extra_gave_it() -> None:
    record = logging.makeLogRecord({"msg": "m", "request_id": "from-extra"})
    assert run_with_id("req-3", lambda: foreign(record))["request_id"] == "from-extra"


def test_a_record_stamped_with_the_placeholder_still_gets_the_current_id() -> None:
    record = logging.makeLogRecord({"msg": "m"})
    CorrelationIdFilter().filter(record)
    assert record.__dict__["request_id"] == "-"
    assert run_with_id("req-4", lambda: foreign(record))["request_id"] == "req-4"


def test_a_server_traceback_after_the_request_gets_the_exceptions_id() -> None:
    exc = RuntimeError("late")
    attach_correlation_id(exc, "req-5")
    record = logging.makeLogRecord(
        {"msg": "Exception in ASGI application", "exc_info": (RuntimeError, exc, None)}
    )
    assert foreign(record)["request_id"] == "req-5"
    assert foreign(logging.makeLogRecord({"msg": "m"}))["request_id"] == "-"


def test_a_server_traceback_after_a_two_id_request_gets_its_two_ids() -> None:
    exc = failed_two_id_request("hop-1", "corr-1", "caller-1")
    record = logging.makeLogRecord(
        {"msg": "Exception in ASGI application", "exc_info": (RuntimeError, exc, None)}
    )
    assert foreign(record) == {
        "event": "x",
        "_record": record,
        "request_id": "hop-1",
        "request_id_source": "generated",
        "correlation_id": "corr-1",
        "request_id_parent": "caller-1",
    }


def test_options() -> None:
    processor = CorrelationIdProcessor(field="correlation_id", placeholder="none")
    assert processor(None, "info", {})["correlation_id"] == "none"
    with pytest.raises(ValueError, match="field"):
        CorrelationIdProcessor(field="")


def test_without_structlog_the_import_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "structlog", None)
    monkeypatch.delitem(sys.modules, MODULE)
    with pytest.raises(ImportError, match=r"starlette-correlate\[structlog\]"):
        importlib.import_module(MODULE)
    monkeypatch.undo()
    assert importlib.import_module(MODULE).add_correlation_id is not None
    assert structlog is not None


def test_two_ids_are_added_inside_a_two_id_request_only() -> None:
    with two_ids_set("corr-1", "caller-1"):
        event = run_with_id("hop-1", lambda: add_correlation_id(None, "info", {}))
    assert event == {
        "request_id": "hop-1",
        "request_id_source": "generated",
        "correlation_id": "corr-1",
        "request_id_parent": "caller-1",
    }
    with two_ids_set("corr-1"):
        first = CorrelationIdProcessor(field="rid", inherited_field="corr")(
            None, "info", {"corr": "mine"}
        )
    assert first == {"rid": "-", "rid_source": "-", "corr": "mine", "rid_parent": "-"}
    assert add_correlation_id(None, "info", {}) == {
        "request_id": "-",
        "request_id_source": "-",
    }


def test_the_source_follows_the_id_the_event_carries() -> None:
    # A stdlib record the filter stamped keeps the filter's source; an ID
    # read here gives its own (an accepted incoming ID reads "incoming").
    stamped = logging.makeLogRecord(
        {"msg": "m", "request_id": "abc", "request_id_source": "incoming"}
    )
    assert foreign(stamped)["request_id_source"] == "incoming"
    incoming = IncomingId(b"abc-1", "ascii")
    event = run_with_id(incoming, lambda: add_correlation_id(None, "info", {}))
    assert (event["request_id"], event["request_id_source"]) == ("abc-1", "incoming")
