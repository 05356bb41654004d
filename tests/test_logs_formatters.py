"""Property and unit tests of the key=value and JSON formatters."""

from __future__ import annotations

import io
import json
import logging
import math
import sys
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from starlette_correlate import CorrelationIdFilter
from starlette_correlate.logs import JsonFormatter, KeyValueFormatter, formatters
from starlette_correlate.logs.formatters import quote_value
from starlette_correlate.provenance import INCOMING, IncomingId
from tests.support.logparse import parse_kv, run_with_id
from tests.support.two_ids import two_ids_set

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


# ------------------------------------------------ nested values, hostile values

scalars = st.one_of(
    st.none(),
    # Where orjson's float spelling differs from repr's (1e-07 vs 1e-7).
    st.sampled_from([1e-05, 1e-07, 1.5e-300, 5e-324, 1e16, 1e22, -0.0, 9.5]),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    hostile_text,
)
nested = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(hostile_text, inner, max_size=4),
    ),
    max_leaves=12,
)


def finite_json(value: object) -> object:
    """What a JSON reader gets back: tuples as lists, NaN and infinities null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    return value


@given(
    message=hostile_text,
    extras=st.dictionaries(keys, nested, max_size=4),
    numbers=st.lists(scalars, min_size=1, max_size=3),
    name=st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){0,2}", fullmatch=True),
)
# Where orjson would spell a value its own way, with no surrogate to send
# the line to the standard library path anyway.
@example(message="m", extras={}, numbers=[1e-05, 1e-07, 5e-324], name="a")
@example(
    message="m\u2028\x85",
    extras={"p": (1e-07, {"k": [2**70]})},
    numbers=[2**70],
    name="a",
)
def test_the_orjson_and_the_standard_library_lines_are_the_same_bytes(
    message: str, extras: dict[str, object], numbers: list[object], name: str
) -> None:
    # Scalars at the top level too, where orjson would spell them itself.
    extras = {**extras, **{f"scalar_{i}": value for i, value in enumerate(numbers)}}
    record = logging.getLogger(name).makeRecord(
        name, logging.WARNING, __file__, 1, "%s", (message,), None, extra=extras
    )
    for statics in ({}, {"env": "pröd\u2028", "tags": ["a", 1.5e-7]}):
        line = JsonFormatter(fast=True, static_fields=statics).format(record)
        plain = JsonFormatter(fast=False, static_fields=statics).format(record)
        assert line.encode("utf-8", "surrogatepass") == plain.encode(
            "utf-8", "surrogatepass"
        )
    assert single_line(line)
    parsed = json.loads(line)
    assert {key: parsed[key] for key in extras} == finite_json(extras)
    kv = parse_kv(KeyValueFormatter().format(record))
    for key, value in extras.items():
        if isinstance(value, dict | list | tuple):
            assert json.loads(kv[key]) == finite_json(value)


def test_the_fast_path_is_taken_when_orjson_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert JsonFormatter().fast is True
    assert JsonFormatter(fast=False).fast is False
    record = logging.makeLogRecord(
        {"msg": "m\u2028", "request_id": "r", "n": 1, "x": 1e-7, "p": {"a": [1]}}
    )
    formatter = JsonFormatter(static_fields={"service": "orders"})
    expected = JsonFormatter(fast=False, static_fields={"service": "orders"})

    def no_plain_path(data: object) -> str:
        raise AssertionError("fell back to the standard library path")

    line = expected.format(record)
    monkeypatch.setattr(formatters, "_plain_json_line", no_plain_path)
    assert formatter.format(record) == line


def test_fast_true_without_orjson_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(formatters, "_orjson", None)
    with pytest.raises(ImportError, match=r"starlette-correlate\[fast\]"):
        JsonFormatter(fast=True)
    assert JsonFormatter().fast is False


def nested_line(value: object) -> object:
    record = logging.makeLogRecord({"msg": "m", "payload": value})
    line = JsonFormatter(timestamp=False).format(record)
    assert single_line(line)
    return json.loads(line)["payload"]


def test_nesting_deeper_than_the_limit_is_marked() -> None:
    value: object = "bottom"
    for _ in range(formatters.MAX_DEPTH + 3):
        value = [value]
    written = nested_line(value)
    for _ in range(formatters.MAX_DEPTH):
        assert isinstance(written, list)
        written = written[0]
    assert written == "<too deep>"


def test_a_large_nested_value_is_cut_with_markers() -> None:
    many = nested_line(list(range(100_000)))
    assert isinstance(many, list)
    assert many[-1].endswith(" more items>")
    assert (
        len(json.dumps(many, separators=(",", ":"))) < formatters.MAX_NESTED_CHARS + 100
    )
    wide = nested_line({f"k{index}": index for index in range(100_000)})
    assert isinstance(wide, dict)
    assert wide["<truncated>"] == 100_000 - len(wide) + 1
    long = nested_line({"body": "x" * 1_000_000})
    assert isinstance(long, dict)
    kept, _, rest = long["body"].partition("…<")
    assert rest == f"{1_000_000 - len(kept)} more chars>"
    assert len(kept) > formatters.MAX_NESTED_CHARS - 100


def test_nested_keys_that_are_not_strings_and_cycles() -> None:
    shared = [1]
    cyclic: dict[str, object] = {"shared": shared, "again": shared}
    cyclic["self"] = cyclic
    assert nested_line({1: "a", None: "b", (1, 2): "c", 2.5: "d"}) == {
        "1": "a",
        "null": "b",
        "(1, 2)": "c",
        "2.5": "d",
    }
    # The same list twice is not a cycle; the dict inside itself is.
    assert nested_line(cyclic) == {"shared": [1], "again": [1], "self": "<cycle>"}


def test_an_int_too_long_for_the_interpreter_is_marked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        record = logging.makeLogRecord({"msg": "m", "big": 10**1000, "ok": 10**600})
        for formatter in (JsonFormatter(), JsonFormatter(fast=False)):
            data = json.loads(formatter.format(record))
            assert data["big"] == f"<int of {(10**1000).bit_length()} bits>"
            assert data["ok"] == 10**600
        kv = parse_kv(KeyValueFormatter().format(record))
        assert kv["big"].startswith("<int of ")
    finally:
        sys.set_int_max_str_digits(old)


def test_a_record_with_a_key_that_is_not_a_string() -> None:
    record = logging.makeLogRecord({"msg": "m"})
    attributes: dict[Any, Any] = record.__dict__
    attributes[7] = "seven"
    assert json.loads(JsonFormatter().format(record))["7"] == "seven"
    assert parse_kv(KeyValueFormatter().format(record))["7"] == "seven"


# ------------------------------------------------------------------- options


def test_rename_and_static_fields_in_code() -> None:
    options: dict[str, Any] = {
        "rename_fields": {"message": "msg", "request_id": "correlation_id"},
        "static_fields": {"service": "orders", "env": "prod"},
    }
    record = logging.makeLogRecord(
        {
            "msg": "m",
            "name": "app",
            "levelname": "INFO",
            "request_id": "r-1",
            "service": "forged",
        }
    )
    kv = parse_kv(KeyValueFormatter(timestamp=False, **options).format(record))
    data = json.loads(JsonFormatter(timestamp=False, **options).format(record))
    assert kv == {key: str(value) for key, value in data.items()}
    assert list(data) == [
        "level",
        "logger",
        "msg",
        "correlation_id",
        "service",
        "env",
        "extra_service",
    ]
    assert (data["msg"], data["correlation_id"], data["service"]) == (
        "m",
        "r-1",
        "orders",
    )
    assert data["extra_service"] == "forged"


def test_renaming_an_extra_keeps_an_attribute_already_called_that() -> None:
    # "level" is ours, so that attribute is written as extra_level, whichever
    # comes first: it or an attribute really called extra_level.
    first = {"msg": "m", "order": "attribute", "order_id": 42, "level": 2}
    for record in (
        logging.makeLogRecord({**first, "extra_level": 1}),
        logging.makeLogRecord({"extra_level": 1, **first}),
    ):
        check_renamed(record)


def check_renamed(record: logging.LogRecord) -> None:
    for formatter in (
        JsonFormatter(rename_fields={"order_id": "order"}),
        KeyValueFormatter(rename_fields={"order_id": "order"}),
    ):
        line = formatter.format(record)
        fields = json.loads(line) if line.startswith("{") else parse_kv(line)
        assert str(fields["order"]) == "42"
        assert fields["extra_order"] == "attribute"
        assert {str(fields["extra_level"]), str(fields["extra_extra_level"])} == {
            "1",
            "2",
        }


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"rename_fields": {"message": "m", "level": "m"}}, ValueError, "both"),
        ({"rename_fields": {"message": "level"}}, ValueError, "both"),
        ({"rename_fields": {"levelname": "severity"}}, ValueError, "does not write"),
        ({"rename_fields": {"message": ""}}, ValueError, "non-empty"),
        ({"rename_fields": ["message"]}, TypeError, "mapping"),
        ({"static_fields": {"level": "x"}}, ValueError, "already the name"),
        (
            {"static_fields": {"msg": "x"}, "rename_fields": {"message": "msg"}},
            ValueError,
            "already",
        ),
        ({"fmt": "%(message)s"}, ValueError, "format"),
        ({"defaults": {"x": 1}}, ValueError, "static_fields"),
        ({"style": "!"}, ValueError, "Style"),
        ({"id_field": "level"}, ValueError, "already a field"),
        ({"id_field": "levelname"}, ValueError, "LogRecord attribute"),
    ],
)
def test_bad_options_fail_at_construction(
    options: dict[str, Any], error: type[Exception], match: str
) -> None:
    for formatter in (KeyValueFormatter, JsonFormatter):
        with pytest.raises(error, match=match):
            formatter(**options)


def test_key_value_names_must_be_key_value_keys() -> None:
    with pytest.raises(ValueError, match="key=value key"):
        KeyValueFormatter(rename_fields={"message": "the message"})
    with pytest.raises(ValueError, match="key=value key"):
        KeyValueFormatter(static_fields={"a=b": "x"})
    assert JsonFormatter(rename_fields={"message": "the message"})


def test_datefmt_in_code_and_the_seconds_cache() -> None:
    first = logging.makeLogRecord({"msg": "m", "created": 0.5, "msecs": 500.0})
    second = logging.makeLogRecord({"msg": "m", "created": 86_400.25, "msecs": 250.0})
    dated = KeyValueFormatter(datefmt="%d %b %Y")
    assert parse_kv(dated.format(first))["time"] == "01 Jan 1970"
    assert parse_kv(dated.format(second))["time"] == "02 Jan 1970"
    iso = JsonFormatter()
    assert json.loads(iso.format(first))["time"] == "1970-01-01T00:00:00.500Z"
    assert json.loads(iso.format(second))["time"] == "1970-01-02T00:00:00.250Z"
    assert json.loads(iso.format(first))["time"] == "1970-01-01T00:00:00.500Z"


class EarlyAttributeRecord(logging.LogRecord):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.early = "set before the standard attributes"
        super().__init__(*args, **kwargs)


def test_an_attribute_set_before_the_standard_ones_is_written() -> None:
    record = EarlyAttributeRecord("n", logging.INFO, __file__, 1, "m", (), None)
    record.late = "after"
    for formatter in (KeyValueFormatter(), JsonFormatter()):
        line = formatter.format(record)
        fields = json.loads(line) if line.startswith("{") else parse_kv(line)
        assert fields["early"] == "set before the standard attributes"
        assert fields["late"] == "after"


def test_a_str_subclass_cannot_forge_a_key_value_line() -> None:
    class Sneaky(str):
        def __str__(self) -> str:
            return "evil\nlevel=ERROR"

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationIdFilter())
    handler.setFormatter(KeyValueFormatter(timestamp=False))
    logger = logging.getLogger("tests.review.kv")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.error("ok", extra={"s": Sneaky("x")})
    finally:
        logger.removeHandler(handler)
    assert len(stream.getvalue().splitlines()) == 1


def test_an_accepted_incoming_id_takes_the_paths_of_a_str(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An accepted incoming ID is an IncomingId (D-peers-prov-1); every line
    # of such a request must cost what a str's does, and read the same.
    incoming = IncomingId(b"abc-123", "ascii")
    records = [
        logging.makeLogRecord(
            {"msg": "m", "request_id": value, "request_id_source": INCOMING}
        )
        for value in (incoming, "abc-123")
    ]
    for formatter in (KeyValueFormatter(), JsonFormatter(fast=False)):
        assert formatter.format(records[0]) == formatter.format(records[1])
    key_value = KeyValueFormatter()
    key_value.format(records[0])
    # The per-request caches of the ID's and the source's spelling.
    assert key_value._last[1][0] is incoming
    assert key_value._last[2][0] is INCOMING
    expected = JsonFormatter(fast=False).format(records[0])

    def no_plain_path(data: object) -> str:
        raise AssertionError("fell back to the standard library path")

    def no_fragment(value: object) -> str:
        raise AssertionError("spelled as a fragment, not as text")

    monkeypatch.setattr(formatters, "_plain_json_line", no_plain_path)
    monkeypatch.setattr(formatters, "_json_text", no_fragment)
    assert JsonFormatter().format(records[0]) == expected


def test_a_two_id_line_is_the_same_bytes_on_both_json_paths() -> None:
    record = logging.makeLogRecord({"msg": "hi", "levelname": "INFO"})
    with two_ids_set("corr-1", "caller-1"):
        run_with_id("hop-1", lambda: CorrelationIdFilter().filter(record))
    fast = JsonFormatter(fast=True, timestamp=False).format(record)
    plain = JsonFormatter(fast=False, timestamp=False).format(record)
    assert fast == plain
    assert json.loads(fast)["correlation_id"] == "corr-1"
    assert json.loads(fast)["request_id_parent"] == "caller-1"
    kv = parse_kv(KeyValueFormatter(timestamp=False).format(record))
    assert (kv["request_id"], kv["correlation_id"], kv["request_id_parent"]) == (
        "hop-1",
        "corr-1",
        "caller-1",
    )
