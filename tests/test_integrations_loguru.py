"""Unit tests of the loguru integration, through real loguru sinks."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import logging.handlers
import queue
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loguru import logger

from starlette_correlate import CorrelationIdFilter
from starlette_correlate.errors import attach_correlation_id
from starlette_correlate.fields import bound_fields
from starlette_correlate.integrations.loguru import (
    InterceptHandler,
    make_patcher,
    patcher,
)
from tests.support.guide import recipe
from tests.support.logparse import run_with_id
from tests.support.two_ids import failed_two_id_request, two_ids_set


class JsonSink:
    """A real ``serialize=True`` loguru sink on a StringIO, read back as records."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[str]:
        # loguru ends each message with "\n", and line-based tools split
        # there; str.splitlines would also split at U+2028 and U+0085,
        # which JSON may hold raw (see the users' guide).
        text = self.stream.getvalue()
        assert text == "" or text.endswith("\n")
        return text.split("\n")[:-1]

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line)["record"] for line in self.lines()]

    def by_message(self, message: str) -> dict[str, Any]:
        (found,) = [r for r in self.records() if r["message"] == message]
        return found


def _no_patch(record: Any) -> None:
    """Stand in for the patcher once a test is done (loguru keeps one)."""


@contextlib.contextmanager
def loguru_sink(
    configured: Any = patcher, *, enqueue: bool = False
) -> Iterator[JsonSink]:
    """Configure loguru's global logger with ``configured`` and a JSON sink."""
    sink = JsonSink()
    logger.configure(patcher=configured)
    sink_id = logger.add(sink.stream, serialize=True, level="DEBUG", enqueue=enqueue)
    try:
        yield sink
    finally:
        logger.remove(sink_id)
        logger.configure(patcher=_no_patch)


@contextlib.contextmanager
def intercepting(name: str, handler: logging.Handler) -> Iterator[logging.Logger]:
    """Put ``handler`` alone on the stdlib logger ``name`` for a ``with`` block."""
    target = logging.getLogger(name)
    saved = (target.handlers[:], target.level, target.propagate)
    target.handlers[:] = [handler]
    target.setLevel(logging.DEBUG)
    target.propagate = False
    try:
        yield target
    finally:
        target.handlers[:], level, target.propagate = saved
        target.setLevel(level)


@pytest.mark.parametrize("field", ["bad name", "", "a]b", "1st"])
def test_a_field_that_is_not_a_name_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=r"field: .* use e\.g\. 'request_id'"):
        make_patcher(field=field)
    with pytest.raises(ValueError, match="field"):
        InterceptHandler(field=field)


def test_options_of_the_wrong_type_are_refused() -> None:
    with pytest.raises(TypeError, match="field: expected a string"):
        make_patcher(field=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="placeholder: expected a string"):
        make_patcher(placeholder=None)  # type: ignore[arg-type]


def test_the_filter_is_not_a_loguru_filter_the_patcher_is() -> None:
    # What users try first: loguru calls a filter with its record dict.
    sink = io.StringIO()
    with pytest.raises(TypeError, match="Invalid filter"):
        logger.add(sink, filter=CorrelationIdFilter())  # type: ignore[call-overload]
    with loguru_sink() as json_sink:
        run_with_id("req-u-1", lambda: logger.info("through the patcher"))
    assert json_sink.by_message("through the patcher")["extra"]["request_id"] == (
        "req-u-1"
    )


def test_a_custom_field_and_placeholder() -> None:
    with loguru_sink(make_patcher(field="trace", placeholder="none")) as sink:
        run_with_id("req-u-2", lambda: logger.info("inside"))
        logger.info("outside")
        logger.bind(trace="mine").info("bound")
    assert sink.by_message("inside")["extra"] == {
        "trace": "req-u-2",
        "trace_source": "generated",
    }
    assert sink.by_message("outside")["extra"] == {
        "trace": "none",
        "trace_source": "none",
    }
    # A bound ID keeps the value; the source is the record's ID's (none).
    assert sink.by_message("bound")["extra"] == {
        "trace": "mine",
        "trace_source": "none",
    }


