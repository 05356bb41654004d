"""The standard ``LogRecord`` attributes: the one list every module reads.

A field, a filter's attribute or a formatter's key named like one of them
would clash with what ``logging`` itself puts on every record, so the
filter, the formatters and the extractors all refuse or skip them by this
set.
"""

from __future__ import annotations

import logging
from typing import Final

__all__ = ["RECORD_ATTRIBUTES", "RECORD_INIT_ATTRIBUTES"]

RECORD_INIT_ATTRIBUTES: Final = tuple(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__
)
"""What ``LogRecord.__init__`` sets, in the order it sets them."""

RECORD_ATTRIBUTES: Final = frozenset(RECORD_INIT_ATTRIBUTES) | frozenset(
    {"message", "asctime", "taskName"}
)
"""Every standard attribute: those of ``__init__`` and those formatting adds.

``taskName`` is listed for Python 3.11, whose records do not have it yet.

Example::

    >>> {"msg", "levelname", "message", "taskName"} <= RECORD_ATTRIBUTES
    True
"""
