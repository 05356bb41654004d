"""Formatters that write one record as exactly one line: key=value or JSON.

Both formatters write the same fields in the same order: ``time``,
``level``, ``logger``, ``message``, the correlation ID, every attribute the
record got from ``extra=``, the filter or bound fields, then ``exc_info``
and ``stack_info`` when present. Only the spelling differs, so
``grep 'request_id=…'`` on one and ``jq 'select(.request_id == "…")'`` on the
other find the same lines.

Neither lets a value break out of its field: a message with quotes, ``=``
signs or newlines, a traceback, a hostile header copied into a field, all
stay inside one quoted (key=value) or JSON string, with every character
that :meth:`str.isprintable` rejects escaped, so no reader splits a line
where the formatter did not.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Iterable

__all__ = ["DEFAULT_EXCLUDE", "JsonFormatter", "KeyValueFormatter"]

DEFAULT_EXCLUDE = frozenset({"color_message"})
"""Record attributes left out by default: uvicorn's ANSI-coloured duplicate."""

# Attributes every LogRecord has; anything else came from extra=, a filter or
# a bound field and is worth writing.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__
) | frozenset({"message", "asctime", "taskName"})
_OWN_KEYS = frozenset({"time", "level", "logger", "message", "exc_info", "stack_info"})
_BARE = re.compile(r"[A-Za-z0-9_.:/@+,%~-]+")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_QUOTE_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})
_NAMED_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _time(record: logging.LogRecord) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{stamp}.{int(record.msecs):03d}Z"


class _LineFormatter(logging.Formatter):
    """The fields both formats share; subclasses spell them."""

    def __init__(
        self,
        *,
        timestamp: bool = True,
        logger_name: bool = True,
        id_field: str = "request_id",
        exclude: Iterable[str] = DEFAULT_EXCLUDE,
    ) -> None:
        super().__init__()
        if isinstance(exclude, str):
            raise TypeError(
                "exclude: pass a collection of attribute names, e.g. ['color_message']"
            )
        self.timestamp = timestamp
        self.logger_name = logger_name
        self.id_field = id_field
        self.exclude = frozenset(exclude)

    def fields(self, record: logging.LogRecord) -> list[tuple[str, object]]:
        """Return the record's ``(key, value)`` pairs in output order.

        Example::

            >>> import logging
            >>> record = logging.makeLogRecord(
            ...     {"msg": "hi", "name": "app", "levelname": "INFO", "order": 7}
            ... )
            >>> KeyValueFormatter(timestamp=False).fields(record)
            [('level', 'INFO'), ('logger', 'app'), ('message', 'hi'), ('order', 7)]
        """
        pairs: list[tuple[str, object]] = []
        if self.timestamp:
            pairs.append(("time", _time(record)))
        pairs.append(("level", record.levelname))
        if self.logger_name:
            pairs.append(("logger", record.name))
        pairs.append(("message", record.getMessage()))
        attributes = record.__dict__
        id_field = self.id_field
        if id_field in attributes:
            pairs.append((id_field, attributes[id_field]))
        exclude = self.exclude
        for key, value in attributes.items():
            if key in _STANDARD or key in exclude or key == id_field:
                continue
            # A field named like one of ours would be ambiguous on the line.
            pairs.append((f"extra_{key}" if key in _OWN_KEYS else key, value))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            pairs.append(("exc_info", record.exc_text))
        if record.stack_info:
            pairs.append(("stack_info", self.formatStack(record.stack_info)))
        return pairs


def _escape_char(char: str) -> str:
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def quote_value(text: str) -> str:
    r"""Return ``text`` as a key=value value: bare if safe, else quoted.

    Example::

        >>> quote_value("abc-123"), quote_value('say "hi"\n')
        ('abc-123', '"say \\"hi\\"\\n"')
    """
    if _BARE.fullmatch(text):
        return text
    return _quoted(text)


def _quoted(text: str) -> str:
    if text.isprintable():
        return '"' + text.translate(_QUOTE_ESCAPES) + '"'
    return (
        '"'
        + "".join(
            char if char.isprintable() and char not in '\\"' else _escape_char(char)
            for char in text
        )
        + '"'
    )


class KeyValueFormatter(_LineFormatter):
    r"""Format a record as one ``key=value`` line.

    Values made only of letters, digits and ``_.:/@+,%~-`` are written bare;
    any other value is double-quoted, with ``\\``, ``"`` and every
    non-printable character escaped (``\n``, ``\r``, ``\t``, ``\xHH``,
    ``\uHHHH``, ``\UHHHHHHHH``). The message is always quoted. Keys keep
    ``[A-Za-z0-9_.-]``; other characters become ``_``. An extra attribute
    named like one of the formatter's own keys is written as ``extra_<key>``.

    Options: ``timestamp`` (``time=`` in UTC, milliseconds), ``logger_name``
    (``logger=``), ``id_field`` (written right after the message) and
    ``exclude`` (attributes never written; default: uvicorn's
    ``color_message``). In ``dictConfig`` use the ``"()"`` key.

    Example::

        >>> import logging
        >>> record = logging.makeLogRecord(
        ...     {"msg": 'hi "you"', "levelname": "INFO", "request_id": "abc"}
        ... )
        >>> KeyValueFormatter(timestamp=False, logger_name=False).format(record)
        'level=INFO message="hi \\"you\\"" request_id=abc'
    """

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line."""
        parts = []
        for key, value in self.fields(record):
            if key == "message":
                parts.append(f"message={_quoted(str(value))}")
                continue
            parts.append(f"{_kv_key(key)}={quote_value(_kv_text(value))}")
        return " ".join(parts)


def _kv_key(key: str) -> str:
    if key and not _KEY_UNSAFE.search(key):
        return key
    return _KEY_UNSAFE.sub("_", key) or "_"


def _kv_text(value: object) -> str:
    if isinstance(value, str):
        # A str subclass may override __str__; what gets escaped must be
        # exactly what gets written.
        return value if type(value) is str else str.__str__(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def _json_value(value: object) -> object:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


class JsonFormatter(_LineFormatter):
    """Format a record as one JSON object on one line.

    The same fields as :class:`KeyValueFormatter`; strings, numbers, booleans
    and ``null`` stay native, anything else becomes its ``str()``. Unicode
    is written as is, except characters :meth:`str.isprintable` rejects
    (such as U+2028, which some readers treat as a line break), which are
    escaped. Options are those of :class:`KeyValueFormatter`.

    Example::

        >>> import logging
        >>> record = logging.makeLogRecord(
        ...     {"msg": "hi", "levelname": "INFO", "request_id": "abc"}
        ... )
        >>> JsonFormatter(timestamp=False, logger_name=False).format(record)
        '{"level": "INFO", "message": "hi", "request_id": "abc"}'
    """

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one JSON line."""
        data = {key: _json_value(value) for key, value in self.fields(record)}
        line = json.dumps(data, ensure_ascii=False)
        if line.isprintable():
            return line
        return "".join(
            char if char.isprintable() else _json_escape(char) for char in line
        )
