"""loguru: the correlation ID and the bound fields in every record's ``extra``.

Needs the optional extra: ``pip install 'starlette-correlate[loguru]'``.
loguru records are dicts, not ``logging.LogRecord`` objects, so the stdlib
filter cannot serve; a *patcher*, which loguru calls for every message in
the caller's thread and context before any sink sees it, does the same work::

    import logging
    from loguru import logger
    from starlette_correlate.integrations.loguru import InterceptHandler, patcher

    logger.configure(patcher=patcher)
    # stdlib and server lines (uvicorn's included) into loguru, with their IDs:
    logging.basicConfig(handlers=[InterceptHandler()], level=0, force=True)

Sinks then read ``record["extra"]["request_id"]`` (``{extra[request_id]}``
in a format string; a ``serialize=True`` sink writes it in each JSON line).
"""

from __future__ import annotations

try:
    from loguru import logger
except ImportError as error:  # pragma: no cover - exercised with loguru hidden
    raise ImportError(
        "starlette_correlate.integrations.loguru needs loguru: "
        "pip install 'starlette-correlate[loguru]'"
    ) from error

import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette_correlate.fields import fields_in_use, fields_var
from starlette_correlate.logs.record_id import (
    record_correlation_id,
    record_two_ids,
    two_id_fields,
)
from starlette_correlate.provenance import source_of

if TYPE_CHECKING:
    from loguru import Record

__all__ = ["InterceptHandler", "make_patcher", "patcher"]


def _check_field(field: object) -> str:
    if not isinstance(field, str):
        raise TypeError(
            f"field: expected a string such as 'request_id', got {type(field).__name__}"
        )
    if not field.isidentifier():
        # A name usable as {extra[name]} in a format and as a bind() keyword.
        raise ValueError(
            f"field: {field!r} is not a valid key name; use e.g. 'request_id'"
        )
    return field


def make_patcher(
    *,
    field: str = "request_id",
    placeholder: str = "-",
    inherited_field: str | None = None,
) -> Callable[[Record], None]:
    """Return a loguru patcher that puts the ID and the bound fields in ``extra``.

    Each record's ``extra[field]`` becomes the current correlation ID; for a
    traceback logged after its request ended (``record["exception"]`` set,
    the context already reset) the ID the exception carries; else
    ``placeholder``. ``extra["<field>_source"]`` says how that ID was chosen
    (see :mod:`starlette_correlate.provenance`). The fields bound for the
    request (``user_id`` and so on) are added beside it, and in a request
    with two IDs the inherited ID (``extra["correlation_id"]``,
    ``inherited_field``) and the caller's request ID
    (``extra["<field>_parent"]``), for a late traceback those its exception
    carries. A key already in ``extra`` (from ``logger.bind``,
    ``logger.contextualize`` or a keyword argument) is kept. Options are
    checked here, so a bad one fails at configuration.

    Example::

        >>> from loguru import logger
        >>> from starlette_correlate.scope import correlation_scope
        >>> lines = []
        >>> sink = logger.add(lines.append, format="{extra[trace]} {message}")
        >>> patched = logger.patch(make_patcher(field="trace", placeholder="none"))
        >>> with correlation_scope("job-1"):
        ...     patched.info("inside")
        >>> patched.info("outside")
        >>> logger.remove(sink)
        >>> [line.rstrip() for line in lines]
        ['job-1 inside', 'none outside']
    """
    field = _check_field(field)
    inherited_key, parent_key = two_id_fields(
        field, None if inherited_field is None else _check_field(inherited_field)
    )
    if not isinstance(placeholder, str):
        raise TypeError(
            f"placeholder: expected a string such as '-', got "
            f"{type(placeholder).__name__}"
        )

    source_key = f"{field}_source"

    def patch(record: Record) -> None:
        extra = record["extra"]
        # The record's ID by the one rule; its source, even when the ID in
        # extra was bound by the caller (or by InterceptHandler).
        correlation_id = record_correlation_id(record["exception"])
        if field not in extra:
            extra[field] = placeholder if correlation_id is None else correlation_id
        if source_key not in extra:
            extra[source_key] = source_of(correlation_id) or placeholder
        # Until a process first sets fields or two IDs there are none to
        # read (setting two IDs marks fields in use too).
        if not fields_in_use.seen:
            return
        two_ids = record_two_ids(record["exception"])
        if two_ids is not None:
            if inherited_key not in extra:
                extra[inherited_key] = two_ids.inherited
            if parent_key not in extra:
                parent = two_ids.parent
                extra[parent_key] = placeholder if parent is None else parent
        fields = fields_var.get()
        if fields is not None:
            for key, value in fields.items():
                if key not in extra:
                    extra[key] = value

    return patch


patcher = make_patcher()
"""The patcher with the defaults: ``extra["request_id"]``, placeholder ``-``.

Example::

    from loguru import logger
    from starlette_correlate.integrations.loguru import patcher

    logger.configure(patcher=patcher)
"""


def _caller_depth() -> int:
    """Count the frames from ``emit`` back to the code that called ``logging``.

    loguru names a record after the frame it is logged from; without the
    depth every intercepted line would say it came from this module.
    """
    frame = inspect.currentframe()
    depth = 0
    logging_file = logging.__file__
    # Skip this function and emit, then logging's own frames.
    while frame is not None and (depth < 2 or frame.f_code.co_filename == logging_file):
        frame = frame.f_back
        depth += 1
    return depth - 1


class InterceptHandler(logging.Handler):
    """A stdlib handler that hands each record to loguru, with its ID.

    Routes stdlib lines (your libraries', uvicorn's, gunicorn's) into
    loguru at their level, with their message, exception and the caller's
    module, function and line. The record's ID goes with it: a value
    already on the record under ``field`` (set by ``extra=`` or by a
    :class:`~starlette_correlate.logs.CorrelationIdFilter` on a queue
    handler) is kept; otherwise the current ID, or the one its exception
    carries (uvicorn logs "Exception in ASGI application" after the
    request's context is gone). With no ID, the patcher's placeholder
    applies. Use the same ``field`` as the patcher.

    Example::

        import logging
        from loguru import logger
        from starlette_correlate.integrations.loguru import InterceptHandler, patcher

        logger.configure(patcher=patcher)
        logging.basicConfig(handlers=[InterceptHandler()], level=0, force=True)
    """

    def __init__(
        self, level: int | str = logging.NOTSET, *, field: str = "request_id"
    ) -> None:
        super().__init__(level)
        self.field = _check_field(field)

    def emit(self, record: logging.LogRecord) -> None:
        """Log ``record`` through loguru's global ``logger``."""
        try:
            try:
                level: str | int = logger.level(record.levelname).name
            except ValueError:  # a level loguru does not know by that name
                level = record.levelno
            # Kept as the filter keeps it: whatever the caller put there.
            correlation_id: object = getattr(record, self.field, None)
            if correlation_id is None:
                correlation_id = record_correlation_id(record.exc_info)
            target = (
                logger
                if correlation_id is None
                else logger.bind(**{self.field: correlation_id})
            )
            target.opt(depth=_caller_depth(), exception=record.exc_info).log(
                level, record.getMessage()
            )
        except Exception:  # noqa: BLE001 - as every stdlib handler does
            self.handleError(record)
