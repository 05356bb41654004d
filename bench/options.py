"""Command-line options the benchmarks share."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Iterator
from typing import Any


def add_also(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--also NAME=MODULE:CLASS``: one more variant, ``what`` it must be."""
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME=MODULE:CLASS",
        help=f"one more variant: {what}",
    )


def also_classes(
    parser: argparse.ArgumentParser, specs: list[str]
) -> Iterator[tuple[str, Any]]:
    """Yield each ``--also`` variant's name and the class it names.

    The class is ``Any``: each benchmark checks it by using it.
    """
    for spec in specs:
        name, _, target = spec.partition("=")
        module, _, attribute = target.partition(":")
        if not (name and module and attribute):
            parser.error(f"--also {spec!r}: give NAME=MODULE:CLASS")
        yield name, getattr(importlib.import_module(module), attribute)
