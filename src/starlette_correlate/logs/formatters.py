"""Formatters that write one record as exactly one line: key=value or JSON.

Both formatters write the same fields in the same order: ``time``,
``level``, ``logger``, ``message``, the correlation ID, the static fields,
every attribute the record got from ``extra=``, the filter or bound fields,
then ``exc_info`` and ``stack_info`` when present. Only the spelling
differs, so ``grep 'request_id=…'`` on one and
``jq 'select(.request_id == "…")'`` on the other find the same lines.

Neither lets a value break out of its field: a message with quotes, ``=``
signs or newlines, a traceback, a hostile header copied into a field, all
stay inside one quoted (key=value) or JSON string, with every character
that :meth:`str.isprintable` rejects escaped, so no reader splits a line
where the formatter did not.

A ``dict``, ``list`` or ``tuple`` value is written as JSON (inside one
quoted key=value string), at most :data:`MAX_DEPTH` containers deep and
about :data:`MAX_NESTED_CHARS` characters long; cycles, objects whose
``str()`` raises, ``NaN`` and ints too long to print become markers, never
exceptions.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from json.encoder import encode_basestring
from typing import Any, Literal, cast

from starlette_correlate._orjson import orjson as _orjson
from starlette_correlate.logs.record_attributes import (
    RECORD_ATTRIBUTES,
    RECORD_INIT_ATTRIBUTES,
)
from starlette_correlate.provenance import IncomingId

__all__ = [
    "DEFAULT_EXCLUDE",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_NESTED_CHARS",
    "JsonFormatter",
    "KeyValueFormatter",
]

DEFAULT_EXCLUDE = frozenset({"color_message"})
"""Record attributes left out by default: uvicorn's ANSI-coloured duplicate."""

MAX_DEPTH = 8
"""Containers nested deeper than this inside one field become ``"<too deep>"``."""

MAX_NESTED_CHARS = 8192
"""About how many characters one nested value may take; the rest is cut."""

MAX_INT_DIGITS = 4300
"""Longer ints are written as ``"<int of N bits>"`` (Python's own default limit)."""

_Style = Literal["%", "{", "$"]
_INT_LIMIT = 10**MAX_INT_DIGITS
_I64 = 2**63

# Attributes every LogRecord has; anything else came from extra=, a filter or
# a bound field and is worth writing.
_STANDARD = RECORD_ATTRIBUTES
# LogRecord.__init__ sets these first, in this order, so on a record made the
# usual way every later attribute (extra=, filters) follows them.
_INIT_COUNT = len(RECORD_INIT_ATTRIBUTES)
_LAST_INIT = RECORD_INIT_ATTRIBUTES[-1]

_OWN = ("time", "level", "logger", "message", "exc_info", "stack_info")
_BARE = re.compile(r"[A-Za-z0-9_.:/@+,%~-]+")
_KEY_SAFE = re.compile(r"[A-Za-z0-9_.-]+")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_QUOTE_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})
_NAMED_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1000))
_CACHE_SIZE = 256


class _Encoded(str):
    """Text already spelled for the line (a static field); written as is."""

    __slots__ = ()


# ---------------------------------------------------------------- values


def _safe_str(value: object) -> str:
    """Return ``str(value)``, or a marker if that raises; never raise."""
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - a log line must never fail on a value
        return f"<unprintable {type(value).__name__}>"
    # A str subclass may override __str__; what gets escaped must be
    # exactly what gets written.
    return text if type(text) is str else str.__str__(text)


def _int_text(value: int) -> str | None:
    """Return the digits of ``value``, or None when there are too many."""
    if -_INT_LIMIT < value < _INT_LIMIT:
        try:
            return int.__repr__(value)
        except ValueError:  # the interpreter's own digit limit is lower
            pass
    return None


def _big_int(value: int) -> str:
    return f"<int of {value.bit_length()} bits>"


def _float_json(value: float) -> str:
    # JSON has no NaN or Infinity; null keeps the field numeric for typed
    # stores, as JSON.stringify and orjson do.
    return float.__repr__(value) if math.isfinite(value) else "null"


