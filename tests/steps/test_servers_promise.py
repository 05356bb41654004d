"""Steps for features/servers_promise.feature: five real servers, their lines.

Each server (and mode) is started once per test module and sent one mix of
requests; every scenario then reads that one run's output. The run is
cached by server name, so adding a check costs no server start.
"""

from __future__ import annotations

import json
import re
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from starlette_correlate.logs import server_log_config
from tests.support.logparse import parse_kv
from tests.support.servers import SERVERS, RunningServer, ServerSpec, run_server

scenarios("servers_promise.feature")

# Spaces, quotes and an equals sign: never a safe ID, and a forged field if
# it were ever written raw into a key=value line.
HOSTILE = 'hostile" request_id=forged x'
UPLOAD_ID = "dropped-upload-1"
# Requests held until all of their group arrived: (outcome, how many).
GROUPS = (("own", 3), ("shared", 3), ("ok", 2))


@dataclass
class Run:
    """One server's run: the IDs the client got and the lines it printed."""

    spec: ServerSpec
    ok: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    records: list[dict[str, str]] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)

    @property
    def all_ids(self) -> list[str]:
        return self.ok + self.failed

    @property
    def drops_upload(self) -> bool:
        """Whether the run includes a client dropping mid-upload (see below)."""
        return self.spec.library_lines and not self.spec.whole_bodies

    def parse(self) -> None:
        for line in self.lines:
            try:
                record = (
                    _parse_json(line)
                    if self.spec.log_format == "json"
                    else parse_kv(line)
                )
            except (ValueError, TypeError):
                self.unparsed.append(line)
                continue
            if "SentinelError" not in line:  # the test's own marker, not a request
                self.records.append(record)

    def access_lines(self) -> list[dict[str, str]]:
        return [r for r in self.records if r.get("logger") == self.spec.access_logger]

    def traceback_lines(self) -> list[dict[str, str]]:
        # granian's own line holds a pre-formatted traceback in its message.
        return [
            r
            for r in self.records
            if "exc_info" in r or "Traceback (most recent" in r.get("message", "")
        ]


def _parse_json(line: str) -> dict[str, str]:
    """One JSON line as the key=value parser would give it: strings only."""
    loaded = json.loads(line)
    if not isinstance(loaded, dict):
        raise TypeError(f"not an object: {line!r}")
    return {
        key: json.dumps(value) if isinstance(value, bool) else str(value)
        for key, value in loaded.items()
    }


def client(run: Run, url: str) -> httpx.Client:
    http2 = run.spec.http2
    return httpx.Client(base_url=url, http1=not http2, http2=http2, timeout=20)


