"""Where our overhead over the floor goes: the floor, plus one duty at a time.

The app here is a raw ASGI callable that sends a fixed response, not the
Starlette app of ``make bench``: the middleware's work is the same, and the
run-to-run noise, which grows with the total time per request, is ten times
smaller, enough to resolve steps of a few hundred nanoseconds. Each step
is the floor middleware with one more of the duties our middleware has,
cumulatively, so the difference between two neighbouring rows is what that
duty costs. The last row is our middleware itself; its
difference to the step before is the cost of going through
:class:`~starlette_correlate.core.CorrelationCore` (ID choice behind
methods, the trusted-sources and validator checks, the trace-context and
access-log switches) instead of inlined code.

The logging filter gets the same treatment: the minimal filter (one
``ContextVar`` read, one attribute set), then our filter's duties one at a
time, written the way our filter does them, then our filter itself.

Usage::

    python -m bench.attribution [--rounds 40] [--requests 2000] [--json PATH]
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

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.apps import HEADER, FloorMiddleware
from bench.inprocess import (
    CASES,
    VALID_ID,
    MinimalFilter,
    NoopFilter,
    _time_filter,
    time_batch,
)
from starlette_correlate import (
    ContextStore,
    CorrelationIdFilter,
    CorrelationMiddleware,
    correlation_id_from_exception,
    correlation_id_var,
    default_generator,
)
from starlette_correlate.fields import fields_var
from starlette_correlate.ids import is_safe_id

STEPS = [
    "floor",
    "floor, in the step harness",
    "+ WebSocket-aware, send wrapper acts once",
    "+ keep a header the app set",
    "+ request.state.correlation_id",
    "+ restore bound fields",
    "+ scan all headers, safety check",
    "+ context store instead of a local token",
    "starlette-correlate",
]

_CORRELATED = frozenset({"http", "websocket"})
_STARTS = frozenset({"http.response.start", "websocket.accept"})


class StepMiddleware:
    """The floor with the first ``level`` duties of ours (0 to 6).

    Level 0 is the floor again, but inside this class's tests of ``level``:
    the difference to the floor row is the harness's own cost, so that it is
    not charged to the first duty.
    """

    def __init__(self, app: ASGIApp, level: int) -> None:
        self.app = app
        self.level = level
        self.store = ContextStore()

    def _incoming(self, scope: Scope) -> str | None:
        if self.level < 5:
            for name, value in scope["headers"]:
                if name == HEADER:
                    decoded: str = value.decode("latin-1")
                    return decoded
            return None
        found: bytes | None = None
        for name, value in scope["headers"]:
            if name == HEADER:
                if found is not None:
                    return None
                found = value
        if found is None:
            return None
        incoming: str = found.decode("latin-1")
        return incoming if is_safe_id(incoming) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        level = self.level
        if scope["type"] not in _CORRELATED if level else scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if not level:  # the floor's own test, inside the harness
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), header]
            elif not started and message["type"] in _STARTS:
                started = True
                headers = message.get("headers") or ()
                if level >= 2:
                    for name, _ in headers:
                        if name.lower() == HEADER:
                            break
                    else:
                        message["headers"] = [*headers, header]
                else:
                    message["headers"] = [*headers, header]
            await send(message)

        fields_before = fields_var.get() if level >= 4 else None
        correlation_id = self._incoming(scope) or default_generator()
        header = (HEADER, correlation_id.encode("latin-1"))
        if level >= 3:
            scope.setdefault("state", {})["correlation_id"] = correlation_id
        token = correlation_id_var.set(correlation_id)
        if level >= 6:
            self.store.push(send_with_id, token)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if level >= 6:
                self.store.release(send_with_id)
            else:
                correlation_id_var.reset(token)
            if level >= 4 and fields_var.get() is not fields_before:
                fields_var.set(fields_before)


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer ``ok`` with the headers Starlette's ``PlainTextResponse`` sends."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", b"2"),
                (b"content-type", b"text/plain; charset=utf-8"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})


def _step(index: int) -> ASGIApp:
    if index == 0:
        return FloorMiddleware(raw_app)
    if index == len(STEPS) - 1:
        return CorrelationMiddleware(raw_app)
    return StepMiddleware(raw_app, level=index - 1)


def measure(rounds: int, requests: int) -> dict[str, list[dict[str, Any]]]:
    """Return, per case, each step's overhead over bare and over the step before."""
    apps: dict[str, ASGIApp] = {"bare": raw_app}
    apps.update({step: _step(level) for level, step in enumerate(STEPS)})
    names = list(apps)
    times: dict[str, dict[str, list[float]]] = {
        case: {name: [] for name in names} for case in CASES
    }

    async def run_rounds() -> None:
        for headers in CASES.values():
            for app in apps.values():
                await time_batch(app, headers, 50)
        for index in range(rounds):
            order = names[index % len(names) :] + names[: index % len(names)]
            for case, headers in CASES.items():
                for name in order:
                    elapsed = await time_batch(apps[name], headers, requests)
                    times[case][name].append(elapsed)

    asyncio.run(run_rounds())
    report: dict[str, list[dict[str, Any]]] = {}
    for case, by_name in times.items():
        bare = by_name["bare"]
        overheads = [
            float(
                statistics.median(t - b for t, b in zip(by_name[s], bare, strict=True))
            )
            for s in STEPS
        ]
        report[case] = [
            {
                "step": step,
                "overhead_us": overhead,
                "step_us": overhead - overheads[index - 1] if index else overhead,
            }
            for index, (step, overhead) in enumerate(zip(STEPS, overheads, strict=True))
        ]
    return report