def _json_text(value: object) -> str:  # noqa: PLR0911 - one dispatch table
    """Return ``value`` as JSON text; the one home of the JSON value rules."""
    kind = type(value)
    # An accepted incoming ID is an IncomingId: text like any str.
    if kind is str or kind is IncomingId:
        return encode_basestring(value)  # type: ignore[arg-type]
    if type(value) is int:
        digits = _int_text(value)
        return encode_basestring(_big_int(value)) if digits is None else digits
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float:
        return _float_json(value)
    if type(value) is _Encoded:
        return str.__str__(value)
    if isinstance(value, dict | list | tuple):
        return _nested_json(value)
    return _scalar_json(value)


def _scalar_json(value: object) -> str:
    if isinstance(value, str):
        return encode_basestring(str.__str__(value))
    if isinstance(value, int):
        return _json_text(int.__int__(value))
    if isinstance(value, float):
        return _float_json(value)
    return encode_basestring(_safe_str(value))


def _nested_json(value: dict[Any, Any] | list[Any] | tuple[Any, ...]) -> str:
    """Return a container as bounded JSON text; never raise."""
    out: list[str] = []
    try:
        _walk(value, out, [MAX_NESTED_CHARS], 1, set())
    except Exception:  # noqa: BLE001 - e.g. a dict changed while we read it
        return encode_basestring(f"<unprintable {type(value).__name__}>")
    return "".join(out)


def _cut(text: str, budget: list[int]) -> str:
    room = max(budget[0], 16)
    if len(text) > room:
        text = f"{text[:room]}…<{len(text) - room} more chars>"
    budget[0] -= len(text) + 3
    return encode_basestring(text)


def _key_text(key: object) -> str:
    if isinstance(key, str):
        return key if type(key) is str else str.__str__(key)
    if key is None or isinstance(key, bool | int | float):
        return _json_text(key).strip('"')
    return _safe_str(key)


def _walk(  # noqa: PLR0912 - scalars, then the three containers
    value: object, out: list[str], budget: list[int], depth: int, active: set[int]
) -> None:
    if not isinstance(value, dict | list | tuple):
        if isinstance(value, str):
            out.append(
                _cut(value if type(value) is str else str.__str__(value), budget)
            )
            return
        if value is None or isinstance(value, bool | int | float):
            text = _json_text(value)
            budget[0] -= len(text)
        else:
            text = _cut(_safe_str(value), budget)
        out.append(text)
        return
    if depth > MAX_DEPTH:
        out.append('"<too deep>"')
        budget[0] -= 12
        return
    ident = id(value)
    if ident in active:
        out.append('"<cycle>"')
        budget[0] -= 9
        return
    active.add(ident)
    if isinstance(value, dict):
        out.append("{")
        # A copy: the dict may change under us in another thread.
        items = list(value.items())
        for index, (key, item) in enumerate(items):
            if index:
                out.append(",")
                budget[0] -= 1
            if budget[0] <= 0:
                out.append(f'"<truncated>":{len(items) - index}')
                break
            out.append(_cut(_key_text(key), budget))
            out.append(":")
            _walk(item, out, budget, depth + 1, active)
        out.append("}")
    else:
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
                budget[0] -= 1
            if budget[0] <= 0:
                out.append(encode_basestring(f"<{len(value) - index} more items>"))
                break
            _walk(item, out, budget, depth + 1, active)
        out.append("]")
    budget[0] -= 2
    active.discard(ident)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _printable_json(line: str) -> str:
    # Outside strings a JSON line is ASCII, so every non-printable character
    # is inside a string, where \uXXXX means the same character.
    if line.isprintable():
        return line
    return "".join(char if char.isprintable() else _json_escape(char) for char in line)


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
        if '"' in text or "\\" in text:
            return '"' + text.translate(_QUOTE_ESCAPES) + '"'
        return '"' + text + '"'
    return (
        '"'
        + "".join(
            char if char.isprintable() and char not in '\\"' else _escape_char(char)
            for char in text
        )
        + '"'
    )