def test_the_current_id_wins_over_the_exception_s_and_keywords_are_kept() -> None:
    exc = RuntimeError("boom")
    attach_correlation_id(exc, "req-from-exc")
    with loguru_sink() as sink:
        run_with_id(
            "req-now", lambda: logger.opt(exception=exc).error("during the request")
        )
        logger.opt(exception=exc).error("after the request")
        logger.info("with a keyword {request_id}", request_id="kw")
        with bound_fields(user_id="u-9"):
            logger.bind(user_id="mine").info("field bound by hand")
    assert sink.by_message("during the request")["extra"]["request_id"] == "req-now"
    assert sink.by_message("after the request")["extra"]["request_id"] == (
        "req-from-exc"
    )
    assert sink.by_message("with a keyword kw")["extra"]["request_id"] == "kw"
    assert sink.by_message("field bound by hand")["extra"] == {
        "request_id": "-",
        "request_id_source": "-",
        "user_id": "mine",
    }


def test_an_enqueued_sink_gets_the_id_of_the_caller() -> None:
    # The patcher runs in the caller's thread before the record is queued.
    with loguru_sink(enqueue=True) as sink:
        run_with_id("req-u-3", lambda: logger.info("queued"))
        logger.complete()
    assert sink.by_message("queued")["extra"]["request_id"] == "req-u-3"


def test_an_intercepted_line_names_its_caller_and_level() -> None:
    logging.addLevelName(25, "NOTICE")
    with loguru_sink() as sink, intercepting("tests.lg.caller", InterceptHandler()):

        def place_order() -> None:
            logging.getLogger("tests.lg.caller").warning("order %s placed", 42)
            logging.getLogger("tests.lg.caller").log(25, "a custom level")

        run_with_id("req-u-4", place_order)
    line = sink.by_message("order 42 placed")
    assert (line["function"], line["name"], line["level"]["name"]) == (
        "place_order",
        __name__,
        "WARNING",
    )
    assert line["extra"]["request_id"] == "req-u-4"
    assert sink.by_message("a custom level")["level"]["no"] == 25


def test_an_intercepted_record_keeps_the_id_it_carries() -> None:
    # A QueueListener emits in its own thread, where no request is current:
    # the filter on the QueueHandler stamped the ID while it still was.
    records: queue.Queue[logging.LogRecord] = queue.Queue()
    queue_handler = logging.handlers.QueueHandler(records)
    queue_handler.addFilter(CorrelationIdFilter())
    listener = logging.handlers.QueueListener(records, InterceptHandler())
    with loguru_sink() as sink, intercepting("tests.lg.queue", queue_handler) as lg:
        listener.start()
        try:
            run_with_id("req-u-5", lambda: lg.info("through a queue"))
            lg.info("outside, by hand", extra={"request_id": "given"})
            lg.info("not a string", extra={"request_id": 42})
        finally:
            listener.stop()
    assert sink.by_message("through a queue")["extra"]["request_id"] == "req-u-5"
    assert sink.by_message("outside, by hand")["extra"]["request_id"] == "given"
    assert sink.by_message("not a string")["extra"]["request_id"] == 42


def test_an_intercepted_traceback_gets_the_exception_s_id() -> None:
    exc = RuntimeError("late")
    attach_correlation_id(exc, "req-u-6")
    with (
        loguru_sink(make_patcher(field="cid")) as sink,
        intercepting("tests.lg.late", InterceptHandler(field="cid")) as lg,
    ):
        lg.error("Exception in ASGI application\n", exc_info=exc)
    line = sink.by_message("Exception in ASGI application\n")
    # InterceptHandler binds the exception's ID; the patcher finds its source.
    assert line["extra"] == {"cid": "req-u-6", "cid_source": "generated"}
    assert line["exception"]["type"] == "RuntimeError"


