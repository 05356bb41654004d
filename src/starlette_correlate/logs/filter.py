"""The stdlib logging filter that stamps the correlation ID on every record.

Attach it to **handlers**, not loggers: a filter on a logger runs only for
records logged through that very logger, never for records propagated from
its children, so ``logging.getLogger("app").addFilter(...)`` misses
``app.db``; a handler sees them all.
"""

from __future__ import annotations

import logging

from starlette_correlate.context import correlation_id_var
from starlette_correlate.fields import fields_in_use, fields_var
from starlette_correlate.logs.record_attributes import RECORD_ATTRIBUTES
from starlette_correlate.logs.record_id import (
    record_correlation_id,
    record_two_ids,
    two_id_fields,
)
from starlette_correlate.provenance import SOURCE_BY_TYPE, source_of

__all__ = ["CorrelationIdFilter", "get_logger"]


class CorrelationIdFilter(logging.Filter):
    """Put the current correlation ID on each record as ``record.request_id``.

    Beside it, ``record.request_id_source`` (``<field>_source``) says how
    the request's ID was chosen: ``incoming``, ``generated``, ``replaced``
    or ``traceparent`` (see :mod:`starlette_correlate.provenance`).

    With two IDs on (the middleware's ``inherited_header``), a record
    logged in such a request also gets the inherited ID as
    ``record.correlation_id`` (``inherited_field``) and the caller's request
    ID as ``record.request_id_parent`` (``<field>_parent``; ``placeholder``
    for the first hop); records outside one do not, and a process that never
    turns two IDs on does no work for them.

    Outside a request the attribute is ``placeholder`` (``"-"``), so format
    strings never fail. The fields bound for the request (``user_id`` and
    so on) become attributes too. A value the caller set with ``extra=`` is
    kept, for the ID and for every field; a field named like a standard
    record attribute or method is never written. A record whose exception
    left a request after that request's context was gone (the server's own
    "Exception in ASGI application" line) gets the ID the exception
    carries, and with two IDs the inherited ID and parent it carries
    (D-peers-two-6). The filter never drops a record.

    Example::

        import logging
        from starlette_correlate.logs import CorrelationIdFilter

        handler = logging.StreamHandler()
        handler.addFilter(CorrelationIdFilter())
        handler.setFormatter(logging.Formatter("%(request_id)s %(message)s"))
    """

    def __init__(
        self,
        name: str = "",
        *,
        field: str = "request_id",
        placeholder: str = "-",
        inherited_field: str | None = None,
    ) -> None:
        super().__init__(name)
        if not field.isidentifier():
            raise ValueError(
                f"field: {field!r} is not a valid attribute name; use e.g. 'request_id'"
            )
        if hasattr(logging.LogRecord, field) or field in RECORD_ATTRIBUTES:
            raise ValueError(
                f"field: {field!r} is a standard LogRecord attribute; pick another "
                "name, e.g. 'request_id'"
            )
        self.field = field
        self.source_field = f"{field}_source"
        self.inherited_field, self.parent_field = two_id_fields(field, inherited_field)
        if (
            not self.inherited_field.isidentifier()
            or hasattr(logging.LogRecord, self.inherited_field)
            or self.inherited_field in RECORD_ATTRIBUTES
        ):
            raise ValueError(
                f"inherited_field: {self.inherited_field!r} is not a valid, free "
                "attribute name; use e.g. 'correlation_id'"
            )
        self.placeholder = placeholder
        self._default_field = field == "request_id"

    def filter(self, record: logging.LogRecord) -> bool:
        """Stamp ``record`` and let it through."""
        # hasattr, not record.__dict__: reading __dict__ turns CPython's
        # compact per-instance attribute storage into a real dict, which
        # costs more than everything else here (the formatter pays it later
        # anyway, but a filter should not pay it twice for nothing). For the
        # default field name, plain attribute stores: setattr costs a call.
        placeholder = self.placeholder
        if hasattr(record, self.field):
            # Set by the caller: the source is still the record's ID's.
            stamped = record_correlation_id(record.exc_info)
        else:
            # record_correlation_id's rule, whose first case (no exception,
            # most records) is read here without the call.
            exc_info = record.exc_info
            stamped = (
                correlation_id_var.get()
                if exc_info is None
                else record_correlation_id(exc_info)
            )
            value = placeholder if stamped is None else stamped
            if self._default_field:
                record.request_id = value
            else:
                setattr(record, self.field, value)
        if not hasattr(record, self.source_field):
            # Read from the very ID stamped (a traceback logged after its
            # request names the source of the ID it names); the two common
            # types from a table, not a call (D-peers-prov-5).
            source = (
                SOURCE_BY_TYPE.get(stamped.__class__)
                or source_of(stamped)
                or placeholder
            )
            if self._default_field:
                record.request_id_source = source
            else:
                setattr(record, self.source_field, source)
        # Until a process first sets fields or two IDs there are none to
        # read: one test for both, as setting two IDs marks fields in use
        # too (D-peers-two-1).
        if fields_in_use.seen:
            self._stamp_more(record)
        return True

    def _stamp_more(self, record: logging.LogRecord) -> None:
        """Stamp the two IDs and the bound fields, when there are any."""
        # From the record's exception when its ID is (D-peers-two-6).
        two_ids = record_two_ids(record.exc_info)
        if two_ids is not None:
            if not hasattr(record, self.inherited_field):
                setattr(record, self.inherited_field, two_ids.inherited)
            if not hasattr(record, self.parent_field):
                parent = two_ids.parent
                setattr(
                    record,
                    self.parent_field,
                    self.placeholder if parent is None else parent,
                )
        fields = fields_var.get()
        if fields is not None:
            for key, value in fields.items():
                # hasattr also refuses names of LogRecord methods and
                # standard attributes, which a field must never shadow.
                if not hasattr(record, key):
                    setattr(record, key, value)


def get_logger(name: str) -> logging.Logger:
    """Return ``logging.getLogger(name)`` with a correlation filter attached.

    A convenience for code that configures nothing else; the filter on your
    handlers is enough for plain ``logging.getLogger`` users.

    Example::

        >>> logger = get_logger("my_service.orders")
        >>> any(isinstance(f, CorrelationIdFilter) for f in logger.filters)
        True
    """
    logger = logging.getLogger(name)
    if not any(isinstance(f, CorrelationIdFilter) for f in logger.filters):
        logger.addFilter(CorrelationIdFilter())
    return logger