def drop_upload(url: str) -> None:
    """Announce 1000 bytes, send 10, and go away; no response is awaited."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nhost: t\r\ncontent-length: 1000\r\n"
            b"x-request-id: " + UPLOAD_ID.encode() + b"\r\n\r\n" + b"x" * 10
        )


def exercise(run: Run, server: RunningServer) -> None:
    with client(run, server.url) as http:
        for headers in ({}, {"X-Request-ID": f"given-{run.spec.name}"}):
            response = http.get("/hello", headers=headers)
            assert response.status_code == 200
            run.ok.append(response.headers["x-request-id"])
        response = http.get("/hello", headers={"X-Request-ID": HOSTILE})
        assert response.headers["x-request-id"] != HOSTILE
        run.ok.append(response.headers["x-request-id"])
        response = http.get("/fail")
        assert response.status_code == 500
        run.failed.append(response.headers["x-request-id"])
        response = http.get("/stream")
        assert response.text == "chunk 0\nchunk 1\nchunk 2\n"
        run.ok.append(response.headers["x-request-id"])
    # Overlapping requests, each on its own connection, held by the app
    # until its whole group is in.
    results: list[tuple[str, httpx.Response]] = []
    lock = threading.Lock()

    def one(outcome: str, size: int) -> None:
        with client(run, server.url) as http:
            response = http.get(
                "/together", params={"group": outcome, "n": size, "outcome": outcome}
            )
        with lock:
            results.append((outcome, response))

    threads = [
        threading.Thread(target=one, args=(outcome, size))
        for outcome, size in GROUPS
        for _ in range(size)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == sum(size for _, size in GROUPS)
    for outcome, response in results:
        assert response.status_code == (200 if outcome == "ok" else 500)
        target = run.ok if outcome == "ok" else run.failed
        target.append(response.headers["x-request-id"])
    expected_access = len(run.all_ids)
    if run.drops_upload:
        # Only the library's access line can log it: the server's own
        # lines of a request without a response are missing or wrong.
        drop_upload(server.url)
        expected_access += 1

    def all_logged(lines: list[str]) -> bool:
        # daphne logs tracebacks from a timer, up to a second later.
        tracebacks = sum("Traceback (most recent" in line for line in lines)
        name = re.escape(run.spec.access_logger)
        access_line = re.compile(rf'logger={name} |"logger":\s*"{name}"')
        access = sum(bool(access_line.search(line)) for line in lines)
        return tracebacks >= len(run.failed) and access >= expected_access

    server.wait_for(all_logged)
    if run.spec.late_errors:
        # Once the server's timer has logged the sentinel's failure, it has
        # logged (or dropped) those of every request before it.
        with client(run, server.url) as http:
            assert http.get("/sentinel").status_code == 500
        server.wait_for(lambda lines: any("SentinelError" in line for line in lines))


@dataclass
class Runs:
    """The runs of this module, by server name, and their temporary folder."""

    folder: Path
    by_name: dict[str, Run] = field(default_factory=dict)


@pytest.fixture(scope="module")
def server_runs() -> Iterator[Runs]:
    with tempfile.TemporaryDirectory(prefix="servers-") as folder:
        yield Runs(Path(folder))


@given(
    parsers.parse("{name} serving the test app as the guide says"),
    target_fixture="run",
)
def serving(server_runs: Runs, name: str) -> Run:
    if name not in server_runs.by_name:
        spec = SERVERS[name]
        run = Run(spec)
        config = server_log_config(spec.server, format=spec.log_format)
        with run_server(spec, config, server_runs.folder) as server:
            exercise(run, server)
            run.lines = server.stop()
        run.parse()
        server_runs.by_name[name] = run
    return server_runs.by_name[name]


@when(
    "a client sends a plain, an identified, a hostile, a failing and a streaming "
    "request, then overlapping ones"
)
def requests_sent(run: Run) -> None:
    assert len(run.all_ids) == 5 + sum(size for _, size in GROUPS)
    assert len(set(run.all_ids)) == len(run.all_ids)


@when("a client announces a body of 1000 bytes, sends 10 and goes away")
def upload_dropped(run: Run) -> None:
    assert run.drops_upload  # done in the server's one run, see exercise()


@then("each request has exactly one access line, and it carries that request's ID")
def access_lines(run: Run) -> None:
    lines = run.access_lines()
    by_id = sorted(line.get("request_id", "") for line in lines)
    expected = sorted(run.all_ids + ([UPLOAD_ID] if run.drops_upload else []))
    assert by_id == expected


@then(
    "each failed request has exactly one traceback line, and it carries that "
    "request's ID"
)
def traceback_lines(run: Run) -> None:
    lines = run.traceback_lines()
    loggers = {line["logger"] for line in lines}
    assert loggers <= set(run.spec.error_loggers), loggers
    carried = sorted(line["request_id"] for line in lines)
    # Starlette raises ClientDisconnect for the dropped upload: a traceback.
    expected = sorted(run.failed + ([UPLOAD_ID] if run.drops_upload else []))
    assert carried == expected


@then("the hostile incoming ID appears in no line")
def hostile_nowhere(run: Run) -> None:
    assert run.lines
    assert not any(HOSTILE in line for line in run.lines)
    assert not any(r.get("request_id") == "forged" for r in run.records)


@then("every line the server printed is one record in its format")
def all_parsed(run: Run) -> None:
    assert not run.unparsed, run.unparsed[:5]


@then("the access line of the dropped upload has status 499 and is marked incomplete")
def dropped_upload(run: Run) -> None:
    (line,) = [r for r in run.access_lines() if r["request_id"] == UPLOAD_ID]
    assert (line["status"], line["incomplete"]) == ("499", "true")
