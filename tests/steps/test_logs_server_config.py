"""Steps for features/logs_server_config.feature: the packaged server configs."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import logging.config
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from starlette_correlate.logs import server_log_config
from tests.support.logparse import logging_restored, parse_kv, run_with_id

scenarios("logs_server_config.feature")

BIN = Path(sys.executable).parent


@dataclass
class World:
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    loggers: list[str] = field(default_factory=list)
    bare: io.StringIO = field(default_factory=io.StringIO)
    run: subprocess.CompletedProcess[str] | None = None


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    with world.stack:
        yield world


@given(
    parsers.parse(
        'the server "{server}" gave its loggers "{loggers}" bare handlers of their own'
    )
)
def bare_handlers(world: World, loggers: str) -> None:
    # The worst a server does before applying a config: a handler of its own
    # (no filter, its own format) and propagation off, as hypercorn and
    # granian do.
    world.loggers = loggers.split(",")
    world.stack.enter_context(logging_restored(*world.loggers))
    for name in world.loggers:
        logger = logging.getLogger(name)
        logger.handlers[:] = [logging.StreamHandler(world.bare)]
        logger.propagate = False


@given(
    parsers.parse(
        'the packaged log configuration for "{server}" in "{output}" is applied'
    )
)
def applied(server: str, output: str, capsys: pytest.CaptureFixture[str]) -> None:
    # The handler resolves ext://sys.stdout now: capsys must have replaced it.
    capsys.readouterr()
    logging.config.dictConfig(server_log_config(server, format=output))


@when(
    parsers.parse(
        'each of those loggers logs a line inside a request with ID "{request_id}"'
    )
)
def log_lines(world: World, request_id: str) -> None:
    def log_each() -> None:
        for name in world.loggers:
            logging.getLogger(name).info("line from %s", name)

    run_with_id(request_id, log_each)


def parse_line(line: str, output: str) -> dict[str, object]:
    if output == "json":
        parsed: dict[str, object] = json.loads(line)
        return parsed
    return dict(parse_kv(line))


@then(
    parsers.parse(
        'each logger wrote exactly one "{output}" line carrying "{request_id}"'
    )
)
def one_line_each(
    world: World, output: str, request_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [
        parse_line(line, output) for line in capsys.readouterr().out.splitlines()
    ]
    assert sorted(str(record["logger"]) for record in records) == sorted(world.loggers)
    for record in records:
        assert record["request_id"] == request_id
        assert record["message"] == f"line from {record['logger']}"


@then("nothing reached the server's bare handlers")
def nothing_bare(world: World) -> None:
    assert world.bare.getvalue() == ""


def run_command(command: str) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(command)
    program = sys.executable if argv[0] == "python" else str(BIN / argv[0])
    return subprocess.run(
        [program, *argv[1:]], capture_output=True, text=True, timeout=60, check=False
    )


@when(parsers.parse('I run "{command}"'))
def i_run(world: World, command: str) -> None:
    world.run = run_command(command)


@then(parsers.parse("it exits with status {status:d}"))
def exits_with(world: World, status: int) -> None:
    assert world.run is not None
    assert world.run.returncode == status, world.run.stderr


@then(
    parsers.parse(
        'its output is the JSON of the packaged configuration for "{server}" in '
        '"{output}"'
    )
)
def output_is_json(world: World, server: str, output: str) -> None:
    assert world.run is not None
    assert json.loads(world.run.stdout) == server_log_config(server, format=output)


@then(parsers.parse('its error output names "{wrong}" and lists "{choices}"'))
def error_names(world: World, wrong: str, choices: str) -> None:
    assert world.run is not None
    assert world.run.stdout == ""
    error = world.run.stderr
    assert f"'{wrong}'" in error
    assert all(choice in error for choice in choices.split(", ")), error
