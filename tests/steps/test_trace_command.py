"""Steps for features/trace_command.feature: one timeline across services."""

from __future__ import annotations

import codecs
import contextlib
import gzip
import io
import logging
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from starlette_correlate.cli import main
from starlette_correlate.logs import JsonFormatter, KeyValueFormatter

scenarios("trace_command.feature")

BIN = Path(sys.executable).parent
BASE = 1_800_000_000  # a whole second, so a line's time is exact to the ms
PATHS = {"api": "/hop", "backend": "/work", "worker": "/run"}
# One timeline line: the error mark, the offset, the unit, the service, the
# level and the message, separated by runs of spaces.
TIMELINE_LINE = re.compile(
    r"^(?P<mark>[! ]) +(?P<offset>\+\d+\.\d{3}|\?) +(?P<unit>[RJ]\d+) +"
    r"(?P<service>\S+) +(?P<level>\S+) +(?P<message>.*)$"
)


@dataclass
class Service:
    file: str
    formatter: logging.Formatter
    compressed: bool
    lines: list[bytes] = field(default_factory=list)


@dataclass
class World:
    root: Path
    services: dict[str, Service] = field(default_factory=dict)
    extra_files: list[str] = field(default_factory=list)
    status: int | None = None
    out: str = ""
    err: str = ""
    page: str = ""


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.chdir(tmp_path)
    return World(tmp_path)


def _record(
    level: int, message: str, at_ms: int, name: str, **fields: object
) -> logging.LogRecord:
    return logging.makeLogRecord(
        {
            "name": name,
            "msg": message,
            "levelno": level,
            "levelname": logging.getLevelName(level),
            "created": BASE + at_ms / 1000,
            "msecs": float(at_ms % 1000),
            **fields,
        }
    )


def _log(world: World, service: str, record: logging.LogRecord) -> None:
    target = world.services[service]
    target.lines.append(target.formatter.format(record).encode() + b"\n")


def _unescape(text: str) -> str:
    # The feature spells control characters as \u001b; the line gets the byte.
    return codecs.decode(text, "unicode_escape") if "\\" in text else text


@given(parsers.parse('a service "{name}" logging JSON lines to "{file}"'))
def json_service(world: World, name: str, file: str) -> None:
    world.services[name] = Service(file, JsonFormatter(), compressed=False)


@given(
    parsers.re(
        r'a service "(?P<name>\w+)" logging key=value lines to "(?P<file>[\w.]+)"'
        r"(?P<compressed> compressed)?$"
    )
)
def kv_service(world: World, name: str, file: str, compressed: str | None) -> None:
    world.services[name] = Service(file, KeyValueFormatter(), bool(compressed))


@given(
    parsers.re(
        r'"(?P<service>\w+)" logs "(?P<message>.*)" for "(?P<rid>[\w-]+)" '
        r"at (?P<at>\d+) ms$"
    )
)
def logs_line(world: World, service: str, message: str, rid: str, at: str) -> None:
    record = _record(
        logging.INFO, _unescape(message), int(at), f"{service}.app", request_id=rid
    )
    _log(world, service, record)


@given(parsers.parse('"{service}" logs an ERROR "{message}" for "{rid}" at {at:d} ms'))
def logs_error(world: World, service: str, message: str, rid: str, at: int) -> None:
    record = _record(logging.ERROR, message, at, f"{service}.app", request_id=rid)
    _log(world, service, record)


@given(
    parsers.parse(
        '"{service}" logs an access line for "{rid}" with status {status:d} and '
        "{duration:g} ms at {at:d} ms"
    )
)
def logs_access(  # noqa: PLR0917 - pytest-bdd passes each by name
    world: World, service: str, rid: str, status: int, duration: float, at: int
) -> None:
    # The arguments and fields AccessLogMiddleware gives its record.
    path = PATHS[service]
    record = _record(
        logging.INFO,
        '%s "%s %s" %d %.1fms',
        at,
        "starlette_correlate.access",
        args=("-", "GET", path, status, duration),
        request_id=rid,
        method="GET",
        path=path,
        status=status,
        duration_ms=duration,
        client="-",
    )
    _log(world, service, record)


