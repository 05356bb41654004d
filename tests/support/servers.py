"""Real servers on 127.0.0.1 for end-to-end tests.

``serve_in_thread`` runs uvicorn in this process (fast, shares logging
configuration with the test); ``serve_in_subprocess`` runs ``python -m
uvicorn`` as users do, with a ``--log-config``, and collects its output.
``run_server`` starts any server of :data:`SERVERS` (uvicorn with h11 or
httptools, gunicorn with uvicorn-worker, hypercorn, granian, daphne) with
the command line the users' guide gives, a log configuration written to a
temporary folder, and ``HOME`` there too (gunicorn writes a control socket
under it). All bind an ephemeral port on loopback and are stopped by PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

REPO_ROOT = Path(__file__).resolve().parents[2]


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    """Return a port on 127.0.0.1 that was free a moment ago."""
    with contextlib.closing(_loopback_socket()) as sock:
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serve_in_thread(
    app: ASGIApp, *, log_level: str = "warning", access_log: bool = False
) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread; yield its base URL."""
    sock = _loopback_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=access_log,
        log_config=None,
        lifespan="auto",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class ServerProcess:
    """A uvicorn subprocess: its URL and, once stopped, everything it printed."""

    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def stop(self) -> str:
        """Stop the server and return its combined output."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            out, _ = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        self.output.append(out)
        return "".join(self.output)


def _wait_for_port(port: int, process: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, _ = process.communicate()
            raise RuntimeError(f"uvicorn exited early:\n{out}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.2),
        ):
            return
        time.sleep(0.05)
    raise RuntimeError("uvicorn did not start listening in time")


@contextlib.contextmanager
def serve_in_subprocess(
    app_path: str,
    *,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Iterator[ServerProcess]:
    """Run ``python -m uvicorn app_path`` on 127.0.0.1; yield the process.

    Call ``stop()`` on the yielded object to read the output; it is also
    stopped on exit.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app_path,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *extra_args,
    ]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with serve_command(
        command, port=port, cwd=REPO_ROOT, env=full_env, timeout=timeout
    ) as server:
        yield server


@contextlib.contextmanager
def serve_command(
    command: Sequence[str],
    *,
    port: int,
    cwd: Path,
    env: dict[str, str],
    timeout: float = 60,
) -> Iterator[ServerProcess]:
    """Run ``command``, a server told to listen on 127.0.0.1:``port``.

    Yield once the port accepts connections; stop the process by its PID on
    exit (``stop()`` earlier to read its output).
    """
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = ServerProcess(url=f"http://127.0.0.1:{port}", process=process)
    try:
        _wait_for_port(port, process, timeout)
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class ServerSpec:
    """One server as the guide runs it.

    ``server`` names its log configuration; ``argv(app, port, log_config)``
    is its documented command line; ``http2`` makes the client speak h2c
    (prior knowledge); ``library_lines`` means the app turns on the
    library's access and error lines, because the server's own cannot
    carry the ID; ``access_logger`` is the logger of the access lines;
    ``whole_bodies`` means the server calls the app only once the request
    body is complete (daphne), so a client that drops mid-upload never
    reaches the app; ``late_errors`` that the server logs failures from a
    timer, later (daphne: its app serves ``/sentinel``, see
    ``tests.support.server_app.with_sentinel``).
    """

    name: str
    server: str
    app: str
    argv: Callable[[str, int, Path], list[str]]
    access_logger: str
    error_loggers: tuple[str, ...]
    http2: bool = False
    library_lines: bool = False
    whole_bodies: bool = False
    late_errors: bool = False
    log_format: str = "kv"


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _uvicorn(http: str) -> Callable[[str, int, Path], list[str]]:
    def argv(app: str, port: int, log_config: Path) -> list[str]:
        return [
            _bin("uvicorn"), app, "--host", "127.0.0.1", "--port", str(port),
            "--http", http, "--log-config", str(log_config),
        ]  # fmt: skip

    return argv


def _gunicorn(app: str, port: int, log_config: Path) -> list[str]:
    return [
        _bin("gunicorn"), app, "--worker-class", "uvicorn_worker.UvicornWorker",
        "--workers", "1", "--bind", f"127.0.0.1:{port}",
        "--log-config-json", str(log_config),
    ]  # fmt: skip


