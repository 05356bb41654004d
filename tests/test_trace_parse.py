"""The trace's line reader: both formats back, every bad line refused."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from starlette_correlate.logs import JsonFormatter, KeyValueFormatter
from starlette_correlate.trace.parse import UnreadableLineError, parse_line


def _record(message: str, **fields: object) -> logging.LogRecord:
    return logging.makeLogRecord(
        {"msg": message, "levelname": "INFO", "name": "app", **fields}
    )


@given(
    message=st.text(max_size=60),
    value=st.text(max_size=30),
)
@pytest.mark.parametrize("formatter", [KeyValueFormatter(), JsonFormatter()])
def test_a_formatted_line_reads_back_exactly(
    formatter: logging.Formatter, message: str, value: str
) -> None:
    line = formatter.format(_record(message, request_id="req-1", note=value))
    fields = parse_line(line.encode("utf-8", "surrogatepass"))
    assert fields["message"] == message
    assert fields["request_id"] == "req-1"
    assert fields["note"] == (value if value != "null" or line[0] == "{" else None)


def test_a_forged_field_inside_a_message_stays_in_the_message() -> None:
    line = KeyValueFormatter().format(
        _record('x" request_id=forged level=ERROR', request_id="req-1")
    )
    fields = parse_line(line.encode())
    assert fields["request_id"] == "req-1"
    assert fields["level"] == "INFO"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"level":"INFO","request_id":"req-1"', "broken JSON"),
        (b'["req-1"]', "unknown format"),
        (b"[1]", "unknown format"),
        (b"Nov 30 host app: req-1", "unknown format"),
        (b'request_id=req-1 message="open', "broken key=value"),
        (b'request_id=req-1 message="\\q"', "broken key=value"),
        (b'request_id=req-1 message="\\U00110000"', "broken key=value"),
        (b"request_id=req-1 caf\xe9", "not UTF-8"),
        (b"request_id=req-1 \x00\x1b", "control characters"),
        (b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "broken JSON"),
    ],
)
def test_a_bad_line_is_refused_with_its_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(UnreadableLineError) as refused:
        parse_line(raw)
    assert refused.value.reason == reason


@given(st.binary(max_size=400))
def test_any_bytes_parse_or_are_refused_never_crash(raw: bytes) -> None:
    try:
        fields = parse_line(raw)
    except UnreadableLineError:
        return
    assert isinstance(fields, dict)
