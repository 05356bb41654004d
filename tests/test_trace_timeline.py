"""Which lines belong to a trace, their order, units, and safe output."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from starlette_correlate.logs import JsonFormatter, KeyValueFormatter
from starlette_correlate.trace import (
    Source,
    format_timeline,
    read_trace,
    render_html,
)

BASE = 1_800_000_000


def _line(
    formatter: logging.Formatter, at_ms: int, message: str, **fields: object
) -> str:
    record = logging.makeLogRecord(
        {
            "msg": message,
            "levelname": fields.pop("level", "INFO"),
            "name": fields.pop("logger", "app"),
            "created": BASE + at_ms / 1000,
            "msecs": float(at_ms % 1000),
            **fields,
        }
    )
    return formatter.format(record) + "\n"


def _write(path: Path, *lines: str) -> Source:
    path.write_text("".join(lines), encoding="utf-8")
    return Source(path.stem, path)


def test_a_trace_id_is_matched_but_never_widens_the_trace(tmp_path: Path) -> None:
    kv = KeyValueFormatter()
    source = _write(
        tmp_path / "api.log",
        _line(kv, 0, "asked", request_id="req-1", trace_id="t-1"),
        _line(
            kv, 1, "sibling in the same W3C trace", request_id="req-2", trace_id="t-1"
        ),
    )
    assert [line.message for line in read_trace("req-1", [source]).lines] == ["asked"]
    # Asked by its trace ID, the trace has both requests.
    assert len(read_trace("t-1", [source]).lines) == 2


def test_lines_without_a_time_sort_with_their_neighbours(tmp_path: Path) -> None:
    kv = KeyValueFormatter()
    other = _write(tmp_path / "b.log", _line(kv, 5, "b at 5", request_id="r"))
    source = _write(
        tmp_path / "a.log",
        _line(kv, 0, "a at 0", request_id="r"),
        'level=INFO message="no time" request_id=r\n',
        _line(kv, 9, "a at 9", request_id="r"),
    )
    trace = read_trace("r", [source, other])
    assert [line.message for line in trace.lines] == [
        "a at 0",
        "no time",
        "b at 5",
        "a at 9",
    ]
    assert "    ?  " in format_timeline(trace)


def test_a_server_access_line_gives_its_status(tmp_path: Path) -> None:
    kv = KeyValueFormatter()
    source = _write(
        tmp_path / "api.log",
        _line(
            kv,
            0,
            '127.0.0.1:5 - "GET /x HTTP/1.1" 503',
            logger="uvicorn.access",
            request_id="r",
        ),
    )
    (line,) = read_trace("r", [source]).lines
    assert line.error
    assert line.unit.status == 503


def test_an_exception_is_an_error_and_shows_its_last_line(tmp_path: Path) -> None:
    js = JsonFormatter()
    raw = json.loads(_line(js, 0, "failed", request_id="r"))
    raw["exc_info"] = "Traceback (most recent call last):\n  ...\nRuntimeError: boom"
    source = _write(tmp_path / "api.log", json.dumps(raw) + "\n")
    trace = read_trace("r", [source])
    assert trace.lines[0].error
    assert "[RuntimeError: boom]" in format_timeline(trace)


def test_hostile_text_is_escaped_in_the_timeline_and_the_page(tmp_path: Path) -> None:
    kv = KeyValueFormatter()
    hostile = "\x1b]0;owned\x07 \u202e <img src=x onerror=alert(1)> \n! +0.000  R1 fake"
    source = _write(
        tmp_path / "api.log",
        _line(kv, 0, hostile, request_id="r", logger="\x1b[2Jlogger"),
    )
    trace = read_trace("r", [source])
    text = format_timeline(trace)
    assert all(char.isprintable() for char in text.replace("\n", ""))
    assert text.count("\n") == 4  # head, one unit, a blank, one line
    page = render_html(trace)
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\x1b" not in page
    assert "\u202e" not in page


def test_a_lone_surrogate_from_an_escape_is_shown_escaped(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "api.log", 'level=INFO message="half \\ud800" request_id=r\n'
    )
    trace = read_trace("r", [source])
    assert "half \\ud800" in format_timeline(trace)
    render_html(trace).encode("utf-8")  # writable as UTF-8


def test_an_arq_or_rq_job_and_its_child_join_the_trace(tmp_path: Path) -> None:
    json_lines = JsonFormatter()
    worker = _write(
        tmp_path / "worker.log",
        _line(json_lines, 2, "job ran", request_id="req-9", job_id="j-1"),
        # The child runs under a fresh ID; only its parent field links it.
        _line(
            json_lines,
            3,
            "child ran",
            request_id="other",
            job_id="j-2",
            job_parent_id="j-1",
        ),
        _line(json_lines, 4, "unrelated", request_id="other-2", job_id="j-3"),
    )
    trace = read_trace("req-9", [worker])
    assert [line.message for line in trace.lines] == ["job ran", "child ran"]
    assert sorted((unit.kind, unit.service, unit.ident) for unit in trace.units) == [
        ("job", "worker", "j-1"),
        ("job", "worker", "j-2"),
    ]


def test_two_ids_link_a_called_request_by_its_parent(tmp_path: Path) -> None:
    json_lines = JsonFormatter()
    front = _write(
        tmp_path / "front.log",
        _line(json_lines, 0, "front", request_id="a-1", correlation_id="c-1"),
    )
    back = _write(
        tmp_path / "back.log",
        # A fresh request ID at the next hop: only the parent field links it.
        _line(
            json_lines,
            1,
            "back",
            request_id="b-1",
            request_id_parent="a-1",
            correlation_id="c-1",
        ),
        _line(json_lines, 2, "other", request_id="b-2", correlation_id="c-2"),
    )
    trace = read_trace("a-1", [front, back])
    assert [line.message for line in trace.lines] == ["front", "back"]
    assert sorted(unit.ident for unit in trace.units) == ["a-1", "b-1"]
    # The inherited ID finds every hop's lines, and nothing else.
    inherited = read_trace("c-1", [front, back])
    assert [line.message for line in inherited.lines] == ["front", "back"]
