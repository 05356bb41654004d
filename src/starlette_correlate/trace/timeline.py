"""Which lines belong to the trace of one ID, and how they make a timeline.

**What "spawned" means.** The trace starts as the set of one ID. A line
belongs to it when one of its *ID fields* (``request_id``,
``celery_task_id``, arq's and rq's ``job_id``), its *match fields*
(``trace_id``, two IDs' inherited ``correlation_id``) or its *parent
fields* (``celery_parent_id``, ``job_parent_id``, two IDs'
``request_id_parent``) holds an ID of the set. A line that belongs
brings the values of its ID fields into the set. So:

- every service that received the same ``request_id`` (an httpx call made
  with :func:`~starlette_correlate.integrations.httpx.instrument`, a task
  that ran under the request's ID) is in, by that field;
- a task whose line names the request's ID brings its ``celery_task_id``,
  and a task published by that task (``celery_parent_id``) is in with its
  own ID fields, whatever its ``request_id``;
- a ``trace_id`` is matched (ask for a W3C trace ID and get its lines) but
  never brought in: a trace spans requests the asked one did not spawn;
- with two IDs, a request called by one in the set is in by its
  ``request_id_parent``, and asking for an inherited ``correlation_id``
  gets every hop's lines (matched, never brought in, like ``trace_id``).

The files are read in any order; :mod:`.scan` goes round until every ID
that joined was searched everywhere, so the result does not depend on it.

**The timeline.** Lines sort by their ``time`` (ISO 8601 as the formatters
write it, or seconds since the epoch); a line without a readable time sorts
with the line before it in its file. Lines group into *units*: a job per
service and job ID, else a request per service and
``request_id``. A request's span is its access line's ``duration_ms``
before that line (the access line is written when the response ends), else
its first to its last line. A line is an error when its level is ERROR or
CRITICAL, its ``exc_info`` is set, or it is an access line with a status
of 500 or more.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from starlette_correlate.logs.access import ACCESS_LOGGER
from starlette_correlate.trace.parse import UnreadableLineError, parse_line
from starlette_correlate.trace.scan import BLOCK_SIZE, MAX_LINE_BYTES, sweep

__all__ = [
    "ACCESS_LOGGER",
    "ID_FIELDS",
    "JOB_FIELDS",
    "MATCH_FIELDS",
    "PARENT_FIELDS",
    "Source",
    "Trace",
    "TraceLine",
    "Unit",
    "read_trace",
    "service_name",
]

JOB_FIELDS: tuple[str, ...] = ("celery_task_id", "job_id")
"""Fields naming a job: Celery's task ID, arq's and rq's job ID."""
ID_FIELDS: tuple[str, ...] = ("request_id", *JOB_FIELDS)
"""Fields naming a unit of work: a line that belongs brings their values in."""
MATCH_FIELDS: tuple[str, ...] = ("trace_id", "correlation_id")
"""Fields matched against the trace's IDs but never brought in."""
PARENT_FIELDS: tuple[str, ...] = (
    "celery_parent_id",
    "job_parent_id",
    "request_id_parent",
)
"""Fields naming the unit that spawned the line's own."""

_ERROR_LEVELS = frozenset({"ERROR", "CRITICAL", "FATAL"})
_SERVER_STATUS = re.compile(r'"\s+(\d{3})(?:\s|$)')
_SERVER_REQUEST = re.compile(r'"([A-Z]+) (\S+)(?: HTTP/[\d.]+)?"')
_REQUEST_FIELD = "request_id"


@dataclass(frozen=True)
class Source:
    """One log file and the service that wrote it.

    Example::

        >>> Source("api", Path("/var/log/api.log.1.gz")).service
        'api'
    """

    service: str
    path: Path


def service_name(path: Path) -> str:
    """Name a service after its log file: the name up to its first dot.

    Example::

        >>> service_name(Path("/var/log/orders.2026-11-30.log.gz"))
        'orders'
    """
    return path.name.split(".", 1)[0] or path.name


def _searchable(value: str) -> bool:
    # Both formatters write such a value byte for byte, so a raw search for
    # it finds every line that holds it.
    return value.isprintable() and '"' not in value and "\\" not in value


@dataclass
class Unit:
    """A request or a job of the trace, in one service."""

    label: str
    kind: str
    service: str
    ident: str
    start: float | None = None
    end: float | None = None
    duration_ms: float | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    error: bool = False


