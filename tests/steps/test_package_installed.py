"""Steps for features/package_installed.feature: the wheel in a fresh venv.

Everything the user does happens in a temporary folder outside the checkout,
with the virtualenv's own executables and no path into this repository.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from starlette_correlate import is_safe_id
from tests.support.dist import (
    Distributions,
    build_wheel_from_sdist,
    uv,
    wheel_metadata,
)
from tests.support.guide import recipe_source
from tests.support.logparse import parse_kv
from tests.support.servers import REPO_ROOT, free_port, serve_command

scenarios("package_installed.feature")

HOSTILE = 'evil" request_id=forged'
# The test's own route, added below the user's app to reach the error path.
FAILING_ROUTE = """

@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("boom")
"""


@dataclass
class User:
    """A user's machine: a folder, a virtualenv, what they ran and saw."""

    home: Path
    venv: Path | None = None
    wheel: Path | None = None
    responses: list[httpx.Response] = field(default_factory=list)
    output: str = ""
    records: list[dict[str, str]] = field(default_factory=list)

    @property
    def bin(self) -> Path:
        assert self.venv is not None
        return self.venv / "bin"

    def env(self) -> dict[str, str]:
        """The environment of a shell with the virtualenv activated."""
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
        }
        env["VIRTUAL_ENV"] = str(self.venv)
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return env

    def executable(self, name: str) -> str:
        found = shutil.which(name, path=str(self.bin))
        assert found is not None, f"{name} is not installed in the virtualenv"
        return found

    def lines_with(self, request_id: str) -> list[dict[str, str]]:
        return [r for r in self.records if r.get("request_id") == request_id]


@given(
    "the wheel and the sdist built from this checkout",
    target_fixture="distributions",
)
def distributions(built: Distributions) -> Distributions:
    return built


@pytest.fixture
def user(tmp_path: Path) -> User:
    home = tmp_path / "home"
    home.mkdir()
    assert not home.is_relative_to(REPO_ROOT)
    return User(home=home)


@given(
    "a fresh virtualenv outside the checkout, with the wheel, fastapi and "
    "uvicorn installed"
)
def fresh_virtualenv(user: User, distributions: Distributions) -> None:
    user.venv = user.home.parent / "venv"
    user.wheel = distributions.wheel
    # The stdlib venv users make; uv installs into it from its persistent
    # cache (~/.cache/uv), so only the first run downloads. The httpx extra
    # proves the extras' metadata resolves.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(user.venv)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *(uv(), "pip", "install", "--quiet"),
            *("--python", str(user.bin / "python")),
            f"starlette-correlate[httpx] @ {distributions.wheel.as_uri()}",
            *("fastapi", "uvicorn"),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=user.home,
    )


@given(
    "the quick-start app of the site and the README in an empty folder, "
    "with a route that fails"
)
def quick_start_app(user: User) -> None:
    source = recipe_source("quickstart-app")
    app = source.split("\n", 1)[1]  # without the "# recipe:" tag line
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```python\n{app}```" in readme, "the README's quick start differs"
    (user.home / "app.py").write_text(app + FAILING_ROUTE, encoding="utf-8")


def _documented(command: str) -> None:
    for document in ("README.md", "docs/quick-start.md"):
        text = (REPO_ROOT / document).read_text(encoding="utf-8")
        assert f"\n{command}\n" in text, f"{document} does not show {command!r}"


