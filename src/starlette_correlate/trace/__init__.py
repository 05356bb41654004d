"""The trace of one request: its lines across services' logs, as one timeline.

``starlette-correlate trace ID FILE...`` (see :mod:`starlette_correlate.cli`)
is this package on the command line::

    from pathlib import Path
    from starlette_correlate.trace import Source, format_timeline, read_trace

    trace = read_trace("req-1", [Source("api", Path("api.log"))])
    print(format_timeline(trace), end="")

:mod:`.scan` finds the lines that may belong (a byte search, nothing
parsed), :mod:`.parse` reads them back, :mod:`.timeline` decides which
belong and orders them, :mod:`.text` and :mod:`.page` show them.
"""

from starlette_correlate.trace.page import render_html
from starlette_correlate.trace.text import format_timeline, printable
from starlette_correlate.trace.timeline import (
    ID_FIELDS,
    MATCH_FIELDS,
    PARENT_FIELDS,
    Source,
    Trace,
    TraceLine,
    Unit,
    read_trace,
    service_name,
)

__all__ = [
    "ID_FIELDS",
    "MATCH_FIELDS",
    "PARENT_FIELDS",
    "Source",
    "Trace",
    "TraceLine",
    "Unit",
    "format_timeline",
    "printable",
    "read_trace",
    "render_html",
    "service_name",
]
