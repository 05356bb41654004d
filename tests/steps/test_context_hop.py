"""Steps for features/context_hop.feature: two real uvicorn services."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from starlette_correlate.logs import server_log_config
from tests.support.servers import ServerProcess, serve_in_subprocess

pytestmark = pytest.mark.server

scenarios("context_hop.feature")

LOG_CONFIG = server_log_config("uvicorn", format="json")


@dataclass
class World:
    stack: ExitStack
    config: str
    a: ServerProcess | None = None
    b: ServerProcess | None = None
    response: httpx.Response | None = None
    lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        assert self.response is not None
        data: dict[str, Any] = self.response.json()
        return data

    def logs(self, service: str) -> list[dict[str, Any]]:
        """Stop both services once; return the JSON log lines of one."""
        if not self.lines:
            for name, server in (("A", self.a), ("B", self.b)):
                assert server is not None
                self.lines[name] = [
                    json.loads(line)
                    for line in server.stop().splitlines()
                    if line.startswith("{")
                ]
        return self.lines[service]

    def the_id(self) -> str:
        assert self.response is not None
        return self.response.headers["X-Request-ID"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    config = tmp_path / "logging.json"
    config.write_text(json.dumps(LOG_CONFIG))
    with ExitStack() as stack:
        yield World(stack=stack, config=str(config))


@given("service B and service A run under uvicorn on 127.0.0.1")
def two_services(world: World) -> None:
    args = ["--log-config", world.config, "--no-access-log"]
    world.b = world.stack.enter_context(
        serve_in_subprocess("examples.backend:app", extra_args=args)
    )
    world.a = world.stack.enter_context(
        serve_in_subprocess(
            "examples.service:app", extra_args=args, env={"BACKEND_URL": world.b.url}
        )
    )


@when(parsers.parse('a client calls A\'s "{path}" with X-Request-ID "{cid}"'))
def call_with_id(world: World, path: str, cid: str) -> None:
    assert world.a is not None
    world.response = httpx.get(f"{world.a.url}{path}", headers={"X-Request-ID": cid})


@when(parsers.parse('a client calls A\'s "{path}" without an ID'))
def call_without_id(world: World, path: str) -> None:
    assert world.a is not None
    world.response = httpx.get(f"{world.a.url}{path}")


@then(parsers.parse('A answers with X-Request-ID "{cid}"'))
def a_answers(world: World, cid: str) -> None:
    assert world.response is not None
    assert world.response.status_code == 200
    assert world.response.headers.get_list("X-Request-ID") == [cid]


@then("A answers with a generated ID in X-Request-ID")
def a_answers_generated(world: World) -> None:
    assert world.response is not None
    assert world.response.status_code == 200
    assert uuid.UUID(world.the_id()).version == 7


@then(parsers.parse("B's response header and B's handler carried \"{cid}\""))
def b_carried(world: World, cid: str) -> None:
    body = world.body()
    assert body["request_id"] == cid
    assert body["backend_header"] == cid
    assert body["backend_request_id"] == cid


@then("B's response header and B's handler carried that ID")
def b_carried_that(world: World) -> None:
    b_carried(world, world.the_id())


@then(parsers.parse('B\'s log line "{message}" carries "{cid}"'))
def b_logged(world: World, message: str, cid: str) -> None:
    lines = [line for line in world.logs("B") if line["message"] == message]
    assert [line["request_id"] for line in lines] == [cid]


@then(parsers.parse('B\'s log line "{message}" carries that ID'))
def b_logged_that(world: World, message: str) -> None:
    b_logged(world, message, world.the_id())


@then(parsers.parse('A\'s log lines for the hop carry "{cid}"'))
def a_logged(world: World, cid: str) -> None:
    lines = [line for line in world.logs("A") if line["message"].startswith("hop:")]
    assert len(lines) == 3
    assert {line["request_id"] for line in lines} == {cid}


@then(parsers.parse('A\'s lines carry user_id "{user}" only after it was bound'))
def a_user_bound(world: World, user: str) -> None:
    lines = [line for line in world.logs("A") if line["message"].startswith("hop:")]
    assert [line.get("user_id") for line in lines] == [None, user, user]


@given("service B and service A run with two IDs under uvicorn on 127.0.0.1")
def two_services_two_ids(world: World) -> None:
    args = ["--log-config", world.config, "--no-access-log"]
    world.b = world.stack.enter_context(
        serve_in_subprocess("tests.support.two_id_services:back", extra_args=args)
    )
    world.a = world.stack.enter_context(
        serve_in_subprocess(
            "tests.support.two_id_services:front",
            extra_args=args,
            env={"BACKEND_URL": world.b.url},
        )
    )


@when(
    parsers.parse(
        'a client calls A\'s "{path}" with X-Request-ID "{cid}" '
        'and X-Correlation-ID "{inherited}"'
    )
)
def call_with_two_ids(world: World, path: str, cid: str, inherited: str) -> None:
    assert world.a is not None
    world.response = httpx.get(
        f"{world.a.url}{path}",
        headers={"X-Request-ID": cid, "X-Correlation-ID": inherited},
    )


@then(
    parsers.parse(
        'A answers with X-Correlation-ID "{inherited}" and its own new X-Request-ID'
    )
)
def a_answers_two(world: World, inherited: str) -> None:
    assert world.response is not None
    assert world.response.status_code == 200
    assert world.response.headers.get_list("X-Correlation-ID") == [inherited]
    front = world.body()["front"]
    assert world.response.headers.get_list("X-Request-ID") == [front["request_id"]]
    assert front == {
        "request_id": front["request_id"],
        "inherited": inherited,
        "parent": "caller-1",
    }
    assert uuid.UUID(front["request_id"]).version == 7


@then(
    parsers.parse(
        'B ran under "{inherited}", a new request ID of its own, '
        "and A's request ID as parent"
    )
)
def b_ran_two(world: World, inherited: str) -> None:
    body = world.body()
    back, front = body["back"], body["front"]
    assert back["inherited"] == inherited
    assert back["parent"] == front["request_id"]
    assert back["request_id"] not in (front["request_id"], "caller-1")
    assert uuid.UUID(back["request_id"]).version == 7


@then(
    parsers.parse(
        'B\'s log line "{message}" carries "{inherited}" and A\'s request ID '
        "as request_id_parent"
    )
)
def b_logged_two(world: World, message: str, inherited: str) -> None:
    body = world.body()
    (line,) = [line for line in world.logs("B") if line["message"] == message]
    assert line["correlation_id"] == inherited
    assert line["request_id_parent"] == body["front"]["request_id"]
    assert line["request_id"] == body["back"]["request_id"]
