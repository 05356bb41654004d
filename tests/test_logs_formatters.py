"""Property and unit tests of the key=value and JSON formatters."""

from __future__ import annotations

import json
import logging
import math
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from starlette_correlate.logs import JsonFormatter, KeyValueFormatter
from starlette_correlate.logs.formatters import quote_value
from tests.support.logparse import parse_kv

RESERVED = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "time",
    "level",
    "logger",
    "color_message",
}
keys = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True).filter(
    lambda key: key not in RESERVED
)
hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=' "=\\\n\r\t\x00\x1b\x85\u2028\u2029é😀\udc80abc'),
)


def record_for(message: str, extras: dict[str, str], name: str) -> logging.LogRecord:
    return logging.getLogger(name).makeRecord(
        name, logging.WARNING, __file__, 1, "%s", (message,), None, extra=extras
    )


def fail(exc: Exception) -> None:
    raise exc


def single_line(line: str) -> bool:
    return line.splitlines() == [line] and line.isprintable()


@given(
    message=hostile_text,
    extras=st.dictionaries(keys, hostile_text, max_size=4),
    name=st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){0,2}", fullmatch=True),
)
def test_kv_and_json_lines_parse_back_to_the_same_fields(
    message: str, extras: dict[str, str], name: str
) -> None:
    record = record_for(message, extras, name)
    kv_line = KeyValueFormatter().format(record)
    json_line = JsonFormatter().format(record)
    assert single_line(kv_line)
    assert single_line(json_line)
    from_kv = parse_kv(kv_line)
    from_json = json.loads(json_line)
    assert from_kv == from_json
    assert from_kv["message"] == message
    assert from_kv["logger"] == name
    assert from_kv["level"] == "WARNING"
    assert {key: from_kv[key] for key in extras} == extras
    assert list(from_kv)[:4] == ["time", "level", "logger", "message"]


@given(hostile_text)
def test_an_exception_message_stays_inside_one_field(text: str) -> None:
    try:
        fail(RuntimeError(text))
    except RuntimeError:
        record = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    kv_line = KeyValueFormatter().format(record)
    json_line = JsonFormatter().format(record)
    assert single_line(kv_line)
    assert single_line(json_line)
    assert parse_kv(kv_line) == json.loads(json_line)
    last_line = f"RuntimeError: {text}" if text else "RuntimeError"
    assert parse_kv(kv_line)["exc_info"].endswith(last_line)


def test_safe_values_are_bare_and_others_quoted() -> None:
    assert quote_value("0193a7c2-1c2e-7f4a-9b1d-3c4d5e6f7a8b") == (
        "0193a7c2-1c2e-7f4a-9b1d-3c4d5e6f7a8b"
    )
    assert quote_value("/orders/42") == "/orders/42"
    assert quote_value("") == '""'
    assert quote_value("a b") == '"a b"'
    assert quote_value("k=v") == '"k=v"'
    assert quote_value("\x00\u2028😀") == '"\\x00\\u2028😀"'


def test_values_that_are_not_strings() -> None:
    record = logging.makeLogRecord(
        {
            "msg": "m",
            "count": 3,
            "ratio": math.nan,
            "ok": True,
            "none": None,
            "obj": {1},
        }
    )
    kv = parse_kv(KeyValueFormatter(timestamp=False).format(record))
    data = json.loads(JsonFormatter(timestamp=False).format(record))
    assert (kv["count"], kv["ratio"], kv["ok"], kv["none"], kv["obj"]) == (
        "3",
        "nan",
        "true",
        "null",
        "{1}",
    )
    # JSON has no NaN: null, as JSON.stringify and orjson write it.
    assert (data["count"], data["ratio"], data["ok"], data["none"], data["obj"]) == (
        3,
        None,
        True,
        None,
        "{1}",
    )


def test_an_extra_named_like_our_keys_is_renamed_and_color_message_dropped() -> None:
    record = logging.makeLogRecord(
        {"msg": "m", "levelname": "INFO", "level": "forged", "color_message": "\x1b[1m"}
    )
    kv = parse_kv(KeyValueFormatter().format(record))
    assert kv["level"] == "INFO"
    assert kv["extra_level"] == "forged"
    assert "color_message" not in kv


def test_options_and_stack_info() -> None:
    record = logging.makeLogRecord(
        {"msg": "m", "stack_info": "Stack (most recent)\n  x"}
    )
    line = KeyValueFormatter(timestamp=False, logger_name=False).format(record)
    fields = parse_kv(line)
    assert list(fields) == ["level", "message", "stack_info"]
    assert fields["stack_info"] == "Stack (most recent)\n  x"
    assert parse_kv(KeyValueFormatter(exclude=["msg"]).format(record))["message"] == "m"


def test_odd_keys_are_made_safe() -> None:
    record = logging.makeLogRecord({"msg": "m", "a b=c": "v"})
    assert parse_kv(KeyValueFormatter(timestamp=False).format(record))["a_b_c"] == "v"


def test_exclude_must_not_be_a_string() -> None:
    with pytest.raises(TypeError, match="collection"):
        KeyValueFormatter(exclude="color_message")