def _hypercorn(app: str, port: int, log_config: Path) -> list[str]:
    return [
        _bin("hypercorn"), app, "--bind", f"127.0.0.1:{port}",
        "--log-config", f"json:{log_config}", "--access-logfile", "-",
    ]  # fmt: skip


def _granian(app: str, port: int, log_config: Path) -> list[str]:
    return [
        _bin("granian"), "--interface", "asgi", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1", "--log-config", str(log_config),
        app,
    ]  # fmt: skip


def _daphne(app: str, port: int, log_config: Path) -> list[str]:
    # No log option: the app module configures logging (see the guide).
    return [_bin("daphne"), "-b", "127.0.0.1", "-p", str(port), "-v", "0", app]


_APP = "tests.support.server_app:app"
_LIBRARY_APP = "tests.support.server_app:app_with_library_lines"
_LIBRARY = ("starlette_correlate.error",)

SERVERS: dict[str, ServerSpec] = {
    spec.name: spec
    for spec in (
        ServerSpec("uvicorn-h11", "uvicorn", _APP, _uvicorn("h11"),
                   "uvicorn.access", ("uvicorn.error",)),
        ServerSpec("uvicorn-httptools", "uvicorn", _APP, _uvicorn("httptools"),
                   "uvicorn.access", ("uvicorn.error",)),
        ServerSpec("uvicorn-json", "uvicorn", _APP, _uvicorn("h11"),
                   "uvicorn.access", ("uvicorn.error",), log_format="json"),
        ServerSpec("gunicorn", "gunicorn", _APP, _gunicorn,
                   "uvicorn.access", ("uvicorn.error",)),
        ServerSpec("hypercorn", "hypercorn", _APP, _hypercorn,
                   "hypercorn.access", ("hypercorn.error",)),
        ServerSpec("hypercorn-h2c", "hypercorn", _APP, _hypercorn,
                   "hypercorn.access", ("hypercorn.error",), http2=True),
        ServerSpec("granian", "granian", _LIBRARY_APP, _granian,
                   "starlette_correlate.access", _LIBRARY, library_lines=True),
        ServerSpec("daphne", "daphne", "tests.support.server_app_daphne:app",
                   _daphne, "starlette_correlate.access", _LIBRARY,
                   library_lines=True, whole_bodies=True, late_errors=True),
    )
}  # fmt: skip
"""Every server and mode the server-line promise covers, by test name."""


@dataclass
class RunningServer:
    """A server subprocess whose output a thread collects line by line."""

    url: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def start_reading(self) -> None:
        """Collect the output in a thread, so it can be awaited while running."""
        assert self.process.stdout is not None
        stdout = self.process.stdout

        def read() -> None:
            for line in stdout:
                self.lines.append(line.rstrip("\n"))

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()

    def wait_for(self, done: Callable[[list[str]], bool], timeout: float = 60) -> None:
        """Return once ``done(lines)`` holds; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not done(list(self.lines)):
            if time.monotonic() > deadline or self.process.poll() is not None:
                tail = "\n".join(line[:300] for line in self.lines[-10:])
                raise AssertionError(f"server output never got there:\n{tail}")
            time.sleep(0.05)

    def stop(self) -> list[str]:
        """Stop the server by its PID and return every line it printed."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.reader is not None:
            self.reader.join(timeout=5)
        return list(self.lines)


@contextlib.contextmanager
def run_server(
    spec: ServerSpec, log_config: Mapping[str, object], folder: Path
) -> Iterator[RunningServer]:
    """Start ``spec``'s server with ``log_config`` on 127.0.0.1; yield it.

    The configuration is written to ``folder`` as JSON; the server's
    working directory is the repository (for the ``tests.support`` app),
    its ``HOME`` is ``folder``. Stopped by PID on exit.
    """
    config_path = folder / f"{spec.name}-log.json"
    config_path.write_text(json.dumps(log_config), encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "HOME": str(folder),
    }
    process = subprocess.Popen(
        spec.argv(spec.app, port, config_path),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = RunningServer(url=f"http://127.0.0.1:{port}", process=process)
    server.start_reading()
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                server.stop()
                raise RuntimeError(
                    f"{spec.name} exited early:\n" + "\n".join(server.lines)
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=0.2),
            ):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{spec.name} did not listen in time")
            time.sleep(0.05)
        yield server
    finally:
        server.stop()
