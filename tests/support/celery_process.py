"""A worker process (celery, arq, rq) started by a test and stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import REPO_ROOT

WAIT = 60.0  # seconds: a bound on waiting for the worker, never asserted on


@dataclass
class WorkerProcess:
    """A worker's process and every line it printed so far."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def read(self) -> None:
        """Collect the output until the process closes it (a reader thread)."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, seen: Callable[[list[str]], bool]) -> bool:
        """Wait (at most ``WAIT`` seconds) until ``seen(lines)`` is true."""
        with self.changed:
            return self.changed.wait_for(
                lambda: seen(self.lines) or self.process.poll() is not None,
                timeout=WAIT,
            ) and seen(self.lines)

    @property
    def output(self) -> str:
        """Everything printed so far, for failure messages."""
        with self.changed:
            return "\n".join(self.lines)


@contextlib.contextmanager
def worker_process(
    command: list[str],
    env: dict[str, str],
    *,
    cwd: Path = REPO_ROOT,
    stop: signal.Signals = signal.SIGTERM,
) -> Iterator[WorkerProcess]:
    """Run ``command``, its output (stdout and stderr) collected line by line.

    ``env`` is added to this process's environment. On exit the process gets
    ``stop``, then SIGKILL if it lingers.
    """
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = WorkerProcess(process)
    reader = threading.Thread(target=worker.read, daemon=True)
    reader.start()
    try:
        yield worker
    finally:
        if process.poll() is None:
            process.send_signal(stop)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)


@contextlib.contextmanager
def celery_worker(app: str, env: dict[str, str]) -> Iterator[WorkerProcess]:
    """Run ``celery -A app worker`` (solo pool) from the repository root.

    ``env`` is added to this process's environment. On exit the worker gets
    SIGQUIT (a cold shutdown: what it logged is written, and it does not
    wait seconds for a warm one), then SIGKILL if it lingers.
    """
    with worker_process(
        [
            sys.executable,
            *("-m", "celery", "-A", app, "worker"),
            *("--pool=solo", "--loglevel=INFO", "--concurrency=1"),
            *("--without-heartbeat", "--without-mingle", "--without-gossip"),
        ],
        env,
        stop=signal.SIGQUIT,
    ) as worker:
        yield worker
