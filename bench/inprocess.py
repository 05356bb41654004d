"""``make bench``: in-process overhead, side by side, and the filter's cost.

Every variant of :data:`bench.apps.VARIANTS` serves the same Starlette app.
The app is awaited directly (no sockets) with a fresh scope per request.
Rounds interleave the variants, rotating their order; in each round every
variant runs a batch of requests, and its overhead is its time minus the
bare app's time *in the same round*. The report gives the median over
rounds, the spread (interquartile range) of the paired overheads, and each
overhead as a ratio to the floor's. Time is the CPU time of this thread, so
time slices the machine gives to other processes do not count; the garbage
collector is paused during a batch and run between batches, as
:mod:`timeit` does.

Usage::

    python -m bench.inprocess [--quick] [--rounds N] [--requests N]
                              [--memory-requests N] [--json PATH]
                              [--also NAME=MODULE:CLASS ...]

``--also`` adds a middleware class (with default settings) as one more
variant, for example an earlier version of ours copied out of git, or a
compiled build; see "Reproducing" in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import datetime as dt
import gc
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message

from bench import memory
from bench.apps import (
    ADDS_HEADER,
    HEADER,
    VARIANTS,
    add_variant,
    floor_var,
    variant_app,
)
from bench.options import add_also, also_classes
from bench.scopes import make_scope, receive_request
from bench.stats import median, spread
from starlette_correlate import CorrelationIdFilter, correlation_id_var

VALID_ID = "0192f0e6-5b3c-7d1e-8f00-1234567890ab"
"""An incoming ID every variant accepts: a canonical UUID string."""

BASE_HEADERS: list[tuple[bytes, bytes]] = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"bench/1.0"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"connection", b"keep-alive"),
]
CASES: dict[str, list[tuple[bytes, bytes]]] = {
    "no incoming ID": BASE_HEADERS,
    "valid incoming ID": [*BASE_HEADERS, (HEADER, VALID_ID.encode())],
}

# Issue 11's budget, measurable in every run: our overhead as a fraction
# of asgi-correlation-id's stays at or below what it was (about 0.4 with no
# incoming ID, 0.5 with one). It replaced issue 5's 1.25 times the floor.
PEER = "asgi-correlation-id"
OVERHEAD_LIMITS = {"no incoming ID": 0.40, "valid incoming ID": 0.50}
_FILTER_BATCH = 50
FILTER_LIMIT = 1.10


async def _discard(message: Message) -> None:
    return None


async def time_batch(
    app: ASGIApp, headers: Sequence[tuple[bytes, bytes]], requests: int
) -> float:
    """Return the mean µs per request of ``requests`` sequential requests."""
    gc.collect()
    gc.disable()
    try:
        start = time.thread_time_ns()
        for _ in range(requests):
            await app(make_scope(headers), receive_request, _discard)
        elapsed = time.thread_time_ns() - start
    finally:
        gc.enable()
    return elapsed / requests / 1000


def check_variant(name: str) -> None:
    """Raise ``RuntimeError`` unless variant ``name`` does its job.

    Every correlating variant must answer 200 with one ``X-Request-ID``
    header and echo a valid incoming ID; ours and the floor must leave their
    context variable unset in the task that awaited them (asgi-correlation-id
    never resets its own, by design).
    """
    app = variant_app(name)

    async def one(headers: Sequence[tuple[bytes, bytes]]) -> list[Message]:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        await app(make_scope(headers), receive_request, send)
        # Same task, same context as the app's: a missing reset shows here.
        if correlation_id_var.get() is not None or floor_var.get() is not None:
            raise RuntimeError(f"{name}: a context variable was left set")
        return sent

    for case, headers in CASES.items():
        sent = asyncio.run(one(headers))
        start = sent[0]
        if start["type"] != "http.response.start" or start["status"] != 200:
            raise RuntimeError(f"{name}, {case}: unexpected response {start!r}")
        ids = [value.decode() for key, value in start["headers"] if key == HEADER]
        if name not in ADDS_HEADER:
            continue
        if len(ids) != 1:
            raise RuntimeError(f"{name}, {case}: expected one ID header, got {ids}")
        if case == "valid incoming ID" and ids[0] != VALID_ID:
            raise RuntimeError(f"{name}, {case}: incoming ID not kept: {ids[0]}")


def measure_middleware(rounds: int, requests: int) -> dict[str, list[dict[str, Any]]]:
    """Time every variant in both cases; return the rows of each case."""
    names = list(VARIANTS)
    apps = {name: variant_app(name) for name in names}
    times: dict[str, dict[str, list[float]]] = {
        case: {name: [] for name in names} for case in CASES
    }

    async def run_rounds() -> None:
        for headers in CASES.values():  # warm-up: build stacks, fill caches
            for name in names:
                await time_batch(apps[name], headers, max(requests // 10, 20))
        for index in range(rounds):
            shift = index % len(names)
            order = names[shift:] + names[:shift]
            for case, headers in CASES.items():
                for name in order:
                    elapsed = await time_batch(apps[name], headers, requests)
                    times[case][name].append(elapsed)

    asyncio.run(run_rounds())
    report: dict[str, list[dict[str, Any]]] = {}
    for case, by_name in times.items():
        bare = by_name["bare"]
        overheads = {
            name: [t - b for t, b in zip(values, bare, strict=True)]
            for name, values in by_name.items()
        }
        floor = median(overheads["floor"])
        rows = []
        for name in names:
            overhead = 0.0 if name == "bare" else median(overheads[name])
            if name == "floor":
                ratio: float | None = 1.0
            elif name == "bare":
                ratio = 0.0
            else:
                ratio = overhead / floor if floor > 0 else None
            rows.append(
                {
                    "name": name,
                    "us_per_request": median(by_name[name]),
                    "overhead_us": overhead,
                    "overhead_spread_us": spread(overheads[name]),
                    "ratio_to_floor": ratio,
                    "rounds_us": by_name[name],
                }
            )
        report[case] = rows
    return report


class NoopFilter(logging.Filter):
    """The cost of calling a filter at all, subtracted from every filter."""

    def filter(self, record: logging.LogRecord) -> bool:
        return True


class MinimalFilter(logging.Filter):
    """One context variable read, one attribute set: the least a filter does."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = correlation_id_var.get()
        return True


