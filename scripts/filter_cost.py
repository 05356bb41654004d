"""Per-record cost of logging filters: ours, a minimal one, asgi-correlation-id's.

Each filter is timed in its own interpreter. CPython lets all instances of
a class share one attribute layout; the first filter in a process to add an
attribute name to LogRecords gets the compact layout, and a filter adding a
different name afterwards (asgi-correlation-id writes ``correlation_id``)
pays for a full dict on every record. One process per filter keeps that
artefact out of the comparison.

Two figures per filter, each the best of many batches of fresh records:

* ``filter``: the filter call alone, minus a do-nothing filter's call;
* ``log call``: ``handler.handle(record)`` with a formatter that prints the
  ID, to a stream that drops the text (the whole cost of one log line).

Run ``python scripts/filter_cost.py`` (about a minute).
"""

from __future__ import annotations

import contextvars
import gc
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar

CID = "0193a7c2-1c2e-7f4a-9b1d-3c4d5e6f7a8b"
NAMES = ("minimal", "starlette-correlate", "asgi-correlation-id")
ROUNDS = 1500
BATCH = 50


class _NullStream:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


def _build(name: str) -> tuple[logging.Filter, str]:
    if name == "minimal":
        var: ContextVar[str | None] = ContextVar("minimal", default=None)
        var.set(CID)

        class MinimalFilter(logging.Filter):
            def filter(self, record: logging.LogRecord) -> bool:
                record.request_id = var.get()
                return True

        return MinimalFilter(), "request_id"
    if name == "starlette-correlate":
        from starlette_correlate import (  # noqa: PLC0415
            CorrelationIdFilter,
            correlation_id_var,
        )

        correlation_id_var.set(CID)
        return CorrelationIdFilter(), "request_id"
    from asgi_correlation_id import CorrelationIdFilter as PeerFilter  # noqa: PLC0415
    from asgi_correlation_id.context import correlation_id  # noqa: PLC0415

    correlation_id.set(CID)
    peer: logging.Filter = PeerFilter()
    return peer, "correlation_id"


def _best(call: Callable[[logging.LogRecord], object]) -> float:
    best = float("inf")
    gc.disable()
    for _ in range(ROUNDS):
        batch = [
            logging.LogRecord("bench", logging.INFO, __file__, 1, "hi %s", ("x",), None)
            for _ in range(BATCH)
        ]
        start = time.perf_counter_ns()
        for record in batch:
            call(record)
        best = min(best, (time.perf_counter_ns() - start) / BATCH)
    gc.enable()
    return best


def _measure(name: str) -> tuple[float, float]:
    log_filter, field = _build(name)

    def noop(record: logging.LogRecord) -> bool:
        return True

    net = _best(log_filter.filter) - _best(noop)
    handler = logging.StreamHandler(_NullStream())
    handler.setFormatter(logging.Formatter(f"%(levelname)s [%({field})s] %(message)s"))
    handler.addFilter(log_filter)
    return net, _best(handler.handle)


def main() -> int:
    """Time each filter in a child process; print ns per record and ratios."""
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        net, call = contextvars.copy_context().run(_measure, sys.argv[2])
        print(f"{net} {call}")
        return 0
    results: dict[str, tuple[float, float]] = {}
    for name in NAMES:
        out = subprocess.run(
            [sys.executable, __file__, "--one", name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        results[name] = (float(out[0]), float(out[1]))
    base_net, base_call = results["minimal"]
    print("filter                 filter ns  x minimal  log call ns  x minimal")
    for name, (net, call) in results.items():
        print(
            f"{name:22} {net:9.0f} {net / base_net:10.2f}"
            f" {call:12.0f} {call / base_call:10.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
