"""The cost of one log line, ours beside the stdlib, structlog and python-json-logger.

Every variant logs the same event, ``"order placed"`` with ``order_id=42``
and ``amount=9.5``, while a request's ID is set, and writes the line to a
stream that drops it. The stdlib variants go through ``logging`` with our
:class:`~starlette_correlate.CorrelationIdFilter` on the handler (a real
``logger.info`` call: record, caller lookup, filter, formatter, handler
lock, write); the structlog ones through structlog's own pipeline with our
processor. Before timing, each variant's line is captured once and checked
for the ID and both fields, so a variant that does less is refused.

Rounds interleave the variants and rotate their order; a variant's ratio
in a round is its time per line over the stdlib line's time in the same
round, and the report gives the median over rounds (D-perf-1: thread CPU
time, garbage collector paused per batch).

Usage::

    python -m bench.lines [--quick] [--rounds N] [--lines N] [--json PATH]
                          [--also NAME=MODULE:CLASS ...]

``--also`` adds a formatter class (default options) as one more variant,
for example an earlier version of ours copied out of git.
"""

from __future__ import annotations

import argparse
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
from typing import Any, TypeVar

from bench.options import add_also, also_classes
from bench.stats import median, spread
from starlette_correlate import CorrelationIdFilter, correlation_id_var
from starlette_correlate.logs import JsonFormatter, KeyValueFormatter
from starlette_correlate.provenance import IncomingId

T = TypeVar("T")

# As the middleware sets an ID the caller sent (an IncomingId, the common
# case behind a proxy that sets X-Request-ID): the dearer of the two types
# the formatters see, so a fast path that misses it shows here.
VALID_ID: str = IncomingId(b"0192f0e6-5b3c-7d1e-8f00-1234567890ab", "ascii")
STDLIB = "stdlib %(...)s Formatter"
STDLIB_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"
)
LINE_LIMIT = 1.10
FLOOR = "logging floor: a constant line"
STRUCTLOG_STDLIB = "structlog through logging (the guide's recipe)"


class Sink:
    """A stream for text or bytes: drops what is written, or keeps it."""

    def __init__(self, *, keep: bool = False) -> None:
        self.keep = keep
        self.written: list[str] = []

    def write(self, data: str | bytes) -> int:
        if self.keep:
            self.written.append(data.decode() if isinstance(data, bytes) else data)
        return len(data)

    def flush(self) -> None:
        return None


Emit = Callable[[], None]


def _stdlib_logger(name: str, formatter: logging.Formatter, sink: Sink) -> Emit:
    logger = logging.getLogger(f"bench.lines.{name}")
    for old in list(logger.handlers):
        logger.removeHandler(old)
    handler = logging.StreamHandler(sink)
    handler.setFormatter(formatter)
    handler.addFilter(CorrelationIdFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    extra = {"order_id": 42, "amount": 9.5}

    def emit() -> None:
        logger.info("order placed", extra=extra)

    return emit


def _stdlib(sink: Sink) -> Emit:
    return _stdlib_logger("stdlib", logging.Formatter(STDLIB_FORMAT), sink)


class ConstantFormatter(logging.Formatter):
    """Writes the same line for every record: what logging costs without a format."""

    def format(self, record: logging.LogRecord) -> str:
        return "constant order placed 42 9.5 INFO " + VALID_ID


def _constant(sink: Sink) -> Emit:
    return _stdlib_logger("constant", ConstantFormatter(), sink)


def _ours_json(sink: Sink) -> Emit:
    return _stdlib_logger("ours-json", JsonFormatter(), sink)


def _ours_json_plain(sink: Sink) -> Emit:
    return _stdlib_logger("ours-json-plain", JsonFormatter(fast=False), sink)


def _ours_kv(sink: Sink) -> Emit:
    return _stdlib_logger("ours-kv", KeyValueFormatter(), sink)


def _pjl_orjson(sink: Sink) -> Emit:
    from pythonjsonlogger.orjson import OrjsonFormatter  # noqa: PLC0415

    formatter = OrjsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    return _stdlib_logger("pjl-orjson", formatter, sink)


def _pjl_json(sink: Sink) -> Emit:
    from pythonjsonlogger.json import JsonFormatter as PjlJson  # noqa: PLC0415

    formatter = PjlJson("%(asctime)s %(levelname)s %(name)s %(message)s")
    return _stdlib_logger("pjl-json", formatter, sink)


def _structlog(sink: Sink, *, fast: bool) -> Emit:
    import orjson  # noqa: PLC0415
    import structlog  # noqa: PLC0415

    from starlette_correlate.logs.structlog_processor import (  # noqa: PLC0415
        add_correlation_id,
    )

    processors: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_correlation_id,
    ]
    if fast:
        # structlog's documented fast production set-up: orjson to bytes.
        processors.append(structlog.processors.JSONRenderer(serializer=orjson.dumps))
        real: Any = structlog.BytesLogger(sink)  # type: ignore[arg-type]
    else:
        processors.append(structlog.processors.JSONRenderer())
        real = structlog.PrintLogger(sink)  # type: ignore[arg-type]
    logger = structlog.wrap_logger(
        real,
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    ).bind()

    def emit() -> None:
        logger.info("order placed", order_id=42, amount=9.5)

    return emit


