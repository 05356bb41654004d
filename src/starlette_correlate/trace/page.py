"""The trace as one self-contained HTML page: bars on a time axis, lines beside.

The page has inline CSS and inline SVG and nothing else: no script, no
external asset, and a Content-Security-Policy that forbids both, so it
opens the same from a laptop, an attachment or an air-gapped host. Every
text from a log goes through :func:`~starlette_correlate.trace.text.printable`
and then :func:`html.escape`, so a hostile message shows as text and runs
nothing.
"""

from __future__ import annotations

from html import escape

from starlette_correlate.trace.text import printable
from starlette_correlate.trace.timeline import Trace, TraceLine, Unit

__all__ = ["render_html"]

_CHART_WIDTH = 640
_LABEL_WIDTH = 220
_ROW = 24
_AXIS = 28
_STYLE = """
body{font:13px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2330}
h1{font-size:18px;margin:0 0 .3em}
.summary{color:#555;margin:0 0 1em}
.layout{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}
svg .tick{stroke:#d8dce3}
svg .tick-label{fill:#777;font-size:11px}
.bar{fill-opacity:.75}
.bar.error{stroke:#c0192b;stroke-width:2}
.mark{fill:#1d2330}
.mark.error{fill:#c0192b}
table{border-collapse:collapse;font:12px ui-monospace,monospace}
th,td{text-align:left;padding:2px 8px;vertical-align:top}
th{border-bottom:1px solid #ccc}
td.offset{text-align:right;white-space:nowrap}
td.message{white-space:pre-wrap;word-break:break-word;max-width:60em}
tr.error td{background:#fde7ea}
tr.error td.offset::before{content:"! ";color:#c0192b;font-weight:bold}
.unit{display:inline-block;min-width:2.5em;border-radius:3px;padding:0 4px;color:#fff}
"""


def _text(value: str) -> str:
    return escape(printable(value), quote=True)


def _colour(index: int) -> str:
    return f"hsl({(index * 67) % 360},55%,45%)"


def _chart(trace: Trace, colours: dict[int, str]) -> str:
    units = trace.units
    times = [t for unit in units for t in (unit.start, unit.end) if t is not None]
    times += [line.at for line in trace.lines if line.at is not None]
    first, last = (min(times), max(times)) if times else (0.0, 0.0)
    span = max(last - first, 0.001)
    height = _AXIS + _ROW * max(len(units), 1) + 8

    def x(at: float) -> float:
        return _LABEL_WIDTH + (at - first) / span * (_CHART_WIDTH - _LABEL_WIDTH - 10)

    parts = [
        f'<svg width="{_CHART_WIDTH}" '
        f'height="{height}" role="img" aria-label="requests and jobs on a time axis">'
    ]
    for step in range(5):
        at = first + span * step / 4
        offset = trace.offset_ms(at) or 0.0
        parts.append(
            f'<line class="tick" x1="{x(at):.1f}" y1="{_AXIS - 6}" '
            f'x2="{x(at):.1f}" y2="{height}"/>'
            f'<text class="tick-label" x="{x(at):.1f}" y="{_AXIS - 10}" '
            f'text-anchor="middle">{offset:+.1f} ms</text>'
        )
    for row, unit in enumerate(units):
        top = _AXIS + row * _ROW
        label = f"{unit.label} {unit.service} {unit.kind} {unit.ident}"
        parts.append(f'<text x="4" y="{top + 16}">{_text(label[:34])}</text>')
        if unit.start is None or unit.end is None:
            continue
        left, right = x(unit.start), x(unit.end)
        error = " error" if unit.error else ""
        parts.append(
            f'<rect class="bar {unit.kind}{error}" x="{left:.1f}" y="{top + 4}" '
            f'width="{max(right - left, 2):.1f}" height="{_ROW - 8}" rx="2" '
            f'fill="{colours[id(unit)]}"><title>{_text(_describe(trace, unit))}'
            "</title></rect>"
        )
        for line in trace.lines:
            if line.unit is unit and line.at is not None:
                mark = " error" if line.error else ""
                parts.append(
                    f'<circle class="mark{mark}" cx="{x(line.at):.1f}" '
                    f'cy="{top + _ROW / 2:.0f}" r="2.5"><title>'
                    f"{_text(line.message[:200])}</title></circle>"
                )
    parts.append("</svg>")
    return "".join(parts)


def _describe(trace: Trace, unit: Unit) -> str:
    words = [unit.label, unit.service, unit.kind, unit.ident]
    if unit.method or unit.path:
        words.append(f"{unit.method or '-'} {unit.path or '-'}")
    if unit.status is not None:
        words.append(str(unit.status))
    if unit.duration_ms is not None:
        words.append(f"{unit.duration_ms:.1f} ms")
    return " ".join(words)


def _row(trace: Trace, line: TraceLine, colours: dict[int, str]) -> str:
    offset = trace.offset_ms(line.at)
    message = line.message
    if line.exception is not None:
        message += f"\n{line.exception}"
    return (
        f'<tr class="{"error" if line.error else "line"}">'
        f'<td class="offset">{"?" if offset is None else f"{offset:+.3f}"}</td>'
        f'<td><span class="unit" style="background:{colours[id(line.unit)]}">'
        f"{_text(line.unit.label)}</span></td>"
        f"<td>{_text(line.service)}</td><td>{_text(line.level)}</td>"
        f'<td class="message">{_text(message)}</td></tr>'
    )


def render_html(trace: Trace) -> str:
    """Return the page for ``trace``: one HTML document, nothing outside it.

    Example::

        >>> from starlette_correlate.trace.timeline import Trace
        >>> page = render_html(Trace("<abc>", [], [], {"<abc>"}))
        >>> "&lt;abc&gt;" in page and "<abc>" not in page
        True
    """
    colours = {id(unit): _colour(index) for index, unit in enumerate(trace.units)}
    errors = sum(line.error for line in trace.lines)
    summary = (
        f"{len(trace.lines)} lines, {len(trace.units)} requests and jobs, "
        f"{errors} errors"
    )
    rows = "".join(_row(trace, line, colours) for line in trace.lines)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>trace {_text(trace.ident)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>Trace of {_text(trace.ident)}</h1>"
        f'<p class="summary">{summary}</p>'
        f'<div class="layout"><div class="chart">{_chart(trace, colours)}</div>'
        '<table class="lines"><thead><tr><th>ms</th><th>unit</th><th>service</th>'
        "<th>level</th><th>message</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div></body></html>\n"
    )