def _filters() -> dict[str, logging.Filter]:
    from asgi_correlation_id import CorrelationIdFilter as PeerFilter  # noqa: PLC0415

    peer: logging.Filter = PeerFilter()
    return {
        "minimal": MinimalFilter(),
        "starlette-correlate": CorrelationIdFilter(),
        "asgi-correlation-id": peer,
    }


class _NullStream:
    """A stream that drops what is written: the log call without the I/O."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


def _handler(name: str, check: logging.Filter) -> logging.Handler:
    field = "correlation_id" if name == "asgi-correlation-id" else "request_id"
    handler = logging.StreamHandler(_NullStream())
    handler.setFormatter(
        logging.Formatter(f"%(asctime)s %(levelname)s [%({field})s] %(message)s")
    )
    handler.addFilter(check)
    return handler


def _record() -> logging.LogRecord:
    return logging.LogRecord(
        "bench", logging.INFO, __file__, 1, "hello %s", ("x",), None
    )


def _time_filter(check: Callable[[logging.LogRecord], Any], records: int) -> float:
    # Small batches of records made just before they are filtered, as a
    # logger makes each record just before its handlers see it: a batch of
    # thousands would measure cache misses on cold records instead.
    elapsed = 0
    timer = time.thread_time_ns
    gc.collect()
    gc.disable()
    try:
        for _ in range(records // _FILTER_BATCH):
            batch = [_record() for _ in range(_FILTER_BATCH)]
            start = timer()
            for record in batch:
                check(record)
            elapsed += timer() - start
    finally:
        gc.enable()
    return elapsed / (records // _FILTER_BATCH * _FILTER_BATCH)


def measure_filters(rounds: int, records: int) -> tuple[list[dict[str, Any]], float]:
    """Time each filter per record inside a request; return its rows.

    Records are made fresh for every batch (a filter that finds its field
    already set would skip the work) and outside the timed loop. Also
    returns the cost of calling a filter that does nothing, which the net
    figures have subtracted. ``log_call_ns`` puts the filter in context: a
    whole ``handler.handle(record)`` with it, formatting a line that shows
    the ID and writing it to a stream that drops it.
    """
    from asgi_correlation_id import correlation_id as peer_var  # noqa: PLC0415

    filters = _filters()
    names = list(filters)
    times: dict[str, list[float]] = {name: [] for name in [*names, "noop"]}
    noop = NoopFilter()
    handlers = {name: _handler(name, flt) for name, flt in filters.items()}
    handled: dict[str, list[float]] = {name: [] for name in names}

    def run_rounds() -> None:
        # Inside a request: every filter's variable holds the ID.
        correlation_id_var.set(VALID_ID)
        peer_var.set(VALID_ID)
        for index in range(rounds + 1):
            shift = index % len(names)
            for name in [*names[shift:], *names[:shift], "noop"]:
                check = noop.filter if name == "noop" else filters[name].filter
                elapsed = _time_filter(check, records)
                if index:  # round 0 warms up
                    times[name].append(elapsed)
            for name in names:
                elapsed = _time_filter(handlers[name].handle, max(records // 4, 50))
                if index:
                    handled[name].append(elapsed)

    contextvars.copy_context().run(run_rounds)
    noop_ns = times["noop"]
    net = {
        name: [t - n for t, n in zip(times[name], noop_ns, strict=True)]
        for name in names
    }
    minimal = median(net["minimal"])
    return [
        {
            "name": name,
            "ns_per_record": median(times[name]),
            "net_ns": median(net[name]),
            "net_spread_ns": spread(net[name]),
            "ratio_to_minimal": 1.0
            if name == "minimal"
            else (median(net[name]) / minimal if minimal > 0 else None),
            "log_call_ns": median(handled[name]),
        }
        for name in names
    ], median(noop_ns)


def _ratio(rows: list[dict[str, Any]], name: str, key: str) -> float | None:
    for row in rows:
        if row["name"] == name:
            value: float | None = row[key]
            return value
    return None


def targets(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return each target with its measured value and verdict.

    The middleware's: our overhead over asgi-correlation-id's (issue 11);
    the filter's: ours over the minimal filter's, per call (issue 5).
    """
    result: dict[str, dict[str, Any]] = {}
    for case, rows in report["middleware"].items():
        ours = _ratio(rows, "starlette-correlate", "overhead_us")
        peer = _ratio(rows, PEER, "overhead_us")
        ratio = None if ours is None or not peer else round(ours / peer, 3)
        limit = OVERHEAD_LIMITS.get(case)
        result[f"overhead, {case}"] = {
            "measured": ratio,
            "limit": limit,
            "met": ratio is not None and limit is not None and ratio <= limit,
        }
    ratio = _ratio(report["filter"], "starlette-correlate", "ratio_to_minimal")
    result["filter"] = {
        "measured": ratio,
        "limit": FILTER_LIMIT,
        "met": ratio is not None and ratio <= FILTER_LIMIT,
    }
    return result


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def render(report: dict[str, Any]) -> str:
    """Return the report as the plain-text tables ``make bench`` prints."""
    settings = report["settings"]
    lines = [
        f"starlette-correlate benchmark, {report['date']}, {report['machine']}",
        f"in-process ASGI, median of {settings['rounds']} interleaved rounds "
        f"x {settings['requests']} requests per variant",
    ]
    for case, rows in report["middleware"].items():
        lines += [
            "",
            f"{case}:",
            f"  {'variant':<40} {'µs/request':>10} {'overhead µs':>11} "
            f"{'spread':>7} {'x floor':>8}",
        ]
        lines += [
            f"  {row['name']:<40} {row['us_per_request']:>10.2f} "
            f"{row['overhead_us']:>11.2f} {row['overhead_spread_us']:>7.2f} "
            f"{_fmt_ratio(row['ratio_to_floor']):>8}"
            for row in rows
        ]
    lines += [
        "",
        f"logging filter, per record inside a request "
        f"(median of {settings['rounds']} rounds x {settings['filter_records']}):",
        f"  {'filter':<40} {'ns/record':>10} {'net ns':>11} {'spread':>7} "
        f"{'x minimal':>9} {'log call ns':>11}",
    ]
    lines += [
        f"  {row['name']:<40} {row['ns_per_record']:>10.1f} {row['net_ns']:>11.1f} "
        f"{row['net_spread_ns']:>7.1f} {_fmt_ratio(row['ratio_to_minimal']):>9} "
        f"{row['log_call_ns']:>11.0f}"
        for row in report["filter"]
    ]
    lines.append(
        f"  (net = ns/record minus {report['filter_call_ns']:.1f} ns, the cost of "
        "calling a filter that does nothing; log call = a whole handler.handle() "
        "with the filter, formatting the ID into a line)"
    )
    mem = report["memory"]
    lines += [
        "",
        f"memory, {mem['requests']} requests through ours after "
        f"{mem['warmup']} warm-up ({memory.describe_outcomes(mem['outcomes'])}):",
        f"  traced memory after warm-up {mem['traced_start_bytes']} B, halfway "
        f"{mem['traced_half_bytes']} B, end {mem['traced_end_bytes']} B: "
        f"delta {mem['traced_delta_bytes']:+d} B, of which allocated by "
        f"starlette_correlate {mem['traced_end_ours_bytes']} B; "
        f"context store: {mem['store_after']}",
        "",
        "targets (overhead: x asgi-correlation-id's, issue 11; "
        "filter: x minimal, issue 5):",
    ]
    for name, target in report["targets"].items():
        verdict = "met" if target["met"] else "MISSED"
        lines.append(
            f"  {name:<30} {_fmt_ratio(target['measured']):>6} "
            f"(limit {target['limit']:.2f}) {verdict}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Settings:
    """How much to measure."""

    quick: bool
    rounds: int
    requests: int
    filter_records: int
    memory_requests: int


def parse_args(argv: Sequence[str] | None) -> tuple[Settings, str | None]:
    """Return the settings and the JSON path from the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess")
    parser.add_argument("--quick", action="store_true", help="a few seconds; for tests")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 30)")
    parser.add_argument("--requests", type=int, help="requests per batch (default 600)")
    parser.add_argument(
        "--memory-requests",
        type=int,
        help="requests of the memory check (default 10000; the issue's figure: 100000)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the report here")
    add_also(parser, "a middleware class importable here")
    args = parser.parse_args(argv)
    for name, cls in also_classes(parser, args.also):
        add_variant(name, cls)
    quick: bool = args.quick
    settings = Settings(
        quick=quick,
        rounds=args.rounds or (3 if quick else 30),
        requests=args.requests or (40 if quick else 600),
        filter_records=300 if quick else 10_000,
        memory_requests=args.memory_requests or (1_000 if quick else 10_000),
    )
    return settings, args.json


def run(settings: Settings) -> dict[str, Any]:
    """Measure everything; return the report."""
    for name in VARIANTS:
        check_variant(name)
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%MZ"),
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()}, {platform.system()}",
        "settings": {
            "quick": settings.quick,
            "rounds": settings.rounds,
            "requests": settings.requests,
            "filter_records": settings.filter_records,
            "memory_requests": settings.memory_requests,
        },
    }
    report["middleware"] = measure_middleware(settings.rounds, settings.requests)
    report["filter"], report["filter_call_ns"] = measure_filters(
        settings.rounds, settings.filter_records
    )
    report["memory"] = memory.run(
        requests=settings.memory_requests,
        warmup=max(settings.memory_requests // 20, 200),
    )
    report["targets"] = targets(report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the tables, optionally write JSON."""
    settings, json_path = parse_args(argv)
    report = run(settings)
    print(render(report))
    if json_path:
        with open(json_path, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)
            out.write("\n")
        print(f"\nwrote {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