def test_a_traceback_after_a_two_id_request_gets_its_two_ids() -> None:
    exc = failed_two_id_request("hop-1", "corr-1", "caller-1")
    with (
        loguru_sink() as sink,
        intercepting("tests.lg.late_two", InterceptHandler()) as lg,
    ):
        lg.error("Exception in ASGI application\n", exc_info=exc)
        logger.opt(exception=exc).error("from loguru, late")
    expected = {
        "request_id": "hop-1",
        "correlation_id": "corr-1",
        "request_id_parent": "caller-1",
        "request_id_source": "generated",
    }
    assert sink.by_message("Exception in ASGI application\n")["extra"] == expected
    assert sink.by_message("from loguru, late")["extra"] == expected


def test_a_broken_record_goes_to_handle_error_not_to_the_caller(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with loguru_sink() as sink, intercepting("tests.lg.broken", InterceptHandler()):
        logging.getLogger("tests.lg.broken").info("%d items", "not a number")
    assert sink.lines() == []
    assert "--- Logging error ---" in capsys.readouterr().err


hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=' "=\\\n\r\t\x00\x1b\x85\u2028\u2029é😀\udc80{}%abc', max_size=40),
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(message=hostile_text, value=hostile_text)
def test_hostile_messages_and_fields_stay_one_line(message: str, value: str) -> None:
    with (
        loguru_sink() as sink,
        intercepting("tests.lg.hostile", InterceptHandler()) as lg,
        bound_fields(note=value),
    ):
        logger.info(message)
        lg.warning(message, extra={"request_id": value})
    lines = sink.lines()
    assert len(lines) == 2
    assert not any("\r" in line for line in lines)
    direct, intercepted = (json.loads(line)["record"] for line in lines)
    assert (direct["message"], direct["extra"]) == (
        message,
        {"request_id": "-", "request_id_source": "-", "note": value},
    )
    assert (intercepted["message"], intercepted["extra"]) == (
        message,
        {"request_id": value, "request_id_source": "-", "note": value},
    )


def test_the_users_guide_recipe_routes_both_kinds_of_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    server_loggers = [
        logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")
    ]
    saved_servers = [(lg, lg.handlers[:], lg.propagate) for lg in server_loggers]
    try:
        recipe("loguru")

        def log_both() -> None:
            logger.info("from loguru")
            logging.getLogger("uvicorn.error").warning("from uvicorn")

        run_with_id("req-recipe-lg", log_both)
    finally:
        logger.remove()
        logger.configure(patcher=_no_patch)
        root.handlers[:], level = saved
        root.setLevel(level)
        for lg, handlers, propagate in saved_servers:
            lg.handlers[:] = handlers
            lg.propagate = propagate
    records = [json.loads(line)["record"] for line in stdout.getvalue().splitlines()]
    assert [(r["message"], r["extra"]["request_id"]) for r in records] == [
        ("from loguru", "req-recipe-lg"),
        ("from uvicorn", "req-recipe-lg"),
    ]


def test_two_ids_go_in_extra_inside_a_two_id_request() -> None:
    with loguru_sink() as sink:
        with two_ids_set("corr-1", "caller-1"):
            run_with_id("hop-1", lambda: logger.info("inside"))
            logger.bind(correlation_id="mine").info("bound")
        logger.info("outside")
    assert sink.by_message("inside")["extra"] == {
        "request_id": "hop-1",
        "request_id_source": "generated",
        "correlation_id": "corr-1",
        "request_id_parent": "caller-1",
    }
    assert sink.by_message("bound")["extra"]["correlation_id"] == "mine"
    assert sink.by_message("bound")["extra"]["request_id_parent"] == "caller-1"
    assert sink.by_message("outside")["extra"] == {
        "request_id": "-",
        "request_id_source": "-",
    }
    with pytest.raises(ValueError, match="inherited_field"):
        make_patcher(inherited_field="request_id")