@given(
    parsers.re(
        r'"(?P<service>\w+)" logs "(?P<message>[^"]*)" for "(?P<rid>[\w-]+)" in task '
        r'"(?P<task>[\w-]+)"(?: spawned by "(?P<parent>[\w-]+)")? at (?P<at>\d+) ms$'
    )
)
def logs_task_line(  # noqa: PLR0917 - pytest-bdd passes each by name
    world: World,
    service: str,
    message: str,
    rid: str,
    task: str,
    parent: str | None,
    at: str,
) -> None:
    record = _record(
        logging.INFO,
        message,
        int(at),
        "worker.tasks",
        request_id=rid,
        celery_task_id=task,
        celery_parent_id=parent,
    )
    _log(world, service, record)


def _service_of_file(world: World, file: str) -> Service:
    return next(s for s in world.services.values() if s.file == file)


@given(parsers.parse('the file "{file}" also holds a broken JSON line naming "{rid}"'))
def broken_json(world: World, file: str, rid: str) -> None:
    line = '{"level":"INFO","message":"cut short","request_id":"' + rid + '","x'
    _service_of_file(world, file).lines.append(line.encode() + b"\n")


@given(parsers.parse('the file "{file}" also holds a 10 MB line naming "{rid}"'))
def long_line(world: World, file: str, rid: str) -> None:
    line = b'{"message":"' + b"x" * 10_000_000 + b'","request_id":"' + rid.encode()
    _service_of_file(world, file).lines.append(line + b'"}\n')


@given(
    parsers.parse(
        'the file "{file}" also holds a line of unknown format naming "{rid}"'
    )
)
def unknown_format(world: World, file: str, rid: str) -> None:
    line = f"Nov 30 19:40:00 host app[42]: {rid} did something\n"
    _service_of_file(world, file).lines.append(line.encode())


@given(
    parsers.parse('the file "{file}" also holds a line of invalid UTF-8 naming "{rid}"')
)
def invalid_utf8(world: World, file: str, rid: str) -> None:
    line = b'level=INFO message="caf\xe9 \xff" request_id=' + rid.encode() + b"\n"
    _service_of_file(world, file).lines.append(line)


@given(parsers.parse('a binary file "{file}" naming "{rid}"'))
def binary_file(world: World, file: str, rid: str) -> None:
    noise = bytes(range(256)).replace(b"\n", b"")
    (world.root / file).write_bytes(noise + rid.encode() + noise[::-1])
    world.extra_files.append(file)


def _write_files(world: World) -> list[str]:
    files: list[str] = []
    for service in world.services.values():
        data = b"".join(service.lines)
        path = world.root / service.file
        path.write_bytes(gzip.compress(data) if service.compressed else data)
        files.append(service.file)
    return [*files, *world.extra_files]


