"""Where our overhead over the floor goes: the floor plus one duty at a time.

Our middleware's hot path is written out below as a template whose lines
are tagged with the duty they serve beyond the floor's four steps. Each row
of the table is a middleware compiled from the template with one duty in:
its overhead minus that of the template with no duty (which is the floor
again, and shows the template adds nothing of its own) is what that duty
costs. Then the template with every duty, then our middleware itself: the
difference between those two is what our code pays beyond the template
(the check for the default configuration, the tuple of settings).

By default the app is a raw ASGI callable that sends the same response as
the Starlette app of ``make bench``: the middleware's work is the same and
the run-to-run noise, which grows with the time per request, is much
smaller. ``--starlette`` serves the Starlette app instead.

The logging filter gets the same treatment, cumulatively: the minimal filter
(one ``ContextVar`` read, one attribute set), then our filter's duties one
at a time, written the way our filter does them, then our filter itself.

Usage::

    python -m bench.attribution [--rounds 40] [--requests 2000] [--starlette]
                                [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import json
import logging
import statistics
import sys
from collections.abc import Callable, Sequence
from typing import Any

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.apps import HEADER, FloorMiddleware, build_app
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
from starlette_correlate.errors import (
    attach_correlation_id,
    build_error_response,
    default_error_response,
)
from starlette_correlate.fields import fields_in_use, fields_var
from starlette_correlate.ids import SAFE_ID_BYTES

DUTIES: dict[str, str] = {
    "fields": "restore bound fields",
    "scan": "a repeated ID header counts as absent",
    "safety": "safety check of an incoming ID",
    "once": "WebSocket-aware, the send wrapper acts once",
    "keep": "keep an ID header the app set, any case",
    "copy": "add the header to a copy of the message",
    "store": "list the request in the context store",
    "state": "request.state.correlation_id",
    "error": "the ID on an unhandled exception",
}
"""Our duties beyond the floor's, by the tag marking their lines below."""

# Our hot path (CorrelationMiddleware.__call__ with default settings), written
# out with each duty's lines tagged. A line tagged "# +name" belongs to duty
# name; "# -name" is what stands in its place when the duty is left out.
_TEMPLATE = """
class Variant:
    def __init__(self, app):
        self.app = app
        self.store = ContextStore()
        self._hot = (HEADER, 128, default_generator,
                     (HEADER, len(HEADER), frozenset(HEADER[:1].upper() + HEADER[:1])),
                     *self.store.tracker())

    async def __call__(self, scope, receive, send):
        scope_type = scope["type"]
        if scope_type not in _CORRELATED:  # +once
        if scope_type != "http":  # -once
            await self.app(scope, receive, send)
            return
        target, max_length, generator, name_check, keep, forget = self._hot
        fields_before = fields_var.get() if fields_in_use.seen else None  # +fields
        raw = None
        repeated = False  # +scan
        for name, value in scope["headers"]:
            if name == target:
                repeated = raw is not None  # +scan
                raw = value
                break  # -scan
        if (raw is not None  # +safety
                and not repeated  # +scan +safety
                and 0 < len(raw) <= max_length  # +safety
                and not raw.strip(SAFE_ID_BYTES)):  # +safety
        if raw is not None and not repeated:  # -safety +scan
        if raw is not None:  # -safety -scan
            correlation_id = raw.decode("ascii")  # +safety
            correlation_id = raw.decode("latin-1")  # -safety
        else:
            correlation_id = generator()
            raw = correlation_id.encode("latin-1")
        header = (name_check[0], raw)
        started = False  # +once

        async def send_with_id(message):
            nonlocal started  # +once
            if not started and message["type"] in _STARTS:  # +once
            if message["type"] == "http.response.start":  # -once
                started = True  # +once
                headers = message.get("headers") or ()
                wanted, length, initials = name_check  # +keep
                for name, _ in headers:  # +keep
                    if (len(name) == length and name[0] in initials  # +keep
                            and name.lower() == wanted):  # +keep
                        break  # +keep
                else:  # +keep
                    message = dict(message, headers=[*headers, header])  # +copy
                    message["headers"] = [*headers, header]  # -copy
            await send(message)

        token = correlation_id_var.set(correlation_id)
        keep(send_with_id, (token, correlation_id))  # +store
        state = scope.get("state")  # +state
        if state is None:  # +state
            scope["state"] = state = {}  # +state
        state["correlation_id"] = correlation_id  # +state
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # +error
            attach_correlation_id(exc, correlation_id)  # +error
            if not started and scope_type == "http":  # +error +once
                await answer_error(  # +error +once
                    scope, receive, send_with_id, exc, correlation_id)  # +error +once
            raise  # +error
        finally:
            forget(send_with_id, None)  # +store
            correlation_id_var.reset(token)
            if fields_in_use.seen and fields_var.get() is not fields_before:  # +fields
                fields_var.set(fields_before)  # +fields
"""


