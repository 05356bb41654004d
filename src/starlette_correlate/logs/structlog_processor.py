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
from starlette_correlate.provenance import source_of

__all__ = ["CorrelationIdProcessor", "add_correlation_id"]


class CorrelationIdProcessor:
    """Add ``request_id``, its source and the bound fields to each structlog event.

    Beside the ID, ``request_id_source`` (``<field>_source``) says how the
    request's ID was chosen (see :mod:`starlette_correlate.provenance`).

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
        self.source_field = f"{field}_source"
        self.placeholder = placeholder
        self.inherited_field, self.parent_field = two_id_fields(field, inherited_field)

    def __call__(
        self, logger: WrappedLogger, method_name: str, event_dict: EventDict
    ) -> EventDict:
        """Return ``event_dict`` with the ID and fields added."""
        field = self.field
        record = event_dict.get("_record")
        if not isinstance(record, logging.LogRecord):
            record = None
        stamped: str | None
        if field in event_dict:
            stamped = record_correlation_id(None if record is None else record.exc_info)
        else:
            carried = None if record is None else record.__dict__.get(field)
            stamped = (
                carried
                if isinstance(carried, str) and carried != self.placeholder
                else record_correlation_id(None if record is None else record.exc_info)
            )
            event_dict[field] = self.placeholder if stamped is None else stamped
        if self.source_field not in event_dict:
            # How the ID was chosen: the filter's, on a stdlib record it
            # stamped; else read from the very ID stamped here.
            carried = None if record is None else record.__dict__.get(self.source_field)
            event_dict[self.source_field] = (
                carried
                if isinstance(carried, str) and carried != self.placeholder
                else source_of(stamped) or self.placeholder
            )
        # Until a process first sets fields or two IDs there are none to
        # read (setting two IDs marks fields in use too).
        if not fields_in_use.seen:
            return event_dict
        two_ids = record_two_ids(None if record is None else record.exc_info)
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