def _run(world: World, argv: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            world.status = main(argv)
        except SystemExit as stop:
            world.status = stop.code if isinstance(stop.code, int) else 2
    world.out, world.err = out.getvalue(), err.getvalue()
    page = world.root / "trace.html"
    if page.exists():
        world.page = page.read_text(encoding="utf-8")


@when(parsers.parse('I trace "{rid}" over every file'))
def trace_every_file(world: World, rid: str) -> None:
    _run(world, ["trace", rid, *_write_files(world)])


@when(parsers.parse('I trace "{rid}" over every file with an HTML page'))
def trace_with_page(world: World, rid: str) -> None:
    _run(world, ["trace", rid, *_write_files(world), "--html", "trace.html"])


@when(parsers.parse('I trace "{rid}" over "{first}" and "{second}"'))
def trace_two(world: World, rid: str, first: str, second: str) -> None:
    _write_files(world)
    _run(world, ["trace", rid, first, second])


@when(parsers.parse('I trace "{rid}" with "{options}"'))
def trace_with_options(world: World, rid: str, options: str) -> None:
    _write_files(world)
    _run(world, ["trace", rid, *options.split()])


@when(parsers.parse('I run the installed command "{command}"'))
def installed_command(world: World, command: str) -> None:
    _write_files(world)
    program, *arguments = command.split()
    done = subprocess.run(
        [str(BIN / program), *arguments],
        cwd=world.root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    world.status, world.out, world.err = done.returncode, done.stdout, done.stderr


def _timeline(world: World) -> list[dict[str, str]]:
    rows = []
    for line in world.out.splitlines():
        match = TIMELINE_LINE.match(line)
        if match:
            rows.append(match.groupdict())
    return rows


@then(parsers.parse("it exits with status {status:d}"))
def exits_with(world: World, status: int) -> None:
    assert world.status == status, world.out + world.err


@then("the timeline lists, in order:")
def timeline_lists(world: World, datatable: list[list[str]]) -> None:
    header, *expected = datatable
    rows = _timeline(world)
    assert len(rows) == len(expected), world.out
    for row, wanted in zip(rows, expected, strict=True):
        want = dict(zip(header, (cell.strip() for cell in wanted), strict=True))
        assert row["offset"] == want["offset"], world.out
        assert row["service"] == want["service"], world.out
        assert row["level"] == want["level"], world.out
        assert want["message"] in row["message"], world.out


@then(parsers.parse('the timeline shows a request of "{service}" lasting "{duration}"'))
def request_lasting(world: World, service: str, duration: str) -> None:
    assert any(
        re.search(rf"\b{service}\b +request\b.*\b{re.escape(duration)}\b", line)
        for line in world.out.splitlines()
    ), world.out


@then(parsers.parse('no line of "{rid}" is shown'))
def not_shown(world: World, rid: str) -> None:
    for row in _timeline(world):
        assert rid not in row["message"] or "mentions" not in row["message"], world.out
    assert "someone else" not in world.out
    assert "unrelated job" not in world.out
    assert "merely mentions" not in world.out


@then(parsers.parse('the timeline shows the messages "{messages}"'))
def shows_messages(world: World, messages: str) -> None:
    shown = [row["message"] for row in _timeline(world)]
    assert shown == messages.split(", "), world.out + world.err


@then(parsers.parse('the timeline shows a job "{first}" and a job "{second}"'))
def shows_jobs(world: World, first: str, second: str) -> None:
    for task in (first, second):
        assert re.search(rf"\bjob {task}\b", world.out), world.out


@then(parsers.parse('the lines "{first}" and "{second}" are marked as errors'))
def marked(world: World, first: str, second: str) -> None:
    rows = _timeline(world)
    for text in (first, second):
        assert [row["mark"] for row in rows if text in row["message"]] == ["!"]


@then(parsers.parse('the line "{text}" is not marked as an error'))
def not_marked(world: World, text: str) -> None:
    rows = _timeline(world)
    assert [row["mark"] for row in rows if text in row["message"]] == [" "]


@then(parsers.parse("its error output counts {count:d} skipped lines"))
def counts_skipped(world: World, count: int) -> None:
    assert f"skipped {count} lines" in world.err, world.err


@then(parsers.parse('its error output names "{name}"'))
def error_names(world: World, name: str) -> None:
    assert name in world.err, world.err
    assert "Traceback" not in world.err


@then("the timeline holds no escape character")
def no_escape(world: World) -> None:
    assert "\x1b" not in world.out
    assert all(char.isprintable() for char in world.out.replace("\n", ""))


@then(parsers.parse('the timeline shows "{text}"'))
def timeline_shows(world: World, text: str) -> None:
    assert text in world.out, world.out


@then(parsers.parse('the page holds no "{text}"'))
def page_lacks(world: World, text: str) -> None:
    assert world.page, "no page was written"
    assert text not in world.page.lower()


@then(parsers.parse('the page shows "{text}"'))
def page_shows(world: World, text: str) -> None:
    assert text in world.page


@then(parsers.parse("the page has {count:d} bars"))
def page_bars(world: World, count: int) -> None:
    assert world.page.count('class="bar ') == count, world.page


@then("the page loads nothing from elsewhere")
def page_self_contained(world: World) -> None:
    lowered = world.page.lower()
    for marker in ("src=", "href=", "url(", "@import", "<script", "<link"):
        assert marker not in lowered, marker
