r"""The trace as text for a terminal: the units, then one row per line.

Everything printed from a log (messages, services, levels, IDs) goes
through :func:`printable` first: a character :meth:`str.isprintable`
rejects is written as its escape (``\x1b``, ``\n``, ``\u202e``), so a
hostile message can neither move the cursor, recolour the terminal, nor
forge a row of its own.
"""

from __future__ import annotations

from starlette_correlate.logs.formatters import _escape_char
from starlette_correlate.trace.timeline import Trace, Unit

__all__ = ["format_timeline", "printable"]


def printable(text: str) -> str:
    r"""Return ``text`` with every non-printable character escaped.

    Example::

        >>> printable("red \x1b[31m text\n")
        'red \\x1b[31m text\\n'
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape_char(char) for char in text)


def _offset(trace: Trace, at: float | None) -> str:
    offset = trace.offset_ms(at)
    return "?" if offset is None else f"{offset:+.3f}"


def _unit_summary(trace: Trace, unit: Unit) -> str:
    parts = [f"{unit.kind} {printable(unit.ident)}"]
    if unit.method or unit.path:
        parts.append(printable(f"{unit.method or '-'} {unit.path or '-'}"))
    if unit.status is not None:
        parts.append(str(unit.status))
    if unit.duration_ms is not None:
        parts.append(f"{unit.duration_ms:.1f} ms")
    parts.append(f"{_offset(trace, unit.start)} .. {_offset(trace, unit.end)} ms")
    if unit.error:
        parts.append("ERROR")
    return "  ".join(parts)


def format_timeline(trace: Trace) -> str:
    """Return the trace as lines of text, each ending with a newline.

    First a summary, then one row per request or job (``R1``, ``J1``: its
    service, ID, method and path, status, duration, span), then one row per
    line: ``!`` when it is an error, its offset in milliseconds from the
    first line, its unit, service, level and message.

    Example::

        >>> from starlette_correlate.trace.timeline import Trace
        >>> print(format_timeline(Trace("abc", [], [], {"abc"})), end="")
        trace abc: 0 lines, 0 requests, 0 jobs, 0 errors
    """
    lines = trace.lines
    requests = sum(unit.kind == "request" for unit in trace.units)
    jobs = len(trace.units) - requests
    errors = sum(line.error for line in lines)
    services = sorted({line.service for line in lines})
    head = (
        f"trace {printable(trace.ident)}: {len(lines)} lines, {requests} requests, "
        f"{jobs} jobs, {errors} errors"
    )
    ends = [line.at for line in lines if line.at is not None]
    if services:
        head += f", {len(services)} services"
    if ends:
        head += f", {(max(ends) - min(ends)) * 1000:.3f} ms"
    out = [head + "\n"]
    service_width = max((len(printable(name)) for name in services), default=0)
    out.extend(
        f"  {unit.label:<4} {printable(unit.service):<{service_width}}  "
        f"{_unit_summary(trace, unit)}\n"
        for unit in trace.units
    )
    if lines:
        out.append("\n")
    offsets = [_offset(trace, line.at) for line in lines]
    offset_width = max((len(offset) for offset in offsets), default=0)
    level_width = max((len(printable(line.level)) for line in lines), default=0)
    for line, offset in zip(lines, offsets, strict=True):
        message = printable(line.message)
        if line.exception is not None:
            message += f"  [{printable(line.exception)}]"
        out.append(
            f"{'!' if line.error else ' '} {offset:>{offset_width}}  "
            f"{line.unit.label:<4} {printable(line.service):<{service_width}}  "
            f"{printable(line.level) or '-':<{level_width}}  {message}\n"
        )
    return "".join(out)