FILTER_STEPS = [
    "minimal",
    "+ keep a value given with extra=",
    "+ placeholder, ID from the exception",
    "+ configurable field name",
    "+ copy bound fields (none bound)",
    "starlette-correlate",
]


class _KeepExtra(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = correlation_id_var.get()
        return True


class _Placeholder(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            correlation_id = correlation_id_var.get()
            record.request_id = (
                self._fallback(record) if correlation_id is None else correlation_id
            )
        return True

    def _fallback(self, record: logging.LogRecord) -> str:
        exc_info = record.exc_info
        found = correlation_id_from_exception(exc_info[1]) if exc_info else None
        return "-" if found is None else found


class _FieldName(_Placeholder):
    def __init__(self) -> None:
        super().__init__()
        self._default_field = True

    def filter(self, record: logging.LogRecord) -> bool:
        if self._default_field and not hasattr(record, "request_id"):
            correlation_id = correlation_id_var.get()
            record.request_id = (
                self._fallback(record) if correlation_id is None else correlation_id
            )
        return True


class _BoundFields(_FieldName):
    def filter(self, record: logging.LogRecord) -> bool:
        if self._default_field and not hasattr(record, "request_id"):
            correlation_id = correlation_id_var.get()
            record.request_id = (
                self._fallback(record) if correlation_id is None else correlation_id
            )
        fields = fields_var.get()
        if fields is not None:
            for key, value in fields.items():
                if not hasattr(record, key):
                    setattr(record, key, value)
        return True


def measure_filter(rounds: int, records: int) -> list[dict[str, Any]]:
    """Return each filter step's net ns per record and its difference."""
    made = [
        MinimalFilter(),
        _KeepExtra(),
        _Placeholder(),
        _FieldName(),
        _BoundFields(),
        CorrelationIdFilter(),
    ]
    steps: dict[str, logging.Filter] = {"noop": NoopFilter()}
    steps.update(zip(FILTER_STEPS, made, strict=True))
    names = list(steps)
    times: dict[str, list[float]] = {name: [] for name in names}

    def run_rounds() -> None:
        correlation_id_var.set(VALID_ID)
        for index in range(rounds + 1):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                elapsed = _time_filter(steps[name].filter, records)
                if index:
                    times[name].append(elapsed)

    contextvars.copy_context().run(run_rounds)
    net = [
        float(
            statistics.median(
                t - n for t, n in zip(times[name], times["noop"], strict=True)
            )
        )
        for name in FILTER_STEPS
    ]
    return [
        {"step": name, "net_ns": value, "step_ns": value - net[i - 1] if i else value}
        for i, (name, value) in enumerate(zip(FILTER_STEPS, net, strict=True))
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the attribution table; optionally write it as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.attribution")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    report = measure(args.rounds, args.requests)
    for case, rows in report.items():
        print(f"{case}: overhead over bare, µs per request")
        print(f"  {'step':<45} {'total':>7} {'this step':>9}")
        for row in rows:
            total, step = row["overhead_us"], row["step_us"]
            print(f"  {row['step']:<45} {total:>7.2f} {step:>+9.2f}")
    filter_rows = measure_filter(args.rounds, args.records)
    print("logging filter, net ns per record (minus a filter doing nothing)")
    print(f"  {'step':<45} {'total':>7} {'this step':>9}")
    for row in filter_rows:
        total, step = row["net_ns"], row["step_ns"]
        print(f"  {row['step']:<45} {total:>7.0f} {step:>+9.0f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"middleware": report, "filter": filter_rows}, out, indent=2)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
