# ruff: noqa: A005 - `python -m bench.trace` is the name the issue gives
"""How fast ``starlette-correlate trace`` reads logs: MB/s over generated files.

Writes three services' logs into a temporary directory (removed at the
end): ``api.log`` (JSON lines), ``backend.log`` and ``worker.log``
(key=value lines), every line made by the real formatters, about ``--mb``
megabytes in all, 12 000 distinct request IDs. One request's lines are
planted across the three files, with a Celery task under its ID and a
child task (another ``request_id``, the task as its parent) planted near
the end of the worker's file, so the reader must go round a second time
for the child's ID. The trace is then read from the plain files and from
gzip copies of them; each run checks it found exactly the planted lines.

Reported: input megabytes (decompressed) over wall time, one core, the
best of ``--repeat`` runs (the files are in the page cache after the
first). The target is 200 MB/s on the plain files.

Usage::

    python -m bench.trace [--mb 500] [--repeat 3] [--no-gzip]
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from starlette_correlate.logs import JsonFormatter, KeyValueFormatter
from starlette_correlate.trace import Source, read_trace

TARGET_MB_S = 200.0
TRACE_ID = "7f3c2a9e4b1d4e8f9a0b1c2d3e4f5a6b"
TASK_ID = "c1e2d3f4-0000-4000-8000-00000000a001"
CHILD_ID = "c1e2d3f4-0000-4000-8000-00000000a002"
CHILD_REQUEST = "0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"
BASE = 1_800_000_000.0
MB = 1024 * 1024


def _record(message: str, at: float, name: str, **fields: object) -> logging.LogRecord:
    return logging.makeLogRecord(
        {
            "name": name,
            "msg": message,
            "levelname": "INFO",
            "levelno": logging.INFO,
            "created": at,
            "msecs": (at - int(at)) * 1000,
            **fields,
        }
    )


def _pool(formatter: logging.Formatter, service: str, size: int) -> list[bytes]:
    """Lines of other requests, made by the real formatter."""
    rng = random.Random(service)
    lines = []
    for index in range(size):
        rid = f"{rng.getrandbits(128):032x}"
        at = BASE + index / 100
        if index % 4 == 0:
            record = _record(
                '%s "%s %s" %d %.1fms',
                at,
                "starlette_correlate.access",
                args=("10.0.0.7:51234", "GET", "/orders/42", 200, 3.2),
                request_id=rid,
                method="GET",
                path="/orders/42",
                status=200,
                duration_ms=3.2,
                client="10.0.0.7:51234",
            )
        else:
            record = _record(
                "order placed for customer %d",
                at,
                f"{service}.views",
                args=(index,),
                request_id=rid,
                order_id=index,
                amount=9.5,
                user_id=f"user-{index % 977}",
            )
        lines.append(formatter.format(record).encode() + b"\n")
    return lines


def _planted(formatter: logging.Formatter, service: str) -> list[tuple[float, bytes]]:
    """The traced request's lines in ``service``, each with where it goes (0..1)."""
    records: list[tuple[float, logging.LogRecord]] = []
    at = BASE + 500
    if service in {"api", "backend"}:
        records.extend(
            (
                0.1 + step * 0.15,
                _record(
                    f"{service} step {step}",
                    at + step / 100,
                    f"{service}.views",
                    request_id=TRACE_ID,
                ),
            )
            for step in range(5)
        )
    else:
        records.append(
            (
                0.2,
                _record(
                    "building the report",
                    at + 0.1,
                    "worker.tasks",
                    request_id=TRACE_ID,
                    celery_task_id=TASK_ID,
                ),
            )
        )
        records.append(
            (
                0.95,
                _record(
                    "mailing the report",
                    at + 0.2,
                    "worker.tasks",
                    request_id=CHILD_REQUEST,
                    celery_task_id=CHILD_ID,
                    celery_parent_id=TASK_ID,
                ),
            )
        )
        # The child request's own earlier line: found on the second lap only.
        records.append(
            (
                0.05,
                _record(
                    "child request queued",
                    at + 0.15,
                    "worker.tasks",
                    request_id=CHILD_REQUEST,
                ),
            )
        )
    return [(where, formatter.format(r).encode() + b"\n") for where, r in records]


def generate(folder: Path, megabytes: float) -> tuple[list[Source], int]:
    """Write the three files; return them and the number of planted lines."""
    services = {
        "api": JsonFormatter(),
        "backend": KeyValueFormatter(),
        "worker": KeyValueFormatter(),
    }
    share = int(megabytes * MB / len(services))
    sources, planted_count = [], 0
    for service, formatter in services.items():
        pool = _pool(formatter, service, 4000)
        planted = sorted(_planted(formatter, service))
        planted_count += len(planted)
        rng = random.Random(service + "order")
        path = folder / f"{service}.log"
        written = 0
        with path.open("wb") as out:
            while written < share:
                chunk = b"".join(rng.choices(pool, k=2000))
                while planted and written + len(chunk) >= planted[0][0] * share:
                    chunk += planted.pop(0)[1]
                out.write(chunk)
                written += len(chunk)
            for _, line in planted:
                out.write(line)
        sources.append(Source(service, path))
    return sources, planted_count


def _time(sources: Sequence[Source], expected: int, repeat: int) -> tuple[float, int]:
    best = float("inf")
    size = 0
    for _ in range(repeat):
        started = time.perf_counter()
        trace = read_trace(TRACE_ID, sources)
        elapsed = time.perf_counter() - started
        if len(trace.lines) != expected:
            raise SystemExit(
                f"bench.trace: found {len(trace.lines)} lines, planted {expected}"
            )
        best = min(best, elapsed)
        size = trace.bytes_read
    return best, size


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, read, report; exit 1 when the plain-file target is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench.trace")
    parser.add_argument("--mb", type=float, default=500.0, help="megabytes of logs")
    parser.add_argument("--repeat", type=int, default=3, help="runs per input")
    parser.add_argument("--no-gzip", action="store_true", help="plain files only")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-trace-"))
    try:
        started = time.perf_counter()
        sources, planted = generate(folder, args.mb)
        total = sum(source.path.stat().st_size for source in sources)
        print(
            f"generated {total / MB:.0f} MB in 3 files in "
            f"{time.perf_counter() - started:.1f} s; {planted} planted lines"
        )
        print(f"python {platform.python_version()}, {platform.machine()}, one core")
        seconds, read = _time(sources, planted, args.repeat)
        rate = total / MB / seconds
        print(
            f"plain: {total / MB:.0f} MB in {seconds:.2f} s = {rate:.0f} MB/s "
            f"({read / MB:.0f} MB searched, two laps for the late child)"
        )
        if not args.no_gzip:
            gzipped = []
            for source in sources:
                target = source.path.with_suffix(".log.gz")
                with (
                    source.path.open("rb") as src,
                    gzip.open(target, "wb", compresslevel=6) as dst,
                ):
                    shutil.copyfileobj(src, dst, 4 * MB)
                source.path.unlink()
                gzipped.append(Source(source.service, target))
            gz_seconds, _ = _time(gzipped, planted, args.repeat)
            packed = sum(os.path.getsize(s.path) for s in gzipped)
            print(
                f"gzip:  {total / MB:.0f} MB ({packed / MB:.0f} MB packed) in "
                f"{gz_seconds:.2f} s = {total / MB / gz_seconds:.0f} MB/s"
            )
        verdict = "met" if rate >= TARGET_MB_S else "MISSED"
        print(f"target {TARGET_MB_S:.0f} MB/s on plain files: {verdict}")
        return 0 if rate >= TARGET_MB_S else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