@dataclass
class TraceLine:
    """One line of the trace, read back."""

    at: float | None
    """Seconds since the epoch, or None when the line has no readable time."""
    service: str
    level: str
    logger: str
    message: str
    fields: Mapping[str, object]
    unit: Unit
    error: bool
    exception: str | None
    file_index: int
    offset: int
    sort_at: float | None = None


@dataclass
class Trace:
    """The trace of one ID: its lines in time order, its units, what was skipped."""

    ident: str
    lines: list[TraceLine]
    units: list[Unit]
    ids: set[str]
    skipped: Counter[str] = field(default_factory=Counter)
    damaged: list[tuple[str, str]] = field(default_factory=list)
    bytes_read: int = 0

    @property
    def start(self) -> float | None:
        """The time of the first line with a time (offsets count from it)."""
        times = [line.at for line in self.lines if line.at is not None]
        return min(times) if times else None

    def offset_ms(self, at: float | None) -> float | None:
        """Return ``at`` in milliseconds after :attr:`start`."""
        start = self.start
        if at is None or start is None:
            return None
        return (at - start) * 1000


def _text(value: object) -> str | None:
    if isinstance(value, str) and value and value != "-":
        return value
    return None


def _time(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


class _Collector:
    """The :class:`~.scan.ScanEvents` of one trace: parses, keeps, widens."""

    def __init__(
        self,
        ident: str,
        id_fields: Sequence[str],
        match_fields: Sequence[str],
        parent_fields: Sequence[str],
    ) -> None:
        self.ids = {ident}
        self.id_fields = tuple(id_fields)
        self.linked = (*id_fields, *match_fields, *parent_fields)
        self.parsed: dict[tuple[int, int], dict[str, object] | None] = {}
        self.members: dict[tuple[int, int], dict[str, object]] = {}
        self.skipped: Counter[str] = Counter()
        self.overlong_seen: set[tuple[int, int]] = set()
        self.damaged_files: list[tuple[int, str]] = []

    def line(self, file_index: int, offset: int, line: bytes) -> Iterable[bytes]:
        key = (file_index, offset)
        if key in self.members:
            return ()
        if key in self.parsed:
            fields = self.parsed[key]
        else:
            try:
                fields = parse_line(line)
            except UnreadableLineError as error:
                self.skipped[error.reason] += 1
                fields = None
            self.parsed[key] = fields
        if fields is None:
            return ()
        ids = self.ids
        if not any(_text(fields.get(name)) in ids for name in self.linked):
            return ()
        self.members[key] = fields
        del self.parsed[key]
        added: list[bytes] = []
        for name in self.id_fields:
            value = _text(fields.get(name))
            if value is not None and value not in ids:
                ids.add(value)
                if _searchable(value):
                    added.append(value.encode())
        return added

    def overlong(self, file_index: int, offset: int) -> None:
        key = (file_index, offset)
        if key not in self.overlong_seen:
            self.overlong_seen.add(key)
            self.skipped["too long"] += 1

    def damaged(self, file_index: int, reason: str) -> None:
        self.damaged_files.append((file_index, reason))


def _status(fields: Mapping[str, object], logger: str, message: str) -> int | None:
    status = _number(fields.get("status"))
    if status is None and logger.endswith(".access"):
        # A server's own access line carries the status in its message only.
        found = _SERVER_STATUS.search(message)
        status = float(found.group(1)) if found else None
    return int(status) if status is not None else None


def _unit_key(
    fields: Mapping[str, object], service: str, matched: str
) -> tuple[str, str, str]:
    for job_field in JOB_FIELDS:
        job = _text(fields.get(job_field))
        if job is not None:
            return ("job", service, job)
    return ("request", service, _text(fields.get(_REQUEST_FIELD)) or matched)


def _exception(value: object) -> str | None:
    text = _text(value)
    if text is None:
        return None
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


def _build(  # noqa: PLR0912, PLR0915 - one pass: lines, times, units, errors
    ident: str, sources: Sequence[Source], collector: _Collector
) -> tuple[list[TraceLine], list[Unit]]:
    units: dict[tuple[str, str, str], Unit] = {}
    lines: list[TraceLine] = []
    for (file_index, offset), fields in sorted(collector.members.items()):
        service = sources[file_index].service
        logger = str(fields.get("logger") or "")
        message = fields.get("message")
        message = message if isinstance(message, str) else str(message or "")
        level = str(fields.get("level") or "").upper()
        matched = next(
            (
                v
                for n in collector.linked
                if (v := _text(fields.get(n))) in collector.ids
            ),
            ident,
        )
        key = _unit_key(fields, service, matched)
        unit = units.get(key)
        if unit is None:
            unit = units[key] = Unit("", key[0], service, key[2])
        exception = _exception(fields.get("exc_info"))
        status = None
        if logger == ACCESS_LOGGER or logger.endswith(".access"):
            status = _status(fields, logger, message)
        error = (
            level in _ERROR_LEVELS
            or exception is not None
            or (status is not None and status >= 500)
        )
        lines.append(
            TraceLine(
                _time(fields.get("time")),
                service,
                level,
                logger,
                message,
                fields,
                unit,
                error,
                exception,
                file_index,
                offset,
            )
        )
    # A line without a time sorts with the line before it in its file (or
    # the first after it, at the start of a file).
    last: dict[int, float | None] = {}
    for line in lines:  # in file, then offset order
        line.sort_at = line.at if line.at is not None else last.get(line.file_index)
        last[line.file_index] = line.sort_at
    following: dict[int, float | None] = {}
    for line in reversed(lines):
        if line.sort_at is None:
            line.sort_at = following.get(line.file_index)
        following[line.file_index] = line.sort_at
    lines.sort(
        key=lambda line: (
            line.sort_at is None,
            line.sort_at or 0.0,
            line.file_index,
            line.offset,
        )
    )
    for line in lines:
        unit, line_fields = line.unit, line.fields
        if line.error:
            unit.error = True
        at = line.sort_at
        duration = _number(line_fields.get("duration_ms"))
        is_access = line.logger == ACCESS_LOGGER or line.logger.endswith(".access")
        if is_access and at is not None and duration is not None:
            unit.duration_ms = duration
            start, end = at - duration / 1000, at
        elif at is not None:
            start = end = at
        else:
            continue
        if is_access:
            # Ours and the server's access line may both be there: keep
            # what either knows.
            unit.method = _text(line_fields.get("method")) or unit.method
            unit.path = _text(line_fields.get("path")) or unit.path
            if unit.method is None and (found := _SERVER_REQUEST.search(line.message)):
                # A server's own access line names them in its message only.
                unit.method, unit.path = found.group(1), found.group(2)
            status = _status(line_fields, line.logger, line.message)
            unit.status = unit.status if status is None else status
        unit.start = start if unit.start is None else min(unit.start, start)
        unit.end = end if unit.end is None else max(unit.end, end)
    ordered = sorted(
        {id(line.unit): line.unit for line in lines}.values(),
        key=lambda unit: (unit.start is None, unit.start or 0.0),
    )
    counts = Counter[str]()
    for unit in ordered:
        counts[unit.kind] += 1
        unit.label = f"{'J' if unit.kind == 'job' else 'R'}{counts[unit.kind]}"
    return lines, ordered


def read_trace(
    ident: str,
    sources: Sequence[Source],
    *,
    id_fields: Sequence[str] = ID_FIELDS,
    match_fields: Sequence[str] = MATCH_FIELDS,
    parent_fields: Sequence[str] = PARENT_FIELDS,
    block_size: int = BLOCK_SIZE,
    max_line: int = MAX_LINE_BYTES,
) -> Trace:
    r"""Read ``sources`` and return the trace of ``ident``.

    ``ident`` must be searchable: printable, without ``"`` or ``\``
    (:class:`ValueError` otherwise), as every ID the middleware accepts is.
    A file that cannot be opened raises :class:`OSError`; bad lines never
    raise, they are counted in :attr:`Trace.skipped`.

    Example::

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = Path(folder, "api.log")
        ...     _ = path.write_text(
        ...         'time=2026-11-30T19:40:00.000Z level=INFO message="hi" '
        ...         "request_id=abc\n"
        ...         'time=2026-11-30T19:40:00.002Z level=INFO message="other" '
        ...         "request_id=xyz\n"
        ...     )
        ...     trace = read_trace("abc", [Source("api", path)])
        >>> [(line.service, line.message) for line in trace.lines]
        [('api', 'hi')]
    """
    if not ident or not _searchable(ident) or len(ident) > max_line:
        raise ValueError(
            f'{ident!r} cannot be searched for: give printable text without " or \\'
        )
    collector = _Collector(ident, id_fields, match_fields, parent_fields)
    stats = sweep(
        [source.path for source in sources],
        ident.encode(),
        collector,
        block_size=block_size,
        max_line=max_line,
    )
    lines, units = _build(ident, sources, collector)
    return Trace(
        ident,
        lines,
        units,
        collector.ids,
        collector.skipped,
        [
            (str(sources[index].path), reason)
            for index, reason in collector.damaged_files
        ],
        stats.bytes_read,
    )