async def answer_error(
    scope: Scope, receive: Receive, send: Send, exc: Exception, correlation_id: str
) -> None:
    """Our 500 answer, for the template with the ID duty and the started flag.

    Never runs in the benchmark (no request raises); it is there so that the
    template with every duty does what our middleware does.
    """
    response = await build_error_response(
        default_error_response, Request(scope, receive), exc, correlation_id
    )
    with contextlib.suppress(Exception):
        await response(scope, receive, send)


def _keeps(tags: list[str], duties: frozenset[str]) -> bool:
    for tag in tags:
        wanted = tag[0] == "+"
        if (tag[1:] in duties) != wanted:
            return False
    return True


def variant_source(duties: frozenset[str]) -> str:
    """Return the template's source with exactly ``duties`` in it.

    A line is kept when every tag on it holds: ``+name`` needs the duty,
    ``-name`` needs it absent. Lines left orphaned by the "keep" duty (the
    body of its ``else``) are dedented.
    """
    lines = []
    for tagged in _TEMPLATE.splitlines():
        code, _, tail = tagged.partition("  # ")
        tags = tail.split() if tail[:1] in ("+", "-") else []
        if not _keeps(tags, duties):
            continue
        line = code.rstrip() if tags else tagged
        if "keep" not in duties and line.startswith(" " * 20 + "message"):
            line = line[4:]
        lines.append(line)
    return "\n".join(lines)


def variant(duties: frozenset[str]) -> type:
    """Return the middleware class of the floor plus ``duties``."""
    namespace: dict[str, Any] = {
        "ContextStore": ContextStore,
        "HEADER": HEADER,
        "SAFE_ID_BYTES": SAFE_ID_BYTES,
        "_CORRELATED": _CORRELATED,
        "_STARTS": _STARTS,
        "answer_error": answer_error,
        "attach_correlation_id": attach_correlation_id,
        "correlation_id_var": correlation_id_var,
        "default_generator": default_generator,
        "fields_in_use": fields_in_use,
        "fields_var": fields_var,
    }
    exec(variant_source(duties), namespace)  # noqa: S102 - our own template
    made: type = namespace["Variant"]
    return made


_CORRELATED = frozenset({"http", "websocket"})
_STARTS = frozenset(
    {"http.response.start", "websocket.accept", "websocket.http.response.start"}
)
_ALL = frozenset(DUTIES)


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


def rows() -> dict[str, Callable[[ASGIApp], ASGIApp]]:
    """Return each row's middleware factory, in table order."""
    made: dict[str, Callable[[ASGIApp], ASGIApp]] = {
        "floor": FloorMiddleware,
        "template, no duty (the floor again)": variant(frozenset()),
    }
    for tag, duty in DUTIES.items():
        made[f"+ {duty}"] = variant(frozenset({tag}))
    made["template, every duty"] = variant(_ALL)
    made["starlette-correlate"] = CorrelationMiddleware
    return made


STEPS = list(rows())
"""The rows of the middleware table."""


def measure(
    rounds: int, requests: int, *, starlette: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Return, per case, each row's overhead over bare and over the template's floor.

    ``starlette`` serves the Starlette app of ``make bench`` instead of the
    raw ASGI app: slower and noisier, but the context users run in.
    """
    if starlette:
        apps: dict[str, ASGIApp] = {"bare": build_app([])}
        apps.update(
            {name: build_app([Middleware(made)]) for name, made in rows().items()}
        )
    else:
        apps = {"bare": raw_app}
        apps.update({name: made(raw_app) for name, made in rows().items()})
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
        overhead = {
            step: float(
                statistics.median(
                    t - b for t, b in zip(by_name[step], bare, strict=True)
                )
            )
            for step in STEPS
        }
        base = overhead["template, no duty (the floor again)"]
        floor = overhead["floor"]
        report[case] = [
            {
                "step": step,
                "overhead_us": value,
                "over_template_us": value - base,
                "ratio_to_floor": value / floor if floor > 0 else None,
            }
            for step, value in overhead.items()
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
        fields = fields_var.get() if fields_in_use.seen else None
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
    parser.add_argument(
        "--starlette", action="store_true", help="serve the Starlette app of make bench"
    )
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    report = measure(args.rounds, args.requests, starlette=args.starlette)
    for case, case_rows in report.items():
        print(f"{case}: overhead over bare, µs per request")
        print(f"  {'row':<45} {'total':>7} {'over template':>13} {'x floor':>7}")
        for row in case_rows:
            total, extra = row["overhead_us"], row["over_template_us"]
            ratio = row["ratio_to_floor"]
            shown = "-" if ratio is None else f"{ratio:.2f}"
            print(f"  {row['step']:<45} {total:>7.2f} {extra:>+13.2f} {shown:>7}")
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
