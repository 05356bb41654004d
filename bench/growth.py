"""How the cost grows: with the number of request headers and of bound fields.

Both use the raw ASGI app of :mod:`bench.attribution` rather than the
Starlette app, for ten times less noise (the middleware's work is the same).

Headers: the middleware scans every request header once (a header sent
twice must be noticed), so its cost grows with their number; the floor
scans them too, stopping at the first match. Each row adds filler headers
before a valid incoming ID, the position that makes both scan them all.

Bound fields: the endpoint binds ``k`` fields with one
:func:`~starlette_correlate.fields.bind_fields` call, the middleware
restores the fields on the way out, and the logging filter copies every
bound field onto each record; the rows give the request's cost over the
same app binding nothing, and the filter's cost per record.

Usage::

    python -m bench.growth [--rounds 20] [--requests 1000] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import logging
import statistics
import sys
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from bench.apps import HEADER, FloorMiddleware
from bench.attribution import raw_app
from bench.inprocess import VALID_ID, _time_filter, time_batch
from starlette_correlate import CorrelationIdFilter, CorrelationMiddleware
from starlette_correlate.fields import bind_fields

HEADER_COUNTS = (0, 8, 16, 32, 64)
FIELD_COUNTS = (0, 1, 4, 16)


def _headers(count: int) -> list[tuple[bytes, bytes]]:
    filler = [(f"x-filler-{i}".encode(), b"some value") for i in range(count)]
    return [*filler, (HEADER, VALID_ID.encode())]


def _overhead(times: dict[str, list[float]], name: str) -> float:
    pairs = zip(times[name], times["bare"], strict=True)
    return float(statistics.median(t - b for t, b in pairs))


def header_growth(
    counts: Sequence[int] = HEADER_COUNTS, rounds: int = 20, requests: int = 1000
) -> list[dict[str, Any]]:
    """Return, per header count, the bare time and the overheads of floor and ours."""
    apps: dict[str, ASGIApp] = {
        "bare": raw_app,
        "floor": FloorMiddleware(raw_app),
        "ours": CorrelationMiddleware(raw_app),
    }
    results: dict[int, dict[str, list[float]]] = {
        count: {name: [] for name in apps} for count in counts
    }

    async def run_rounds() -> None:
        for app in apps.values():
            await time_batch(app, _headers(0), 50)
        for index in range(rounds):
            for count in counts:
                headers = _headers(count)
                names = list(apps) if index % 2 == 0 else list(apps)[::-1]
                for name in names:
                    results[count][name].append(
                        await time_batch(apps[name], headers, requests)
                    )

    asyncio.run(run_rounds())
    rows = []
    for count in counts:
        times = results[count]
        rows.append(
            {
                "headers": count + 1,
                "bare_us": float(statistics.median(times["bare"])),
                "floor_overhead_us": _overhead(times, "floor"),
                "ours_overhead_us": _overhead(times, "ours"),
            }
        )
    return rows


def _fields_app(count: int) -> ASGIApp:
    values = {f"field_{i}": f"value-{i}" for i in range(count)}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if values:
            bind_fields(**values)
        await raw_app(scope, receive, send)

    return CorrelationMiddleware(app)


def field_growth(
    counts: Sequence[int] = FIELD_COUNTS,
    rounds: int = 20,
    requests: int = 1000,
    records: int = 10_000,
) -> list[dict[str, Any]]:
    """Return, per field count, the request cost and the filter's per record."""
    apps = {count: _fields_app(count) for count in counts}
    request_times: dict[int, list[float]] = {count: [] for count in counts}
    filter_times: dict[int, list[float]] = {count: [] for count in counts}
    headers = _headers(0)

    async def run_rounds() -> None:
        for app in apps.values():
            await time_batch(app, headers, 50)
        for _ in range(rounds):
            for count in counts:
                request_times[count].append(
                    await time_batch(apps[count], headers, requests)
                )

    asyncio.run(run_rounds())
    check = CorrelationIdFilter().filter

    def filter_rounds() -> None:
        for _ in range(rounds):
            for count in counts:

                def timed(count: int = count) -> float:
                    bind_fields(**{f"field_{i}": "value" for i in range(count)})
                    return _time_filter(check, records)

                filter_times[count].append(contextvars.copy_context().run(timed))

    filter_rounds()
    zero = statistics.median(request_times[counts[0]])
    return [
        {
            "fields": count,
            "request_us": float(statistics.median(request_times[count])),
            "request_over_none_us": float(
                statistics.median(request_times[count]) - zero
            ),
            "filter_ns_per_record": float(statistics.median(filter_times[count])),
        }
        for count in counts
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print both growth tables; optionally write them as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.growth")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    logging.getLogger("starlette_correlate").setLevel(logging.WARNING)
    headers = header_growth(rounds=args.rounds, requests=args.requests)
    print("request headers (the last is a valid X-Request-ID), µs per request:")
    print(f"  {'headers':>7} {'bare':>8} {'floor +':>8} {'ours +':>8}")
    for row in headers:
        print(
            f"  {row['headers']:>7} {row['bare_us']:>8.2f} "
            f"{row['floor_overhead_us']:>8.2f} {row['ours_overhead_us']:>8.2f}"
        )
    fields = field_growth(rounds=args.rounds, requests=args.requests)
    print("\nbound fields (ours; the endpoint binds them in one call):")
    print(f"  {'fields':>6} {'µs/request':>10} {'over 0':>7} {'filter ns/record':>16}")
    for row in fields:
        print(
            f"  {row['fields']:>6} {row['request_us']:>10.2f} "
            f"{row['request_over_none_us']:>7.2f} "
            f"{row['filter_ns_per_record']:>16.0f}"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"headers": headers, "fields": fields}, out, indent=2)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
