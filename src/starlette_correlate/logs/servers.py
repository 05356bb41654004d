"""Logging configurations, shipped in the package, for the common ASGI servers.

Each server applies a ``logging.config.dictConfig`` mapping its own way, and
each sets up its loggers differently before or after it does. This module
knows, per server, which loggers must hold the correlation handler
themselves and which only need a level, so that the server's own lines (its
access line, its "exception in application" line) pass through
:class:`~starlette_correlate.logs.CorrelationIdFilter` exactly once.

From the command line, ``starlette-correlate log-config SERVER`` prints the
same mapping as JSON (see :mod:`starlette_correlate.cli`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["FORMATS", "LEVELS", "SERVERS", "server_log_config"]


@dataclass(frozen=True)
class _ServerLoggers:
    """How one server's loggers must be configured.

    ``propagating`` loggers get a level and hand their records to the root
    handler. ``owning`` loggers get the handler themselves, with propagation
    off, because the server turns their propagation off or copies their
    handlers onto other loggers (gunicorn's ``uvicorn-worker`` does).
    ``tracebacks`` is the logger of the server's "exception in application"
    line: it gets :class:`~starlette_correlate.logs.SkipLoggedErrors`, so
    with ``error_log=True`` the traceback is not printed twice. ``silenced``
    loggers are raised to CRITICAL: their traceback line can carry no ID
    (granian's), and the library's error line replaces it.
    """

    propagating: tuple[str, ...] = ()
    owning: tuple[str, ...] = ()
    tracebacks: str | None = None
    silenced: tuple[str, ...] = ()


_SERVERS: dict[str, _ServerLoggers] = {
    # `uvicorn --log-config` replaces uvicorn's own config; its loggers
    # then propagate to the root.
    "uvicorn": _ServerLoggers(
        propagating=("uvicorn", "uvicorn.error", "uvicorn.access"),
        tracebacks="uvicorn.error",
    ),
    # uvicorn-worker copies these two loggers' handlers onto uvicorn.error
    # and uvicorn.access and stops those propagating (it keeps filters).
    "gunicorn": _ServerLoggers(
        owning=("gunicorn.error", "gunicorn.access"), tracebacks="uvicorn.error"
    ),
    # hypercorn gives its loggers bare handlers of their own (the access one
    # only with --access-logfile, without which it logs no access line at
    # all) before it applies the config; naming them replaces the handlers.
    "hypercorn": _ServerLoggers(
        owning=("hypercorn.error", "hypercorn.access"), tracebacks="hypercorn.error"
    ),
    # granian merges the config's top-level keys over its defaults, whose two
    # loggers hold handlers and do not propagate. Its access line is written
    # after the app returned and its traceback is pre-formatted text without
    # the exception, so neither can carry the ID: the app turns on the
    # library's lines, granian's access log stays off (its default), and
    # _granian.utils, which writes the traceback, is silenced.
    "granian": _ServerLoggers(
        owning=("_granian", "granian.access"), silenced=("_granian.utils",)
    ),
    # daphne has no config option: the app module applies the mapping, after
    # daphne's logging.basicConfig. Its access log is not a logger (it is
    # written to a stream; -v 0 turns it off) and its traceback is logged by
    # a timer that cannot tell which request a shared exception failed: the
    # app turns on the library's lines.
    "daphne": _ServerLoggers(propagating=("daphne",), tracebacks="daphne.server"),
}

_FORMATTERS = {
    "kv": "starlette_correlate.logs.KeyValueFormatter",
    "json": "starlette_correlate.logs.JsonFormatter",
}

SERVERS: tuple[str, ...] = tuple(_SERVERS)
"""The servers :func:`server_log_config` knows: uvicorn, gunicorn, hypercorn, …"""

FORMATS: tuple[str, ...] = tuple(_FORMATTERS)
"""The line formats: ``kv`` (key=value) and ``json`` (one JSON object)."""

LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
"""The level names :func:`server_log_config` accepts, in any case."""


def _choice(option: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{option}: {value!r} is not one of {', '.join(choices)}")
    return value


def server_log_config(
    server: str,
    *,
    format: str = "kv",  # noqa: A002 - the word users type on the command line
    level: str = "INFO",
) -> dict[str, Any]:
    """Return a ``dictConfig`` mapping under which ``server``'s lines carry the ID.

    One handler writes to standard output, with
    :class:`~starlette_correlate.logs.CorrelationIdFilter` on it and
    :class:`~starlette_correlate.logs.KeyValueFormatter` (``format="kv"``)
    or :class:`~starlette_correlate.logs.JsonFormatter` (``format="json"``).
    The root logger and the server's loggers log at ``level``; the server's
    loggers are wired so each of their records reaches that handler once.
    Every call returns a new mapping, yours to change.

    How each server takes it (``starlette-correlate log-config SERVER >
    log.json`` writes the file):

    - uvicorn: ``uvicorn app:app --log-config log.json``
    - gunicorn: ``gunicorn -k uvicorn_worker.UvicornWorker
      --log-config-json log.json app:app``
    - hypercorn: ``hypercorn --log-config json:log.json --access-logfile -
      app:app``
    - granian: ``granian --interface asgi --log-config log.json app:app``,
      with ``CorrelationMiddleware(access_log=True, error_log=True)``
    - daphne: no option; call ``logging.config.dictConfig(...)`` with this
      mapping in the app module, run ``daphne -v 0 app:app``, with
      ``CorrelationMiddleware(access_log=True, error_log=True)``

    The server's traceback logger gets
    :class:`~starlette_correlate.logs.SkipLoggedErrors`, so that turning
    ``error_log`` on never prints a traceback twice.

    Raises :class:`ValueError`, listing the choices, for an unknown server,
    format or level.

    Example::

        >>> import logging.config
        >>> config = server_log_config("uvicorn", format="json")
        >>> config["handlers"]["console"]["formatter"]
        'json'
        >>> server_log_config("nginx")
        Traceback (most recent call last):
        ...
        ValueError: server: 'nginx' is not one of uvicorn, gunicorn, hypercorn, granian, daphne
    """  # noqa: E501 - a doctest's expected line cannot wrap
    loggers = _SERVERS[_choice("server", server, SERVERS)]
    _choice("format", format, FORMATS)
    level = _choice("level", level.upper() if isinstance(level, str) else level, LEVELS)
    logger_configs: dict[str, dict[str, Any]] = {
        # propagate said outright: dictConfig leaves it as a server set it.
        name: {"level": level, "propagate": True}
        for name in loggers.propagating
    }
    logger_configs.update(
        {
            name: {"level": level, "handlers": ["console"], "propagate": False}
            for name in loggers.owning
        }
    )
    if loggers.tracebacks is not None:
        logger_configs.setdefault(
            loggers.tracebacks, {"level": level, "propagate": True}
        )["filters"] = ["skip_logged"]
    for name in loggers.silenced:
        logger_configs[name] = {"level": "CRITICAL", "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "correlation": {"()": "starlette_correlate.logs.CorrelationIdFilter"},
            "skip_logged": {"()": "starlette_correlate.logs.SkipLoggedErrors"},
        },
        "formatters": {format: {"()": _FORMATTERS[format]}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "filters": ["correlation"],
                "formatter": format,
            }
        },
        "loggers": logger_configs,
        "root": {"level": level, "handlers": ["console"]},
    }
