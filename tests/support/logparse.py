"""Read log lines back: a key=value parser and a handler that keeps lines.

The parser is written from the format's rules, independently of the
formatter, so a round trip through both proves the escaping.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator
from typing import TypeVar

from starlette_correlate import correlation_id_var

T = TypeVar("T")

_SIMPLE_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def parse_kv(line: str) -> dict[str, str]:
    """Parse one ``key=value key="quoted value"`` line; raise ValueError if bad."""
    fields: dict[str, str] = {}
    index = 0
    length = len(line)
    while index < length:
        equals = line.find("=", index)
        if equals <= index:
            raise ValueError(f"no key at {index} in {line!r}")
        key = line[index:equals]
        if " " in key or '"' in key:
            raise ValueError(f"bad key {key!r} in {line!r}")
        index = equals + 1
        if index < length and line[index] == '"':
            value, index = _read_quoted(line, index + 1)
        else:
            end = line.find(" ", index)
            end = length if end == -1 else end
            value = line[index:end]
            if not value or '"' in value or "\\" in value:
                raise ValueError(f"bad bare value {value!r} in {line!r}")
            index = end
        if key in fields:
            raise ValueError(f"duplicate key {key!r} in {line!r}")
        fields[key] = value
        if index < length:
            if line[index] != " ":
                raise ValueError(f"expected a space at {index} in {line!r}")
            index += 1
            if index == length:
                raise ValueError(f"trailing space in {line!r}")
    return fields


def _read_quoted(line: str, index: int) -> tuple[str, int]:
    out: list[str] = []
    while True:
        if index >= len(line):
            raise ValueError(f"unterminated quote in {line!r}")
        char = line[index]
        if char == '"':
            return "".join(out), index + 1
        if char == "\\":
            code = line[index + 1 : index + 2]
            if code in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[code])
                index += 2
            elif code in _HEX_ESCAPES:
                width = _HEX_ESCAPES[code]
                digits = line[index + 2 : index + 2 + width]
                if len(digits) != width:
                    raise ValueError(f"short escape in {line!r}")
                out.append(chr(int(digits, 16)))
                index += 2 + width
            else:
                raise ValueError(f"unknown escape {code!r} in {line!r}")
            continue
        if char in "\n\r" or not (char.isprintable() or char == " "):
            raise ValueError(f"raw control character {char!r} in {line!r}")
        out.append(char)
        index += 1


class LineCollector(logging.Handler):
    """A handler that keeps each record and the line its formatter made."""

    def __init__(self, formatter: logging.Formatter | None = None) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        if formatter is not None:
            self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record and its formatted text."""
        self.records.append(record)
        self.lines.append(self.format(record))

    def by_message(self, message: str) -> logging.LogRecord:
        """Return the only record whose message is ``message``."""
        found = [r for r in self.records if r.getMessage() == message]
        assert len(found) == 1, f"{len(found)} records say {message!r}"
        return found[0]


@contextlib.contextmanager
def on_logger(
    handler: logging.Handler, name: str | None = None, level: int = logging.INFO
) -> Iterator[logging.Handler]:
    """Attach ``handler`` to a logger (root by default) for a ``with`` block."""
    logger = logging.getLogger(name)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def run_with_id(correlation_id: str, function: Callable[[], T]) -> T:
    """Run ``function`` in a fresh context where ``correlation_id`` is current."""

    def inner() -> T:
        correlation_id_var.set(correlation_id)
        return function()

    return contextvars.copy_context().run(inner)


@contextlib.contextmanager
def logging_restored(*names: str) -> Iterator[None]:
    """Put the root logger and the loggers ``names`` back as they were."""
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in names)]
    saved = [
        (lg, lg.handlers[:], lg.filters[:], lg.level, lg.propagate, lg.disabled)
        for lg in loggers
    ]
    try:
        yield
    finally:
        for logger, handlers, filters, level, propagate, disabled in saved:
            logger.handlers[:] = handlers
            logger.filters[:] = filters
            logger.setLevel(level)
            logger.propagate = propagate
            logger.disabled = disabled