def _kv_value(value: object) -> str:  # noqa: PLR0911 - one dispatch table
    """Return ``value`` spelled for key=value: the one home of those rules."""
    kind = type(value)
    if kind is str or kind is IncomingId:
        return quote_value(value)  # type: ignore[arg-type]
    if type(value) is int:
        digits = _int_text(value)
        return _quoted(_big_int(value)) if digits is None else digits
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float:
        return float.__repr__(value)
    if type(value) is _Encoded:
        return str.__str__(value)
    if isinstance(value, str):
        return quote_value(str.__str__(value))
    if isinstance(value, int):
        return _kv_value(int.__int__(value))
    if isinstance(value, float):
        return float.__repr__(value)
    if isinstance(value, dict | list | tuple):
        return _quoted(_nested_json(value))
    return quote_value(_safe_str(value))


def _kv_key(key: object) -> str:
    text = _key_text(key)
    if _KEY_SAFE.fullmatch(text):
        return text
    return _KEY_UNSAFE.sub("_", text) or "_"


# ---------------------------------------------------------------- options


def _check_name(option: str, name: object, kv: bool) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"{option}: {name!r} is not a field name; give a non-empty str"
        )
    if kv and not _KEY_SAFE.fullmatch(name):
        raise ValueError(
            f"{option}: {name!r} cannot be a key=value key; use letters, digits "
            "and _.- only"
        )
    return name


def _mapping(option: str, value: object) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{option}: pass a mapping, e.g. {{'message': 'msg'}}")
    return dict(value.items())


