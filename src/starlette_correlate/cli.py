"""The ``starlette-correlate`` command (also ``python -m starlette_correlate``).

``starlette-correlate log-config SERVER [--format kv|json] [--level LEVEL]``
prints :func:`~starlette_correlate.logs.server_log_config`'s mapping as
JSON, ready for a server's log-configuration option::

    starlette-correlate log-config uvicorn > log.json
    uvicorn app:app --log-config log.json

A wrong server, format or level exits with status 2 and lists the choices.

``starlette-correlate trace ID [FILE...] [--service NAME=FILE] [--html OUT]``
prints every line of the request ``ID``, and of the requests and jobs it
spawned, across the services' log files, as one timeline (see
:mod:`starlette_correlate.trace`)::

    starlette-correlate trace 4f1c... api.log worker.log.gz --html trace.html

It exits 0 when it found lines, 1 when none, 2 when a file is missing or
unreadable or an argument is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from starlette_correlate.logs.servers import (
    FORMATS,
    LEVELS,
    SERVERS,
    server_log_config,
)
from starlette_correlate.trace import (
    ID_FIELDS,
    PARENT_FIELDS,
    Source,
    format_timeline,
    printable,
    read_trace,
    render_html,
    service_name,
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
    _add_trace(commands)
    return parser


def _add_trace(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trace = commands.add_parser(
        "trace",
        help="print the timeline of one request across services' log files",
        description=(
            "Print every line of the request ID, and of the requests and jobs it "
            "spawned, read from the services' log files (JSON or key=value lines, "
            "plain or gzip, in any order), as one timeline."
        ),
    )
    trace.add_argument("ident", metavar="ID", help="the request (or task) ID")
    trace.add_argument(
        "files",
        metavar="FILE",
        nargs="*",
        type=Path,
        help="a log file; its service is named after it (api.log.gz: api)",
    )
    trace.add_argument(
        "--service",
        metavar="NAME=FILE",
        action="append",
        default=[],
        help="a log file and the name of the service that wrote it (repeatable)",
    )
    trace.add_argument("--html", metavar="OUT", type=Path, help="also write a page")
    trace.add_argument(
        "--id-field",
        metavar="FIELD",
        action="append",
        default=[],
        help="another field naming a request or job (e.g. a renamed request_id)",
    )
    trace.add_argument(
        "--parent-field",
        metavar="FIELD",
        action="append",
        default=[],
        help="another field naming the request or job that spawned a line's own",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: the process's arguments).

    Example::

        >>> main(["log-config", "uvicorn", "--format", "json"])  # doctest: +ELLIPSIS
        {
          "version": 1,
        ...
        0
    """
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command == "trace":
        return _trace(parser, arguments)
    config = server_log_config(
        arguments.server, format=arguments.format, level=arguments.level
    )
    sys.stdout.write(json.dumps(config, indent=2) + "\n")
    return 0


def _sources(
    parser: argparse.ArgumentParser, arguments: argparse.Namespace
) -> list[Source]:
    sources: list[Source] = []
    for named in arguments.service:
        name, equals, file = named.partition("=")
        if not equals or not name or not file:
            parser.error(f"--service {named!r}: give NAME=FILE")
        sources.append(Source(name, Path(file)))
    named_paths = {source.path.resolve() for source in sources}
    sources += [
        Source(service_name(path), path)
        for path in arguments.files
        if path.resolve() not in named_paths
    ]
    if not sources:
        parser.error("trace: give at least one FILE (or --service NAME=FILE)")
    for source in sources:
        if not source.path.is_file():
            parser.error(f"trace: {source.path}: no such file")
        try:
            source.path.open("rb").close()
        except OSError as error:
            parser.error(f"trace: {source.path}: {error.strerror or error}")
    return sources


def _trace(parser: argparse.ArgumentParser, arguments: argparse.Namespace) -> int:
    sources = _sources(parser, arguments)
    ident: str = arguments.ident
    try:
        trace = read_trace(
            ident,
            sources,
            id_fields=(*ID_FIELDS, *arguments.id_field),
            parent_fields=(*PARENT_FIELDS, *arguments.parent_field),
        )
    except ValueError as error:
        parser.error(f"trace: {printable(str(error))}")
    except OSError as error:
        parser.error(f"trace: {printable(str(error))}")
    sys.stdout.write(format_timeline(trace))
    if trace.skipped:
        counts = ", ".join(
            f"{count} {reason}" for reason, count in sorted(trace.skipped.items())
        )
        sys.stderr.write(
            f"trace: skipped {sum(trace.skipped.values())} lines naming an ID of "
            f"the trace: {counts}\n"
        )
    for path, reason in trace.damaged:
        sys.stderr.write(f"trace: {printable(path)}: read up to a {reason}\n")
    if arguments.html is not None:
        try:
            arguments.html.write_text(render_html(trace), encoding="utf-8")
        except OSError as error:
            parser.error(f"trace: {arguments.html}: {error.strerror or error}")
        sys.stderr.write(f"trace: wrote {printable(str(arguments.html))}\n")
    if not trace.lines:
        sys.stderr.write(
            f"trace: no line of {printable(ident)} in {len(sources)} files\n"
        )
        return 1
    return 0
