r"""Read one log line back: a JSON object or a key=value line, or a reason not to.

The two formats are those of :class:`~starlette_correlate.logs.JsonFormatter`
and :class:`~starlette_correlate.logs.KeyValueFormatter`. A key=value value
is bare (``request_id=abc``) or double-quoted with the formatter's escapes
(``\\ \" \n \r \t \xHH \uHHHH \UHHHHHHHH``); a bare ``null`` is ``None``.
Every other value stays text: the trace reads numbers where it needs them.

Both formatters escape every character :meth:`str.isprintable` rejects, so a
line holding one (a NUL, an escape character) was not written by them and
is refused, like a line that is not UTF-8, broken JSON or neither format.
"""

from __future__ import annotations

import json
import re

from starlette_correlate._orjson import orjson as _orjson

__all__ = ["UnreadableLineError", "parse_line"]


class UnreadableLineError(ValueError):
    """A line that is not one of the two formats; ``reason`` says why.

    Example::

        >>> try:
        ...     parse_line(b"hello")
        ... except UnreadableLineError as error:
        ...     error.reason
        'unknown format'
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_PAIR = re.compile(r'([A-Za-z0-9_.-]+)=(?:"((?:[^"\\]++|\\.)*+)"|([^\s"\\]*))(?: |$)')
_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))")
_NAMED = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}


def _unescape(match: re.Match[str]) -> str:
    digits = match.group(1) or match.group(2) or match.group(3)
    if digits is not None:
        code = int(digits, 16)
        if code > 0x10FFFF:
            raise UnreadableLineError("broken key=value")
        return chr(code)
    named = _NAMED.get(match.group(4))
    if named is None:
        raise UnreadableLineError("broken key=value")
    return named


def _parse_json(raw: bytes, text: str) -> dict[str, object]:
    try:
        value = _orjson.loads(raw) if _orjson is not None else json.loads(text)
    except (ValueError, RecursionError):
        raise UnreadableLineError("broken JSON") from None
    if not isinstance(value, dict):
        raise UnreadableLineError("broken JSON")
    return value


def _parse_kv(text: str) -> dict[str, object]:
    fields: dict[str, object] = {}
    position, length = 0, len(text)
    match_at = _PAIR.match
    while position < length:
        match = match_at(text, position)
        if match is None:
            raise UnreadableLineError(
                "broken key=value" if fields else "unknown format"
            )
        key, quoted, bare = match.groups()
        if quoted is not None:
            value: object = quoted
            if "\\" in quoted:
                value = _ESCAPE.sub(_unescape, quoted)
        else:
            value = None if bare == "null" else bare
        fields[key] = value
        position = match.end()
    if not fields:
        raise UnreadableLineError("unknown format")
    return fields


def parse_line(raw: bytes) -> dict[str, object]:
    r"""Return the fields of one line; raise :class:`UnreadableLineError` if none.

    Example::

        >>> parse_line(b'level=INFO message="hi \\"you\\"" request_id=abc')
        {'level': 'INFO', 'message': 'hi "you"', 'request_id': 'abc'}
        >>> parse_line(b'{"level":"INFO","request_id":"abc"}')["request_id"]
        'abc'
    """
    raw = raw.strip(b" \r")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableLineError("not UTF-8") from None
    if not text.isprintable():
        raise UnreadableLineError("control characters")
    if text.startswith("{"):
        return _parse_json(raw, text)
    return _parse_kv(text)
