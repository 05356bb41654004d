"""A real ``redis-server`` on 127.0.0.1 for the Celery tests, stopped by PID.

The server runs in the foreground as our child, on a free port, with its
working folder, dump file and log in a temporary folder, persistence off:
it writes nothing into the working tree. ``make bootstrap`` installs the
Debian package ``redis-server`` when it is missing.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.servers import free_port

MISSING = (
    "redis-server is not installed: run `make bootstrap` as root, or "
    "`sudo apt-get update && sudo apt-get install -y redis-server`"
)


def _answers_ping(port: int) -> bool:
    with (
        contextlib.suppress(OSError),
        socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock,
    ):
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


@contextlib.contextmanager
def redis_server(folder: Path, *, timeout: float = 20) -> Iterator[str]:
    """Run ``redis-server`` with its files in ``folder``; yield its URL.

    The URL names no database, e.g. ``redis://127.0.0.1:40123``. The server
    is stopped with SIGTERM to its PID on exit (SIGKILL if it lingers).
    """
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError(MISSING)
    port = free_port()
    process = subprocess.Popen(
        [
            executable,
            *("--port", str(port), "--bind", "127.0.0.1"),
            *("--dir", str(folder), "--dbfilename", "test.rdb"),
            *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            *("--logfile", str(folder / "redis.log")),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while not _answers_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = folder / "redis.log"
                detail = log.read_text() if log.exists() else ""
                raise RuntimeError(f"redis-server did not start:\n{detail}")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
