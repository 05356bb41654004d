"""Steps for features/logs_uvicorn.feature: a real uvicorn process's output."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from tests.support.logparse import parse_kv
from tests.support.servers import ServerProcess, serve_in_subprocess

scenarios("logs_uvicorn.feature")

COMMAND = str(Path(sys.executable).parent / "starlette-correlate")


@dataclass
class World:
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    server: ServerProcess | None = None
    ids: dict[str, str] = field(default_factory=dict)
    # The parsed lines of each format the server wrote: "kv", "json" or both.
    formats: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    def parse(self, output: str) -> None:
        # Every line the server printed must be one whole record.
        for line in output.splitlines():
            if line.startswith("{"):
                self.formats.setdefault("json", []).append(json.loads(line))
            elif line:
                self.formats.setdefault("kv", []).append(dict(parse_kv(line)))

    def by(self, logger: str, needle: str) -> list[list[dict[str, object]]]:
        """Return, per format, the lines of ``logger`` whose message has ``needle``."""
        assert self.formats
        return [
            [
                line
                for line in lines
                if line["logger"] == logger and needle in str(line["message"])
            ]
            for lines in self.formats.values()
        ]


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    with world.stack:
        yield world


@given(
    parsers.parse(
        'uvicorn serving the example service with the packaged "{output}" log '
        "configuration"
    )
)
def uvicorn_serving(
    world: World, output: str, tmp_path: Path, app: str = "examples.service:app"
) -> None:
    # As a user does: the command's output, written to a file of their own.
    printed = subprocess.run(
        [COMMAND, "log-config", "uvicorn", "--format", output],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    config = tmp_path / "log.json"
    config.write_text(printed.stdout, encoding="utf-8")
    world.server = world.stack.enter_context(
        serve_in_subprocess(app, extra_args=["--log-config", str(config)])
    )


@given(
    parsers.parse(
        'uvicorn serving a two-ID service with the packaged "{output}" log '
        "configuration"
    )
)
def uvicorn_serving_two_ids(world: World, output: str, tmp_path: Path) -> None:
    uvicorn_serving(world, output, tmp_path, "tests.support.two_id_services:front")


@when(parsers.parse('a client calls "{first}" and then "{second}"'))
def client_calls(world: World, first: str, second: str) -> None:
    assert world.server is not None
    with httpx.Client(base_url=world.server.url) as client:
        for path, status in ((first, 200), (second, 500)):
            response = client.get(path)
            assert response.status_code == status
            world.ids[path] = response.headers["x-request-id"]
    world.parse(world.server.stop())


@when(
    parsers.parse(
        'a client calls "{path}" with X-Request-ID "{cid}" and X-Correlation-ID '
        '"{inherited}"'
    )
)
def client_calls_two_ids(world: World, path: str, cid: str, inherited: str) -> None:
    assert world.server is not None
    response = httpx.get(
        f"{world.server.url}{path}",
        headers={"X-Request-ID": cid, "X-Correlation-ID": inherited},
    )
    assert response.status_code == 500
    assert response.headers["x-correlation-id"] == inherited
    world.ids[path] = response.headers["x-request-id"]
    world.parse(world.server.stop())


@then(
    parsers.parse('uvicorn\'s access line for "{path}" carries the ID of its response')
)
def access_line(world: World, path: str) -> None:
    for lines in world.by("uvicorn.access", f'"GET {path} HTTP/1.1"'):
        (line,) = lines
        assert line["request_id"] == world.ids[path]


@then('the "Exception in ASGI application" line carries the ID of the 500 response')
def error_line(world: World) -> None:
    for lines in world.by("uvicorn.error", "Exception in ASGI application"):
        (line,) = lines
        assert line["request_id"] == world.ids["/fail"]
        assert line["level"] == "ERROR"
        assert str(line["exc_info"]).startswith("Traceback (most recent call last):")


@then("the traceback was logged exactly once")
def traceback_once(world: World) -> None:
    for lines in world.formats.values():
        with_traceback = [
            line for line in lines if "Traceback" in str(line.get("exc_info", ""))
        ]
        assert len(with_traceback) == 1
        everything = "\n".join(json.dumps(line) for line in lines)
        assert everything.count("RuntimeError: something broke in /fail") == 1


@then(
    parsers.parse(
        'that line carries correlation_id "{inherited}" and request_id_parent '
        '"{parent}"'
    )
)
def error_line_two_ids(world: World, inherited: str, parent: str) -> None:
    for lines in world.by("uvicorn.error", "Exception in ASGI application"):
        (line,) = lines
        assert line.get("correlation_id") == inherited
        assert line.get("request_id_parent") == parent