def _structlog_stdlib(sink: Sink) -> Emit:
    import structlog  # noqa: PLC0415

    from starlette_correlate.logs.structlog_processor import (  # noqa: PLC0415
        add_correlation_id,
    )

    # The users' guide's recipe: structlog in front of the stdlib logging.
    name = "bench.lines.structlog-stdlib"
    handler_logger = logging.getLogger(name)
    for old in list(handler_logger.handlers):
        handler_logger.removeHandler(old)
    handler = logging.StreamHandler(sink)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=structlog.processors.JSONRenderer(),
            foreign_pre_chain=[structlog.stdlib.add_log_level, add_correlation_id],
        )
    )
    handler_logger.addHandler(handler)
    handler_logger.setLevel(logging.INFO)
    handler_logger.propagate = False
    logger = structlog.wrap_logger(
        handler_logger,
        processors=[
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            add_correlation_id,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
    ).bind()

    def emit() -> None:
        logger.info("order placed", order_id=42, amount=9.5)

    return emit


def add_formatter(name: str, factory: Callable[[], logging.Formatter]) -> None:
    """Add one more stdlib variant: ``factory()`` formats the line."""
    VARIANTS[name] = lambda sink: _stdlib_logger(name, factory(), sink)


VARIANTS: dict[str, Callable[[Sink], Emit]] = {
    STDLIB: _stdlib,
    "structlog, JSONRenderer (orjson, BytesLogger)": lambda s: _structlog(s, fast=True),
    "structlog, JSONRenderer (json, PrintLogger)": lambda s: _structlog(s, fast=False),
    STRUCTLOG_STDLIB: _structlog_stdlib,
    "python-json-logger, orjson": _pjl_orjson,
    "python-json-logger, json": _pjl_json,
    "ours, KeyValueFormatter": _ours_kv,
    "ours, JsonFormatter (orjson)": _ours_json,
    "ours, JsonFormatter (stdlib json)": _ours_json_plain,
    FLOOR: _constant,
}
"""Each variant: given a sink, return a call that logs the event once."""


def _in_request(function: Callable[[], T]) -> T:
    def inner() -> T:
        correlation_id_var.set(VALID_ID)
        return function()

    return contextvars.copy_context().run(inner)


def check_variant(name: str) -> str:
    """Return the line variant ``name`` writes; raise unless it is complete."""
    sink = Sink(keep=True)
    _in_request(VARIANTS[name](sink))
    text = "".join(sink.written)
    if text.count("\n") != 1 or not text.endswith("\n"):
        raise RuntimeError(f"{name}: expected one line, got {text!r}")
    # The stdlib line is the baseline, which names no extra field.
    fields = () if name == STDLIB else ("42", "9.5")
    for needle in (VALID_ID, "order placed", "INFO", *fields):
        if needle.lower() not in text.lower():
            raise RuntimeError(f"{name}: {needle!r} missing from {text!r}")
    return text.rstrip("\n")


def _time_batch(emit: Emit, lines: int) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.thread_time_ns()
        for _ in range(lines):
            emit()
        elapsed = time.thread_time_ns() - start
    finally:
        gc.enable()
    return elapsed / lines / 1000


def measure(
    rounds: int, lines: int, names: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Time every variant, interleaved; return one row per variant."""
    names = list(names or VARIANTS)
    if STDLIB not in names:
        names.insert(0, STDLIB)
    emits = {name: VARIANTS[name](Sink()) for name in names}
    times: dict[str, list[float]] = {name: [] for name in names}

    def run_rounds() -> None:
        correlation_id_var.set(VALID_ID)
        for index in range(rounds + 1):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                elapsed = _time_batch(emits[name], lines)
                if index:  # round 0 warms up
                    times[name].append(elapsed)

    contextvars.copy_context().run(run_rounds)
    base = times[STDLIB]
    rows = []
    for name in names:
        ratios = [t / b for t, b in zip(times[name], base, strict=True)]
        rows.append(
            {
                "name": name,
                "us_per_line": median(times[name]),
                "ratio_to_stdlib": median(ratios),
                "ratio_spread": spread(ratios),
                "rounds_us": times[name],
            }
        )
    return rows


def targets(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return issue 12's targets with the measured ratio and the verdict."""
    ratio = {row["name"]: row["ratio_to_stdlib"] for row in rows}

    def target(name: str, limit_name: str | None) -> dict[str, Any]:
        limit = LINE_LIMIT if limit_name is None else ratio.get(limit_name)
        measured = ratio.get(name)
        met = None if measured is None or limit is None else measured <= limit
        return {"measured": measured, "limit": limit, "against": limit_name, "met": met}

    result = {}
    for ours in ("ours, JsonFormatter (orjson)", "ours, KeyValueFormatter"):
        result[f"{ours} <= {LINE_LIMIT}x stdlib"] = target(ours, None)
        for peer in (
            "python-json-logger, orjson",
            "structlog, JSONRenderer (orjson, BytesLogger)",
            "structlog, JSONRenderer (json, PrintLogger)",
            STRUCTLOG_STDLIB,
        ):
            result[f"{ours} <= {peer}"] = target(ours, peer)
    plain = "ours, JsonFormatter (stdlib json)"
    result[f"{plain} <= python-json-logger, json"] = target(
        plain, "python-json-logger, json"
    )
    return result


def render(report: dict[str, Any]) -> str:
    """Return the report as the table ``make bench`` prints."""
    settings = report["settings"]
    lines = [
        f"log lines, {report['date']}, {report['machine']}",
        f"one logger.info('order placed', extra={{'order_id': 42, 'amount': 9.5}}) "
        f"with the ID set, to a null stream; median of {settings['rounds']} "
        f"interleaved rounds x {settings['lines']} lines",
        f"  {'variant':<48} {'µs/line':>8} {'x stdlib':>9} {'spread':>7}",
    ]
    lines += [
        f"  {row['name']:<48} {row['us_per_line']:>8.2f} "
        f"{row['ratio_to_stdlib']:>9.2f} {row['ratio_spread']:>7.2f}"
        for row in report["rows"]
    ]
    lines += ["", "targets (issue 12):"]
    for name, target in report["targets"].items():
        if target["met"] is None:
            lines.append(f"  {name}: n/a")
            continue
        verdict = "met" if target["met"] else "MISSED"
        lines.append(
            f"  {name}: {target['measured']:.2f} vs {target['limit']:.2f} {verdict}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Settings:
    """How much to measure."""

    quick: bool
    rounds: int
    lines: int


def run(settings: Settings) -> dict[str, Any]:
    """Check every variant, measure them; return the report."""
    samples = {name: check_variant(name) for name in VARIANTS}
    rows = measure(settings.rounds, settings.lines)
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%MZ"),
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()}, {platform.system()}",
        "settings": {
            "quick": settings.quick,
            "rounds": settings.rounds,
            "lines": settings.lines,
        },
        "samples": samples,
        "rows": rows,
        "targets": targets(rows),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table, optionally write JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.lines")
    parser.add_argument("--quick", action="store_true", help="a few seconds; for tests")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 30)")
    parser.add_argument("--lines", type=int, help="lines per batch (default 2000)")
    parser.add_argument("--json", metavar="PATH", help="also write the report here")
    add_also(parser, "a formatter class importable here, default options")
    args = parser.parse_args(argv)
    for name, cls in also_classes(parser, args.also):
        add_formatter(name, cls)
    quick: bool = args.quick
    settings = Settings(
        quick=quick,
        rounds=args.rounds or (2 if quick else 30),
        lines=args.lines or (50 if quick else 2000),
    )
    report = run(settings)
    print(render(report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)
            out.write("\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