@when(parsers.parse('the user runs "{command}"'))
def user_runs(user: User, command: str) -> None:
    _documented(command)
    words, _, target = command.partition(">")
    argv = shlex.split(words)
    done = subprocess.run(
        [user.executable(argv[0]), *argv[1:]],
        cwd=user.home,
        env=user.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (user.home / target.strip()).write_text(done.stdout, encoding="utf-8")


@when(
    parsers.parse('the user serves it with "{command}"'),
    target_fixture="serving",
)
def user_serves(user: User, command: str) -> list[str]:
    _documented(command)
    argv = shlex.split(command)
    return [user.executable(argv[0]), *argv[1:]]


@when('a client calls "/", then "/boom", then "/" with a hostile X-Request-ID')
def client_calls(user: User, serving: list[str]) -> None:
    port = free_port()
    command = [*serving, "--host", "127.0.0.1", "--port", str(port)]
    with (
        serve_command(command, port=port, cwd=user.home, env=user.env()) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        user.responses = [
            client.get("/"),
            client.get("/boom"),
            client.get("/", headers={"X-Request-ID": HOSTILE}),
        ]
        user.output = server.stop()
    assert [r.status_code for r in user.responses] == [200, 500, 200], user.output


@then("the package the server ran is the wheel's, from the virtualenv")
def package_from_venv(user: User) -> None:
    assert user.wheel is not None
    done = subprocess.run(
        [
            user.executable("python"),
            "-c",
            "import starlette_correlate as p; print(p.__file__); print(p.__version__)",
        ],
        cwd=user.home,
        env=user.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    where, version = done.stdout.split()
    assert user.venv is not None
    assert Path(where).is_relative_to(user.venv)
    assert version == wheel_metadata(user.wheel)["Version"]


@then("every line the server printed is one key=value record")
def every_line_a_record(user: User) -> None:
    lines = [line for line in user.output.splitlines() if line]
    assert lines
    user.records = [parse_kv(line) for line in lines]


def _ids(user: User) -> list[str]:
    ids = [r.headers["x-request-id"] for r in user.responses]
    assert all(is_safe_id(i) for i in ids), ids
    assert len(set(ids)) == len(ids), ids
    return ids


@then(
    parsers.parse(
        'the app\'s "{message}" line for each call to "/" '
        "carries the ID of its response"
    )
)
def app_lines(user: User, message: str) -> None:
    for request_id in (_ids(user)[0], _ids(user)[2]):
        mine = [
            r
            for r in user.lines_with(request_id)
            if r.get("logger") == "app" and r.get("message") == message
        ]
        assert len(mine) == 1, (request_id, user.output)


@then("uvicorn's access line for each call carries the ID of its response")
def access_lines(user: User) -> None:
    for response, request_id in zip(user.responses, _ids(user), strict=True):
        path = response.request.url.path
        access = [
            r
            for r in user.records
            if r.get("logger") == "uvicorn.access"
            and f'"GET {path} HTTP/1.1" {response.status_code}' in r.get("message", "")
            and r.get("request_id") == request_id
        ]
        assert len(access) == 1, (request_id, user.output)


@then(
    parsers.parse(
        'uvicorn\'s "{message}" line carries the ID of the 500 response, once'
    )
)
def error_line(user: User, message: str) -> None:
    failed = user.responses[1]
    request_id = failed.headers["x-request-id"]
    assert failed.json()["request_id"] == request_id
    # uvicorn's message ends with a newline.
    errors = [r for r in user.records if r.get("message", "").strip() == message]
    assert len(errors) == 1, user.output
    assert errors[0]["logger"] == "uvicorn.error"
    assert errors[0]["request_id"] == request_id
    assert "RuntimeError: boom" in errors[0]["exc_info"]
    # The traceback is in that record only.
    assert sum("RuntimeError: boom" in r.get("exc_info", "") for r in user.records) == 1


@then("the hostile ID was replaced and appears in no line")
def hostile_replaced(user: User) -> None:
    replaced = user.responses[2].headers["x-request-id"]
    assert replaced != HOSTILE
    assert user.lines_with(replaced)
    assert "forged" not in user.output
    assert "evil" not in user.output


@when("a wheel is built from the sdist", target_fixture="rebuilt")
def wheel_from_sdist(distributions: Distributions, tmp_path: Path) -> Path:
    return build_wheel_from_sdist(distributions.sdist, tmp_path / "from-sdist")


@then(
    "it holds the same files, with the same contents, as the wheel built from "
    "the checkout"
)
def same_wheel(distributions: Distributions, rebuilt: Path) -> None:
    def contents(wheel: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(wheel) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    direct, indirect = contents(distributions.wheel), contents(rebuilt)
    assert sorted(direct) == sorted(indirect)
    assert direct == indirect
