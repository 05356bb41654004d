"""The ``starlette-correlate`` command (also ``python -m starlette_correlate``).

``starlette-correlate log-config SERVER [--format kv|json] [--level LEVEL]``
prints :func:`~starlette_correlate.logs.server_log_config`'s mapping as
JSON, ready for a server's log-configuration option::

    starlette-correlate log-config uvicorn > log.json
    uvicorn app:app --log-config log.json

A wrong server, format or level exits with status 2 and lists the choices.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from starlette_correlate.logs.servers import (
    FORMATS,
    LEVELS,
    SERVERS,
    server_log_config,
)

__all__ = ["build_parser", "main"]


def _level(value: str) -> str:
    """Accept a level name in any case, as ``server_log_config`` does."""
    return value.upper()


def build_parser() -> argparse.ArgumentParser:
    """Return the command's argument parser.

    Example::

        >>> build_parser().parse_args(["log-config", "granian"]).format
        'kv'
    """
    parser = argparse.ArgumentParser(
        prog="starlette-correlate",
        description="Request correlation IDs for ASGI services: helper commands.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    log_config = commands.add_parser(
        "log-config",
        help="print a server's logging configuration as JSON",
        description=(
            "Print a logging.config.dictConfig mapping, as JSON, under which the "
            "server's own access and error lines carry the correlation ID."
        ),
    )
    log_config.add_argument("server", metavar="SERVER", choices=SERVERS)
    log_config.add_argument("--format", choices=FORMATS, default="kv")
    log_config.add_argument("--level", type=_level, choices=LEVELS, default="INFO")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: the process's arguments).

    Example::

        >>> main(["log-config", "uvicorn", "--format", "json"])  # doctest: +ELLIPSIS
        {
          "version": 1,
        ...
        0
    """
    arguments = build_parser().parse_args(argv)
    config = server_log_config(
        arguments.server, format=arguments.format, level=arguments.level
    )
    sys.stdout.write(json.dumps(config, indent=2) + "\n")
    return 0
