"""A structlog processor that adds the correlation ID and the bound fields.

Needs the optional extra: ``pip install 'starlette-correlate[structlog]'``.
Put :data:`add_correlation_id` in your processor chain, and in the
``foreign_pre_chain`` of :class:`structlog.stdlib.ProcessorFormatter` so
stdlib records (uvicorn's, your libraries') get the ID too.
"""

from __future__ import annotations

try:
    import structlog  # noqa: F401 - fail here, naming the extra to install
except ImportError as error:
    raise ImportError(
        "starlette_correlate.logs.structlog_processor needs structlog: "
        "pip install 'starlette-correlate[structlog]'"
    ) from error

import logging

from structlog.typing import EventDict, WrappedLogger

from starlette_correlate.fields import fields_in_use, fields_var
from starlette_correlate.logs.record_id import (
    record_correlation_id,
    record_two_ids,
    two_id_fields,
)

__all__ = ["CorrelationIdProcessor", "add_correlation_id"]


class CorrelationIdProcessor:
    """Add ``request_id`` (and the bound fields) to each structlog event.

    Keeps a value already in the event (bound with ``bind`` or passed as a
    keyword). For a stdlib record coming through ``ProcessorFormatter``'s
    foreign pre-chain it prefers the value the record carries (set by
    :class:`~starlette_correlate.logs.CorrelationIdFilter` or ``extra=``),
    then the current ID, then the ID carried by the record's exception
    (uvicorn's traceback line is logged after the request's context is
    gone). Outside a request the field is ``placeholder``. In a request
    with two IDs, ``correlation_id`` (``inherited_field``) and
    ``<field>_parent`` are added too, for that traceback line from the
    exception (see :class:`~starlette_correlate.logs.CorrelationIdFilter`).

    Example::

        import structlog
        from starlette_correlate.logs.structlog_processor import add_correlation_id

        structlog.configure(
            processors=[add_correlation_id, structlog.processors.JSONRenderer()]
        )
    """

    def __init__(
        self,
        *,
        field: str = "request_id",
        placeholder: str = "-",
        inherited_field: str | None = None,
    ) -> None:
        if not field:
            raise ValueError("field: give the event key to write, e.g. 'request_id'")
        self.field = field
        self.placeholder = placeholder
        self.inherited_field, self.parent_field = two_id_fields(field, inherited_field)

    def __call__(
        self, logger: WrappedLogger, method_name: str, event_dict: EventDict
    ) -> EventDict:
        """Return ``event_dict`` with the ID and fields added."""
        field = self.field
        if field not in event_dict:
            record = event_dict.get("_record")
            if isinstance(record, logging.LogRecord):
                carried = record.__dict__.get(field)
                value = (
                    carried
                    if isinstance(carried, str) and carried != self.placeholder
                    else record_correlation_id(record.exc_info)
                )
            else:
                value = record_correlation_id(None)
            event_dict[field] = self.placeholder if value is None else value
        # Until a process first sets fields or two IDs there are none to
        # read (setting two IDs marks fields in use too).
        if not fields_in_use.seen:
            return event_dict
        record = event_dict.get("_record")
        two_ids = record_two_ids(
            record.exc_info if isinstance(record, logging.LogRecord) else None
        )
        if two_ids is not None:
            event_dict.setdefault(self.inherited_field, two_ids.inherited)
            parent = two_ids.parent
            event_dict.setdefault(
                self.parent_field, self.placeholder if parent is None else parent
            )
        fields = fields_var.get()
        if fields is not None:
            for key, item in fields.items():
                event_dict.setdefault(key, item)
        return event_dict


add_correlation_id = CorrelationIdProcessor()
"""A ready processor with the defaults: ``request_id``, placeholder ``-``."""
