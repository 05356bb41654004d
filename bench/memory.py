"""Memory: many mixed requests through our middleware leave nothing behind.

Requests cycle through successes (with and without an incoming ID),
unhandled exceptions (answered with a 500, then re-raised), and clients
that disconnect mid-response (plain and streaming bodies, the latter also
cancelling Starlette's disconnect listener). :mod:`tracemalloc` starts after
the warm-up, so the traced memory at the end, after a full collection, is
what the measured requests left alive; it is also read halfway, so a leak
shows as growth between the two readings. The context store must be empty.

Usage::

    python -m bench.memory [--requests 100000] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from typing import Any

from starlette.types import Message

from bench.apps import HEADER, build_app, ours
from bench.scopes import make_scope, server_receive
from starlette_correlate import ContextStore, correlation_id_var

_HEADERS: list[tuple[bytes, bytes]] = [(b"host", b"127.0.0.1:8000")]
_WITH_ID = [*_HEADERS, (HEADER, b"0192f0e6-5b3c-7d1e-8f00-1234567890ab")]

# (outcome, path, incoming headers, client disconnects) for request i % 10.
_PLAN: list[tuple[str, str, list[tuple[bytes, bytes]], bool]] = [
    ("ok", "/", _HEADERS, False),
    ("ok", "/", _WITH_ID, False),
    ("error", "/boom", _HEADERS, False),
    ("ok", "/stream", _HEADERS, False),
    ("disconnect", "/", _WITH_ID, True),
    ("ok", "/", _HEADERS, False),
    ("ok", "/", _WITH_ID, False),
    ("error", "/boom", _WITH_ID, False),
    ("disconnect", "/stream", _HEADERS, True),
    ("ok", "/", _HEADERS, False),
]


_OURS = tracemalloc.Filter(inclusive=True, filename_pattern="*/starlette_correlate/*")


def describe_outcomes(outcomes: dict[str, int]) -> str:
    """Return ``"8 ok, 1 error, 1 disconnect"`` style text."""
    return ", ".join(f"{count} {name}" for name, count in outcomes.items())


def run(requests: int = 100_000, warmup: int = 5_000) -> dict[str, Any]:
    """Run ``warmup`` then ``requests`` mixed requests; return the readings."""
    store = ContextStore()
    app = build_app(ours(store))
    outcomes: Counter[str] = Counter({"ok": 0, "error": 0, "disconnect": 0})
    readings: dict[str, int] = {}

    async def one(index: int) -> str:
        expected, path, headers, disconnects = _PLAN[index % len(_PLAN)]
        done = asyncio.Event()

        async def send(message: Message) -> None:
            if message["type"] == "http.response.body":
                if disconnects:
                    done.set()
                    raise OSError("client disconnected")
                if not message.get("more_body", False):
                    done.set()

        try:
            await app(make_scope(headers, path), server_receive(done), send)
        except OSError:
            outcome = "disconnect"
        except RuntimeError:
            outcome = "error"
        else:
            outcome = "ok"
        if outcome != expected:
            raise AssertionError(f"request {index}: {outcome}, expected {expected}")
        return outcome

    async def drive() -> None:
        for index in range(warmup):
            await one(index)
        gc.collect()
        tracemalloc.start()
        readings["start"] = tracemalloc.get_traced_memory()[0]
        for index in range(requests):
            outcomes[await one(index)] += 1
            if index + 1 == requests // 2:
                gc.collect()
                readings["half"] = tracemalloc.get_traced_memory()[0]
        gc.collect()
        readings["end"], readings["peak"] = tracemalloc.get_traced_memory()
        ours = tracemalloc.take_snapshot().filter_traces([_OURS])
        readings["ours"] = sum(stat.size for stat in ours.statistics("filename"))
        tracemalloc.stop()

    asyncio.run(drive())
    return {
        "requests": requests,
        "warmup": warmup,
        "outcomes": dict(outcomes),
        "traced_start_bytes": readings["start"],
        "traced_half_bytes": readings.get("half", readings["start"]),
        "traced_end_bytes": readings["end"],
        "traced_peak_bytes": readings["peak"],
        "traced_delta_bytes": readings["end"] - readings["start"],
        "traced_end_ours_bytes": readings["ours"],
        "store_after": len(store),
        "context_var_after": correlation_id_var.get(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the memory check and print (optionally write) its readings."""
    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=5_000)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    result = run(requests=args.requests, warmup=args.warmup)
    print(
        f"{result['requests']} requests after {result['warmup']} warm-up "
        f"({describe_outcomes(result['outcomes'])})\n"
        f"traced memory: after warm-up {result['traced_start_bytes']} B, "
        f"halfway {result['traced_half_bytes']} B, end {result['traced_end_bytes']} B, "
        f"peak {result['traced_peak_bytes']} B; "
        f"delta {result['traced_delta_bytes']:+d} B, of which allocated by "
        f"starlette_correlate {result['traced_end_ours_bytes']} B\n"
        f"context store: {result['store_after']} entries; "
        f"correlation_id_var: {result['context_var_after']!r}"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(result, out, indent=2)
            out.write("\n")
    return 0 if result["store_after"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
