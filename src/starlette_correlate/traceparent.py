"""W3C trace context: recognise a ``traceparent`` header and carry it along.

A ``traceparent`` (https://www.w3.org/TR/trace-context/) looks like
``00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01``: version, trace
ID, parent (span) ID and flags, in lowercase hex. The middleware, when
asked to, validates the incoming header, binds the trace ID as the
``trace_id`` field (so log lines can be joined with traces), optionally
adopts it as the correlation ID, and keeps the header in
:data:`traceparent_var`, from which the httpx hooks forward it unchanged.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["TRACE_FIELD", "TraceParent", "parse_traceparent", "traceparent_var"]

TRACE_FIELD = "trace_id"
"""The field name under which the middleware binds the trace ID."""

traceparent_var: ContextVar[str | None] = ContextVar(
    "starlette_correlate.traceparent", default=None
)
"""The valid ``traceparent`` the current request arrived with, or ``None``.

Example::

    >>> traceparent_var.get() is None
    True
"""

_HEX = frozenset("0123456789abcdef")
_LENGTH = 55  # version 00: 2 + 1 + 32 + 1 + 16 + 1 + 2
_ZERO_TRACE = "0" * 32
_ZERO_PARENT = "0" * 16


def _is_hex(value: str, size: int) -> bool:
    return len(value) == size and set(value) <= _HEX


@dataclass(frozen=True, slots=True)
class TraceParent:
    """A valid ``traceparent``: its four fields, as lowercase hex strings.

    Example::

        >>> tp = parse_traceparent(
        ...     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ... )
        >>> tp.trace_id, tp.sampled
        ('4bf92f3577b34da6a3ce929d0e0e4736', True)
    """

    version: str
    trace_id: str
    parent_id: str
    flags: str

    @property
    def sampled(self) -> bool:
        """Whether the caller recorded this trace (flag bit 0)."""
        return bool(int(self.flags, 16) & 1)

    def __str__(self) -> str:
        """Return the header form: the four fields, without a later version's tail.

        Example::

            >>> str(TraceParent("00", "1" * 32, "2" * 16, "00"))
            '00-11111111111111111111111111111111-2222222222222222-00'
        """
        return f"{self.version}-{self.trace_id}-{self.parent_id}-{self.flags}"

    def as_version_00(self) -> str:
        """Return the header in version 00, the layout this library vouches for.

        Example::

            >>> TraceParent("01", "1" * 32, "2" * 16, "00").as_version_00()
            '00-11111111111111111111111111111111-2222222222222222-00'
        """
        return f"00-{self.trace_id}-{self.parent_id}-{self.flags}"


def parse_traceparent(value: str) -> TraceParent | None:
    """Return the parsed ``traceparent``, or ``None`` if it is not valid.

    Follows the W3C rules: lowercase hex only; version ``ff`` is invalid;
    an all-zero trace ID or parent ID is invalid; version ``00`` is exactly
    55 characters, and a later version may append fields after a ``-``,
    which are ignored here (but forwarded as received).

    Example::

        >>> parse_traceparent("00-" + "0" * 32 + "-00f067aa0ba902b7-01") is None
        True
        >>> parse_traceparent("not a traceparent") is None
        True
    """
    if len(value) < _LENGTH:
        return None
    version, trace_id, parent_id, flags = (
        value[:2],
        value[3:35],
        value[36:52],
        value[53:55],
    )
    valid = (
        _is_hex(version, 2)
        and version != "ff"
        # Version 00 is exactly 55 characters; later versions may add fields.
        and (len(value) == _LENGTH or (version != "00" and value[_LENGTH] == "-"))
        and value[2] == value[35] == value[52] == "-"
        and _is_hex(trace_id, 32)
        and _is_hex(parent_id, 16)
        and _is_hex(flags, 2)
        and trace_id != _ZERO_TRACE
        and parent_id != _ZERO_PARENT
    )
    return TraceParent(version, trace_id, parent_id, flags) if valid else None
