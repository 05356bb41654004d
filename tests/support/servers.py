"""Real uvicorn servers on 127.0.0.1 for end-to-end tests.

``serve_in_thread`` runs uvicorn in this process (fast, shares logging
configuration with the test); ``serve_in_subprocess`` runs ``python -m
uvicorn`` as users do, with a ``--log-config``, and collects its output.
Both bind an ephemeral port on loopback and stop by themselves.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
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
        deadline = time.monotonic() + 10
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
    timeout: float = 20,
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
    timeout: float = 20,
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
