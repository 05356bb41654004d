"""Start and stop the example services as uvicorn subprocesses on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(
    app: str, port: int, log_config: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start ``uvicorn app`` on 127.0.0.1:``port``, its output piped to us."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-config",
        str(log_config),
    ]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
        command,
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_listening(port: int, server: subprocess.Popen[str]) -> None:
    """Return once ``port`` accepts connections; exit if the server died."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"uvicorn exited early:\n{server.communicate()[0]}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), 0.2),
        ):
            return
        time.sleep(0.05)
    raise SystemExit(f"uvicorn did not listen on port {port} within 20 s")


def stop(server: subprocess.Popen[str]) -> list[str]:
    """Stop ``server`` and return the lines it printed."""
    if server.poll() is None:
        server.terminate()
    try:
        output, _ = server.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        output, _ = server.communicate()
    return output.splitlines()