class _LineFormatter(logging.Formatter):
    """The fields both formats share; subclasses spell them."""

    _kv = False

    def __init__(  # noqa: PLR0912, PLR0915 - one pass over every option
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: str = "%",
        validate: bool = True,
        *,
        defaults: Mapping[str, Any] | None = None,
        timestamp: bool = True,
        logger_name: bool = True,
        id_field: str = "request_id",
        exclude: Iterable[str] = DEFAULT_EXCLUDE,
        rename_fields: Mapping[str, str] | None = None,
        static_fields: Mapping[str, Any] | None = None,
    ) -> None:
        name = type(self).__name__
        if fmt is not None:
            raise ValueError(
                f"fmt: {name} writes its own fields, so it takes no format string; "
                "leave out 'format' (use rename_fields, static_fields, exclude)"
            )
        if defaults:
            raise ValueError(
                f"defaults: {name} has no format string to fill; use static_fields "
                "for values on every line"
            )
        if style not in ("%", "{", "$"):
            raise ValueError(
                f"style: Style must be one of '%', '{{', '$', not {style!r}"
            )
        super().__init__(None, datefmt, cast("_Style", style), validate)
        # What datefmt is applied to: UTC, unlike logging.Formatter's default.
        self.converter = time.gmtime
        if isinstance(exclude, str):
            raise TypeError(
                "exclude: pass a collection of attribute names, e.g. ['color_message']"
            )
        kv = self._kv
        self.timestamp = timestamp
        self.logger_name = logger_name
        self.id_field = _check_name("id_field", id_field, kv=False)
        if id_field in _OWN or id_field in _STANDARD:
            raise ValueError(
                f"id_field: {id_field!r} is already a field of the line or a "
                "LogRecord attribute; use the filter's field, e.g. 'request_id'"
            )
        self.exclude = frozenset(exclude)
        renames = _mapping("rename_fields", rename_fields)
        statics = _mapping("static_fields", static_fields)
        self.rename_fields = dict(renames)
        self.static_fields = dict(statics)

        sources = (*_OWN, id_field)
        for source, target in renames.items():
            _check_name("rename_fields", source, kv=False)
            _check_name(f"rename_fields[{source!r}]", target, kv)
            if source in _STANDARD and source not in _OWN:
                raise ValueError(
                    f"rename_fields: {source!r} is a LogRecord attribute this "
                    f"formatter does not write; rename one of {', '.join(sources)} "
                    "or an extra field"
                )
        out: dict[str, str] = {
            source: renames.get(source, source) for source in sources
        }
        for source in sources:
            _check_name(f"the key of {source!r}", out[source], kv)
        targets: dict[str, str] = {}
        for source, target in [*out.items(), *renames.items()]:
            other = targets.get(target)
            if other is not None and other != source:
                raise ValueError(
                    f"rename_fields: {other!r} and {source!r} would both be written "
                    f"as {target!r}; give them different names"
                )
            targets[target] = source
        for static in statics:
            _check_name("static_fields", static, kv)
            if static in targets:
                raise ValueError(
                    f"static_fields: {static!r} is already the name of the "
                    f"{targets[static]!r} field; pick another name or rename that one"
                )
        reserved = set(targets) | set(statics)
        # An extra attribute named like one of ours would be ambiguous on the
        # line: it is written as extra_<name>.
        mapped = {key: target for key, target in renames.items() if key not in out}
        for key in reserved:
            if key in renames:
                continue
            fresh = f"extra_{key}"
            while fresh in reserved:
                fresh = f"extra_{fresh}"
            mapped[key] = fresh
        self._keys = out
        # One lookup per extra attribute: None writes it under its own name,
        # "" skips it, anything else is the name to write it under.
        plan: dict[str, str] = dict(mapped)
        plan.update(dict.fromkeys(_STANDARD | self.exclude | {id_field}, ""))
        self._plan = plan
        self._statics = {
            key: self._encode_static(value) for key, value in statics.items()
        }
        self._time_cache: tuple[int, str] = (-1, "")
        self._k_id = out[id_field]
        self._k_exc = out["exc_info"]
        self._k_stack = out["stack_info"]
        self._prepare()

    def _encode_static(self, value: object) -> object:
        return _Encoded(_kv_value(value) if self._kv else _json_text(value))

    def _prepare(self) -> None:
        """Specialise the per-record work to these options; once."""
        keys = self._keys
        k_time, k_level, k_logger, k_message = (
            keys["time"],
            keys["level"],
            keys["logger"],
            keys["message"],
        )
        stamp = self._iso_stamp if self.datefmt is None else self._datefmt_stamp
        self._stamp = stamp
        head: Callable[[logging.LogRecord], dict[str, Any]]
        # One dict display per combination of the two switches, so a line
        # pays no test for an option that is off.
        if self.timestamp and self.logger_name:

            def head(record: logging.LogRecord) -> dict[str, Any]:
                return {
                    k_time: stamp(record.created, record.msecs),
                    k_level: record.levelname,
                    k_logger: record.name,
                    k_message: record.getMessage(),
                }

        elif self.timestamp:

            def head(record: logging.LogRecord) -> dict[str, Any]:
                return {
                    k_time: stamp(record.created, record.msecs),
                    k_level: record.levelname,
                    k_message: record.getMessage(),
                }

        elif self.logger_name:

            def head(record: logging.LogRecord) -> dict[str, Any]:
                return {
                    k_level: record.levelname,
                    k_logger: record.name,
                    k_message: record.getMessage(),
                }

        else:

            def head(record: logging.LogRecord) -> dict[str, Any]:
                return {k_level: record.levelname, k_message: record.getMessage()}

        self._head = head

    def _iso_stamp(self, created: float, msecs: float) -> str:
        """Return the record's time in ISO 8601 UTC; the seconds cached."""
        second = int(created)  # a float's int() is its floor for any date we log
        cached_second, text = self._time_cache
        if second != cached_second:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._time_cache = (second, text)
        return text + _MILLIS[int(msecs) % 1000]

    def _datefmt_stamp(self, created: float, msecs: float) -> str:
        """Return the record's time spelled by ``datefmt``; cached per second."""
        second = int(created)
        cached_second, text = self._time_cache
        if second != cached_second:
            text = time.strftime(str(self.datefmt), self.converter(second))
            self._time_cache = (second, text)
        return text

    def _collect(self, record: logging.LogRecord) -> dict[str, Any]:
        """Return the record's fields in output order: the one home of that rule.

        The head (time, level, logger, message: :meth:`_prepare`), then the
        rest (:meth:`_rest`).
        """
        return self._rest(record, self._head(record))

    def _rest(  # noqa: PLR0912 - one pass in output order, inlined for speed
        self, record: logging.LogRecord, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Add the ID, static fields, extras, traceback and stack to ``data``.

        ``data`` holds the head or nothing: a name of ours is never an extra's
        (they are mapped to ``extra_<name>`` at construction), so the checks
        below only keep two extras apart.
        """
        attributes = record.__dict__
        id_field = self.id_field
        if id_field in attributes:
            data[self._k_id] = attributes[id_field]
        if self._statics:
            data.update(self._statics)
        keys: Iterator[str] = islice(attributes, _INIT_COUNT - 1, None)
        if next(keys, None) != _LAST_INIT:
            # Not made the usual way (the standard attributes first): read all.
            keys = iter(attributes)
        plan = self._plan
        renamed = False
        for key in keys:
            name = plan.get(key)
            if name is None:
                name = key
                if renamed:
                    while name in data:
                        name = f"extra_{name}"
            elif not name:
                continue
            else:
                # Named like one of ours, or renamed: never take a name twice.
                renamed = True
                while name in data:
                    name = f"extra_{name}"
            data[name] = attributes[key]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data[self._k_exc] = record.exc_text
        if record.stack_info:
            data[self._k_stack] = self.formatStack(record.stack_info)
        return data

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
        return list(self._collect(record).items())


class KeyValueFormatter(_LineFormatter):
    r"""Format a record as one ``key=value`` line.

    Values made only of letters, digits and ``_.:/@+,%~-`` are written bare;
    any other value is double-quoted, with ``\\``, ``"`` and every
    non-printable character escaped (``\n``, ``\r``, ``\t``, ``\xHH``,
    ``\uHHHH``, ``\UHHHHHHHH``). The message is always quoted. A ``dict``,
    ``list`` or ``tuple`` is one quoted JSON string. Keys keep
    ``[A-Za-z0-9_.-]``; other characters become ``_``. An extra attribute
    named like one of the formatter's own keys or static fields is written
    as ``extra_<key>``.

    Options: ``timestamp`` (``time=`` in UTC, milliseconds), ``datefmt`` (a
    :func:`time.strftime` format for ``time=`` instead, applied to
    :attr:`converter`, UTC by default), ``logger_name`` (``logger=``),
    ``id_field`` (written right after the message), ``exclude`` (attributes
    never written; default: uvicorn's ``color_message``), ``rename_fields``
    (``{"message": "msg"}``, for our fields and extra ones) and
    ``static_fields`` (``{"service": "orders"}``, written after the ID on
    every line). In ``dictConfig`` use the ``"()"`` key for these options,
    or ``"class"`` with ``datefmt`` alone.

    Example::

        >>> import logging
        >>> record = logging.makeLogRecord(
        ...     {"msg": 'hi "you"', "levelname": "INFO", "request_id": "abc"}
        ... )
        >>> KeyValueFormatter(timestamp=False, logger_name=False).format(record)
        'level=INFO message="hi \\"you\\"" request_id=abc'
    """

    _kv = True

    def _prepare(self) -> None:
        super()._prepare()
        keys = self._keys
        self._k_time_text = keys["time"] + "="
        self._k_level_text = keys["level"] + "="
        self._k_logger_text = " " + keys["logger"] + "="
        self._k_message_text = " " + keys["message"] + "="
        self._texts: dict[str, str] = {}
        self._level_logger: dict[tuple[object, object], str] = {}
        # Per key of the rest: its " key=" text and its slot in _last, the
        # spelling of the value it had last (0: none kept). The ID and its
        # source repeat on every line of a request: spelled once each.
        self._key_info: dict[object, tuple[str, int]] = {
            keys[self.id_field]: (" " + keys[self.id_field] + "=", 1),
        }
        source = self.id_field + "_source"
        source_key = self._plan.get(source, source)
        if source_key and source_key not in self._key_info:
            self._key_info[source_key] = (" " + _kv_key(source_key) + "=", 2)
        self._last: list[tuple[object, str]] = [(None, "null")] * 3

    def _text(self, value: str) -> str:
        # A datefmt stamp repeats within a second: quote it once.
        text = self._texts.get(value)
        if text is None:
            text = quote_value(value)
            if len(self._texts) < _CACHE_SIZE:
                self._texts[value] = text
        return text

    def _level_and_logger(self, level: object, name: object) -> str:
        text = self._k_level_text + _kv_value(level)
        if self.logger_name:
            text += self._k_logger_text + _kv_value(name)
        return text

    def format(self, record: logging.LogRecord) -> str:  # noqa: PLR0912
        """Return the record as one line."""
        level = record.levelname
        name = record.name
        try:
            # Level and logger names repeat: spell each pair once.
            head = self._level_logger[level, name]
        except KeyError:
            head = self._level_and_logger(level, name)
            if len(self._level_logger) < _CACHE_SIZE:
                self._level_logger[level, name] = head
        except TypeError:  # an unhashable level or name
            head = self._level_and_logger(level, name)
        if self.timestamp:
            stamp = self._stamp(record.created, record.msecs)
            # Our ISO stamp is always bare; a datefmt one may need quotes.
            if self.datefmt is not None:
                stamp = self._text(stamp)
            head = self._k_time_text + stamp + " " + head
        message = record.getMessage()
        if type(message) is not str:
            message = _safe_str(message)
        # The message is always quoted, even when it would be safe bare.
        parts = [head + self._k_message_text + _quoted(message)]
        append = parts.append
        key_info = self._key_info
        for key, value in self._rest(record, {}).items():
            info = key_info.get(key)
            if info is None:
                info = (" " + _kv_key(key) + "=", 0)
                if len(key_info) < _CACHE_SIZE:
                    key_info[key] = info
            prefix, slot = info
            kind = type(value)
            if kind is int and -_I64 < value < _I64:
                append(prefix + int.__repr__(value))
            elif kind is float:
                append(prefix + float.__repr__(value))
            elif slot and (kind is str or kind is IncomingId):
                # Every line of a request carries the same objects here.
                last, text = self._last[slot]
                if value is not last:
                    text = quote_value(value)
                    self._last[slot] = (value, text)
                append(prefix + text)
            else:
                append(prefix + _kv_value(value))
        return "".join(parts)


class JsonFormatter(_LineFormatter):
    """Format a record as one JSON object on one line.

    The same fields and options as :class:`KeyValueFormatter`. Strings,
    numbers, booleans and ``null`` stay native; a ``dict``, ``list`` or
    ``tuple`` is nested JSON (bounded: :data:`MAX_DEPTH`,
    :data:`MAX_NESTED_CHARS`); ``NaN`` and infinities are ``null``; anything
    else becomes its ``str()``. Unicode is written as is, except characters
    :meth:`str.isprintable` rejects (such as U+2028, which some readers treat
    as a line break), which are escaped.

    With the ``fast`` extra installed (orjson) the line is encoded by orjson,
    byte for byte the same as without it; ``fast=False`` uses the standard
    library anyway, ``fast=True`` requires orjson.

    Example::

        >>> import logging
        >>> record = logging.makeLogRecord(
        ...     {"msg": "hi", "levelname": "INFO", "request_id": "abc"}
        ... )
        >>> JsonFormatter(timestamp=False, logger_name=False).format(record)
        '{"level":"INFO","message":"hi","request_id":"abc"}'
    """

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: str = "%",
        validate: bool = True,
        *,
        defaults: Mapping[str, Any] | None = None,
        timestamp: bool = True,
        logger_name: bool = True,
        id_field: str = "request_id",
        exclude: Iterable[str] = DEFAULT_EXCLUDE,
        rename_fields: Mapping[str, str] | None = None,
        static_fields: Mapping[str, Any] | None = None,
        fast: bool | None = None,
    ) -> None:
        super().__init__(
            fmt,
            datefmt,
            style,
            validate,
            defaults=defaults,
            timestamp=timestamp,
            logger_name=logger_name,
            id_field=id_field,
            exclude=exclude,
            rename_fields=rename_fields,
            static_fields=static_fields,
        )
        if fast and _orjson is None:
            raise ImportError(
                "JsonFormatter(fast=True) needs orjson: "
                "pip install 'starlette-correlate[fast]'"
            )
        self.fast = _orjson is not None if fast is None else fast
        if self.fast:
            assert _orjson is not None  # noqa: S101 - checked just above
            fragment = _orjson.Fragment
            self._fragment = fragment
            self._static_fragments = {
                # orjson takes an exact str only
                key: fragment(str.__str__(text))
                for key, text in self._statics.items()
            }
            self._head_count = 2 + self.timestamp + self.logger_name
            self._dumps = _orjson.dumps
            self._encode_error = _orjson.JSONEncodeError
            # Subclasses, datetimes and dataclasses would be spelled by
            # orjson's own rules; passed through, they make it refuse.
            self._options = (
                _orjson.OPT_PASSTHROUGH_SUBCLASS
                | _orjson.OPT_PASSTHROUGH_DATETIME
                | _orjson.OPT_PASSTHROUGH_DATACLASS
            )

    def _prepare(self) -> None:
        super()._prepare()
        keys = self._keys
        self._j_time = "{" + encode_basestring(keys["time"]) + ":"
        self._j_level = encode_basestring(keys["level"]) + ":"
        self._j_logger = "," + encode_basestring(keys["logger"]) + ":"
        self._j_message = "," + encode_basestring(keys["message"]) + ":"
        self._level_logger: dict[tuple[object, object], str] = {}
        self._stamp_json: tuple[str, str] = ("", "")

    def _level_and_logger(self, level: object, name: object) -> str:
        text = self._j_level + _json_text(level)
        if self.logger_name:
            text += self._j_logger + _json_text(name)
        return text

    def _head_json(self, record: logging.LogRecord) -> str:
        """Return ``{"time":…,"level":…,"logger":…,"message":…`` for both paths."""
        level = record.levelname
        name = record.name
        try:
            # Level and logger names repeat: spell each pair once.
            head = self._level_logger[level, name]
        except KeyError:
            head = self._level_and_logger(level, name)
            if len(self._level_logger) < _CACHE_SIZE:
                self._level_logger[level, name] = head
        except TypeError:  # an unhashable level or name
            head = self._level_and_logger(level, name)
        if self.timestamp:
            stamp = self._stamp(record.created, record.msecs)
            if self.datefmt is None:
                # Our ISO stamp never needs escaping.
                head = f'{self._j_time}"{stamp}",{head}'
            else:
                last, text = self._stamp_json
                if stamp != last:
                    text = encode_basestring(stamp)
                    self._stamp_json = (stamp, text)
                head = f"{self._j_time}{text},{head}"
        else:
            head = "{" + head
        message = record.getMessage()
        return head + self._j_message + _json_text(message)

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one JSON line."""
        if self.fast:
            data = self._collect(record)
            fragment = self._fragment
            # The head (time, level, logger, message) is str from the
            # record; a subclass there makes orjson refuse, as below.
            for key, value in islice(data.items(), self._head_count, None):
                # orjson sees only the types it spells as we do; the rest
                # (floats, containers, other objects) is ours, as a fragment.
                kind = type(value)
                if kind not in _ORJSON_NATIVE:
                    if kind is IncomingId:
                        # orjson passes str subclasses through to us; this
                        # one is text, so a str copy is the cheap spelling.
                        data[key] = str.__str__(value)
                    elif kind is float:
                        data[key] = fragment(_float_json(value))
                    elif kind is _Encoded:
                        data[key] = self._static_fragments[key]
                    else:
                        data[key] = fragment(_json_text(value))
            try:
                # No default=: every other type was made a fragment above, so
                # what orjson refuses goes to the standard library path.
                line: str = self._dumps(data, option=self._options).decode()
            except self._encode_error:
                pass  # a lone surrogate, an int over 64 bits, a key not a str
            else:
                return line if line.isprintable() else _printable_json(line)
        return _plain_json_line(self._head_json(record), self._rest(record, {}))


_ORJSON_NATIVE = frozenset({str, int, bool, type(None)})


def _plain_json_line(head: str, rest: dict[str, Any]) -> str:
    """Return the line with the standard library alone: ``head``, then ``rest``."""
    return _printable_json(
        head
        + "".join(
            [
                "," + encode_basestring(_key_text(key)) + ":" + _json_text(value)
                for key, value in rest.items()
            ]
        )
        + "}"
    )
