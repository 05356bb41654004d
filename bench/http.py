# ruff: noqa: A005 - the Makefile's `python -m bench.http`; imported as bench.http only
"""``make bench-http``: throughput over real HTTP, bare app against ours.

Each variant of the benchmark app runs in its own server process (one
worker, 127.0.0.1, no access log): uvicorn by default, or with ``--server``
uvicorn with httptools, gunicorn with uvicorn-worker, hypercorn, granian or
daphne. A small asyncio load generator in this
process keeps a fixed number of keep-alive connections busy against one
server at a time, in short slices that alternate between the variants (the
order flips every round), until the time budget is spent. Throughput is
responses per second of wall time; the report gives each variant's
throughput over all its slices, the median of the per-round ratios to the
bare app, and the interquartile range of those ratios.

On a shared machine the wall clock also measures the neighbours, so the
report adds the server's own CPU time per response (from
``/proc/<pid>/task/*/schedstat`` on Linux) and the ratio bare / variant of
it: the throughput ratio the two servers would show with a core each. The
target is judged on that ratio where it is available.

The generator needs nothing beyond the standard library: it writes one
pre-built request per response and counts responses by their
``Content-Length``, which costs far less than serving them, so the server
stays the bottleneck.

Usage::

    python -m bench.http [--server uvicorn] [--duration 60] [--slice 2]
                         [--connections 8] [--peers] [--json PATH]

Each variant's resident memory (RSS, summed over the server's process tree:
gunicorn and granian run a worker under a master) is read after the
warm-up and at the end; the report gives both, for the growth over a run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.stats import median, spread

REPO_ROOT = Path(__file__).resolve().parents[1]

APPS = {
    "bare": "bench.apps:bare",
    "starlette-correlate": "bench.apps:correlated",
    "floor": "bench.apps:floor",
    "asgi-correlation-id": "bench.apps:asgi_correlation_id",
}
TARGET = 0.92

_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench/1.0\r\n\r\n"
_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


class _Connection(asyncio.Protocol):
    """One keep-alive connection that sends a request per response."""

    def __init__(self, counter: list[int]) -> None:
        self.counter = counter
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.first_response: bytes | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - TCP only
        self.transport = transport
        transport.write(_REQUEST)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            match = _LENGTH.search(buffer, 0, end + 2)
            total = end + 4 + (int(match.group(1)) if match else 0)
            if len(buffer) < total:
                break
            if self.first_response is None:
                self.first_response = buffer[:total]
            buffer = buffer[total:]
            self.counter[0] += 1
            if self.transport is not None:
                self.transport.write(_REQUEST)
        self.buffer = buffer

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def load(port: int, seconds: float, connections: int) -> tuple[int, float, bytes]:
    """Load 127.0.0.1:``port`` for ``seconds``; return (responses, secs, sample)."""
    loop = asyncio.get_running_loop()
    counter = [0]
    protocols: list[_Connection] = []
    for _ in range(connections):
        _, protocol = await loop.create_connection(
            lambda: _Connection(counter), "127.0.0.1", port
        )
        protocols.append(protocol)
    start_count = counter[0]
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    done = counter[0] - start_count
    elapsed = time.perf_counter() - start
    for protocol in protocols:
        if protocol.transport is not None:
            protocol.transport.close()
    await asyncio.gather(*(p.closed for p in protocols))
    return done, elapsed, protocols[0].first_response or b""


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited early")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.2),
        ):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the server on port {port} did not start in {timeout} s")


def _tree(pid: int) -> list[int]:
    """Return ``pid`` and all its descendants (Linux ``/proc``), else ``[pid]``."""
    found = [pid]
    index = 0
    while index < len(found):
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{found[index]}/task").iterdir():
                children = (task / "children").read_text().split()
                found.extend(int(child) for child in children)
        index += 1
    return found


def server_cpu_ns(pid: int) -> int | None:
    """Return the CPU time the process ``pid`` and its children used, in ns.

    Sums ``/proc/<pid>/task/*/schedstat`` (nanosecond resolution, unlike
    ``/proc/<pid>/stat``'s clock ticks) over the process tree: a master
    process's workers do the serving. ``None`` where there is no such file
    (Linux only).
    """
    total = 0
    try:
        for process in _tree(pid):
            for task in Path(f"/proc/{process}/task").iterdir():
                total += int((task / "schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total


def server_rss_kib(pid: int) -> int | None:
    """Return the resident memory of ``pid`` and its children, in KiB; Linux only."""
    total = 0
    try:
        for process in _tree(pid):
            status = Path(f"/proc/{process}/status").read_text()
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            total += int(match.group(1)) if match else 0
    except (OSError, ValueError):
        return None
    return total


def _command(server: str, target: str, port: int) -> list[str]:
    """Return the command serving ``target`` on 127.0.0.1:``port``, quietly."""
    bin_dir = Path(sys.executable).parent
    if server in ("uvicorn", "uvicorn-httptools"):
        http = "httptools" if server == "uvicorn-httptools" else "h11"
        return [
            str(bin_dir / "uvicorn"), target, "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1", "--http", http,
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    if server == "gunicorn":
        return [
            str(bin_dir / "gunicorn"), target,
            "--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "1",
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        ]  # fmt: skip
    if server == "hypercorn":
        return [
            str(bin_dir / "hypercorn"), target, "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--log-level", "warning",
        ]  # fmt: skip
    if server == "granian":
        return [
            str(bin_dir / "granian"), "--interface", "asgi", "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1", "--log-level", "warning",
            target,
        ]  # fmt: skip
    if server == "daphne":
        return [
            str(bin_dir / "daphne"), "-b", "127.0.0.1", "-p", str(port),
            "-v", "0", target,
        ]  # fmt: skip
    raise ValueError(f"server: {server!r} is not one of {', '.join(SERVERS)}")


SERVERS = ("uvicorn", "uvicorn-httptools", "gunicorn", "hypercorn", "granian", "daphne")


@contextlib.contextmanager
def serve(target: str, server: str = "uvicorn") -> Iterator[tuple[int, int]]:
    """Run ``server`` with ``target``, one worker, on 127.0.0.1; yield (port, pid)."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="bench-http-") as home:
        process = subprocess.Popen(
            _command(server, target, port),
            cwd=REPO_ROOT,
            # gunicorn writes a control socket under HOME.
            env={**os.environ, "HOME": home},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_ready(port, process, timeout=30)
            yield port, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def run(
    names: Sequence[str],
    duration: float,
    slice_seconds: float,
    connections: int,
    server: str = "uvicorn",
) -> dict[str, Any]:
    """Measure ``names`` (the first is the baseline) within ``duration`` seconds."""
    with contextlib.ExitStack() as stack:
        servers = {
            name: stack.enter_context(serve(APPS[name], server)) for name in names
        }
        return asyncio.run(_measure(servers, duration, slice_seconds, connections))


async def _measure(
    servers: dict[str, tuple[int, int]],
    duration: float,
    slice_seconds: float,
    connections: int,
) -> dict[str, Any]:
    names = list(servers)
    responses = dict.fromkeys(names, 0)
    seconds = dict.fromkeys(names, 0.0)
    per_round: dict[str, list[float]] = {name: [] for name in names}
    cpu_per_response: dict[str, list[float]] = {name: [] for name in names}
    samples: dict[str, bytes] = {}
    for name in names:  # warm-up: imports, first requests, caches
        port = servers[name][0]
        _, _, samples[name] = await load(port, min(1.0, slice_seconds), connections)
    rss_start = {name: server_rss_kib(pid) for name, (_, pid) in servers.items()}
    per_round_time = slice_seconds * len(names)
    rounds = max(1, int(duration // per_round_time))
    for index in range(rounds):
        order = names if index % 2 == 0 else names[::-1]
        for name in order:
            port, pid = servers[name]
            cpu_before = server_cpu_ns(pid)
            done, elapsed, _ = await load(port, slice_seconds, connections)
            cpu_after = server_cpu_ns(pid)
            responses[name] += done
            seconds[name] += elapsed
            per_round[name].append(done / elapsed)
            if cpu_before is not None and cpu_after is not None and done:
                cpu_per_response[name].append((cpu_after - cpu_before) / done / 1000)
    base = names[0]
    rows = []
    for name in names:
        ratios = [
            rate / base_rate
            for rate, base_rate in zip(per_round[name], per_round[base], strict=True)
            if base_rate  # a stalled slice says nothing about the ratio
        ] or [0.0]
        cpu = cpu_per_response[name]
        base_cpu = cpu_per_response[base]
        capacity = (
            [b / c for c, b in zip(cpu, base_cpu, strict=True) if c]
            if cpu and len(cpu) == len(base_cpu)
            else []
        )
        rows.append(
            {
                "name": name,
                "requests_per_second": responses[name] / seconds[name],
                "responses": responses[name],
                "ratio_to_bare": median(ratios),
                "ratio_spread": spread(ratios),
                "server_cpu_us_per_response": median(cpu) if cpu else None,
                "capacity_ratio_to_bare": median(capacity) if capacity else None,
                "capacity_spread": spread(capacity) if capacity else None,
                "has_id_header": b"\r\nx-request-id:" in samples[name].lower(),
                "rss_kib_after_warmup": rss_start[name],
                "rss_kib_at_end": server_rss_kib(servers[name][1]),
            }
        )
    return {"rounds": rounds, "rows": rows}


def render(report: dict[str, Any]) -> str:
    """Return the report as the plain-text table ``make bench-http`` prints."""
    settings = report["settings"]
    lines = [
        f"starlette-correlate HTTP benchmark, {report['date']}, {report['machine']}",
        f"{settings.get('server', 'uvicorn')}, 1 worker, 127.0.0.1; "
        f"{settings['connections']} keep-alive "
        f"connections; {report['rounds']} rounds of {settings['slice']} s slices, "
        "alternating",
        "",
        f"  {'':<24} {'wall clock':^26} {'server CPU':^29}",
        f"  {'variant':<24} {'requests/s':>10} {'x bare':>7} {'spread':>7} "
        f"{'µs/response':>12} {'x bare':>7} {'spread':>8} {'ID header':>9}",
    ]
    lines += [
        f"  {row['name']:<24} {row['requests_per_second']:>10.0f} "
        f"{row['ratio_to_bare']:>7.3f} {row['ratio_spread']:>7.3f} "
        f"{_fmt(row['server_cpu_us_per_response'], 12, 1)} "
        f"{_fmt(row['capacity_ratio_to_bare'], 7, 3)} "
        f"{_fmt(row['capacity_spread'], 8, 3)} "
        f"{'yes' if row['has_id_header'] else 'no':>9}"
        for row in report["rows"]
    ]
    lines += ["", f"  {'variant':<24} {'RSS after warm-up':>18} {'RSS at end':>11}"]
    lines += [
        f"  {row['name']:<24} {_kib(row.get('rss_kib_after_warmup')):>18} "
        f"{_kib(row.get('rss_kib_at_end')):>11}"
        for row in report["rows"]
    ]
    ours = next(r for r in report["rows"] if r["name"] == "starlette-correlate")
    measured = ours["capacity_ratio_to_bare"]
    if measured is None:
        measured = ours["ratio_to_bare"]
    verdict = "met" if measured >= TARGET else "MISSED"
    lines += [
        "",
        "server CPU x bare: bare's CPU per response / this variant's, i.e. the "
        "throughput ratio when the server has a core to itself",
        f"target: ours >= {TARGET} of bare: {measured:.3f}, {verdict}",
    ]
    return "\n".join(lines)


def _kib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 1024:.1f} MiB"


def _fmt(value: float | None, width: int, digits: int) -> str:
    return f"{'n/a':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the HTTP benchmark, print the table, optionally write JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.http")
    parser.add_argument("--server", choices=SERVERS, default="uvicorn")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--slice", type=float, default=2.0, help="seconds per slice")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--peers", action="store_true", help="also the floor and asgi-correlation-id"
    )
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    names = ["bare", "starlette-correlate"]
    if args.peers:
        names += ["floor", "asgi-correlation-id"]
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%MZ"),
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()}",
        "settings": {
            "duration": args.duration,
            "slice": args.slice,
            "connections": args.connections,
            "server": args.server,
        },
    }
    report.update(run(names, args.duration, args.slice, args.connections, args.server))
    print(render(report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
