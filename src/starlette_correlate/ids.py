"""Choosing a correlation ID: the safety check, validators and generators.

An incoming ID is accepted only when it passes :func:`is_safe_id` (always on)
and then the configured validator; otherwise a fresh one is generated. The
default generator makes UUIDv7 strings: unique, and sortable by the time they
were made, which keeps log searches by time range cheap.
"""

from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Callable

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "MAX_FIELD_LENGTH",
    "SAFE_ID_BYTES",
    "IdGenerator",
    "IdValidator",
    "checked_generator",
    "default_generator",
    "is_safe_field_value",
    "is_safe_id",
    "is_safe_raw_id",
    "is_uuid",
    "uuid4_hex",
    "uuid7",
]

IdGenerator = Callable[[], str]
"""A function of no arguments that returns a new correlation ID."""

IdValidator = Callable[[str], object]
"""A function that says whether an incoming (already safe) ID is acceptable.

Its result is read as a condition: ``True``, an ``re.Match`` or any truthy
value accepts; ``False``, ``None`` or any falsy value refuses.
"""

DEFAULT_MAX_LENGTH = 128
"""The longest incoming ID accepted by default, in characters."""


def is_safe_id(value: str, max_length: int = DEFAULT_MAX_LENGTH) -> bool:
    r"""Return whether ``value`` may go into a log line and a response header.

    Safe means 1 to ``max_length`` characters of printable ASCII without
    spaces: no control characters (CR and LF forge log lines and headers),
    no quotes or backslashes (they break out of a ``key="value"`` field)
    and no non-ASCII text.

    Example::

        >>> is_safe_id("3f2c-request-7")
        True
        >>> is_safe_id("abc\r\nSet-Cookie: x=1")
        False
        >>> is_safe_id('a"b')
        False
        >>> is_safe_id("")
        False
    """
    return (
        0 < len(value) <= max_length
        and value.isascii()
        and value.isprintable()
        and " " not in value
        and '"' not in value
        and "\\" not in value
    )


MAX_FIELD_LENGTH = 512
"""The longest value an extracted or resolved field may hold, in characters."""


def is_safe_field_value(value: str, max_length: int = MAX_FIELD_LENGTH) -> bool:
    r"""Return whether a field value may go on a log record.

    Looser than :func:`is_safe_id`: a ``User-Agent``, a ``Date`` or a
    multi-hop ``X-Forwarded-For`` holds spaces, commas and quotes, and a
    query parameter may hold any printable Unicode; the formatters escape
    what needs escaping. Control characters (CR and LF forge log lines,
    ESC drives terminals) and values over ``max_length`` are refused.

    Example::

        >>> is_safe_field_value("Mozilla/5.0 (X11; Linux x86_64)")
        True
        >>> is_safe_field_value("Zürich"), is_safe_field_value("a\nlevel=ERROR")
        (True, False)
        >>> is_safe_field_value("")
        False
    """
    return 0 < len(value) <= max_length and value.isprintable()


_COMMON_ID_BYTES = b"0123456789abcdef-ghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_."
# The most common ID characters first: bytes.strip() looks each byte up in
# this set from its start, so a UUID's bytes are found within 17 places.
SAFE_ID_BYTES = _COMMON_ID_BYTES + bytes(
    byte
    for byte in range(0x21, 0x7F)
    if byte not in b'"\\' and byte not in _COMMON_ID_BYTES
)
"""Every byte an ID may hold: printable ASCII but space, quote and backslash.

Example::

    >>> len(SAFE_ID_BYTES), b" " in SAFE_ID_BYTES, b"-" in SAFE_ID_BYTES
    (92, False, True)
"""


def is_safe_raw_id(raw: bytes, max_length: int = DEFAULT_MAX_LENGTH) -> bool:
    r"""Return :func:`is_safe_id` of a header value, checked before decoding.

    The same rule on the bytes a server delivers, in one C-level pass:
    stripping every safe byte from both ends leaves nothing only when every
    byte is safe. The core's plain chooser inlines this test.

    Example::

        >>> is_safe_raw_id(b"0192f0e6-5b3c-7d1e-8f00-1234567890ab")
        True
        >>> is_safe_raw_id(b"abc\r\nSet-Cookie: x=1"), is_safe_raw_id(b"")
        (False, False)
    """
    return 0 < len(raw) <= max_length and not raw.strip(SAFE_ID_BYTES)


def is_uuid(value: str) -> bool:
    """Accept only canonical UUID strings (any version), for strict services.

    Example::

        >>> is_uuid("0192f0e6-5b3c-7d1e-8f00-1234567890ab")
        True
        >>> is_uuid("abc")
        False
    """
    if len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _reseeded_random() -> random.Random:
    rng = random.Random(os.urandom(32))  # noqa: S311 - IDs need uniqueness, not secrecy
    # A forked worker must not replay its parent's sequence of IDs.
    os.register_at_fork(after_in_child=lambda: rng.seed(os.urandom(32)))
    return rng


_getrandbits = _reseeded_random().getrandbits
_time_ns = time.time_ns
_UUID7_MASK = ((1 << 128) - 1) ^ ((0xF << 76) | (0x3 << 62))
_UUID7_BITS = (0x7 << 76) | (0x2 << 62)


def uuid7() -> str:
    """Return a new UUIDv7 (RFC 9562) string in pure Python.

    48 bits of Unix time in milliseconds, then 74 random bits from a
    generator seeded from ``os.urandom`` and reseeded in forked children.
    Correlation IDs need uniqueness, not secrecy: do not use them as tokens.

    Example::

        >>> import uuid
        >>> uuid.UUID(uuid7()).version
        7
    """
    h = "%032x" % (  # %-formatting measured faster than f-strings here
        ((_time_ns() // 1_000_000) << 80 | _getrandbits(80)) & _UUID7_MASK | _UUID7_BITS
    )
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid4_hex() -> str:
    """Return a random UUIDv4 as 32 hex digits, the format some peers use.

    Example::

        >>> len(uuid4_hex())
        32
    """
    return uuid.uuid4().hex


def _fastest_uuid7() -> IdGenerator:
    try:
        import uuid_utils  # noqa: PLC0415 - optional speed-up, the [fast] extra
    except ImportError:
        return uuid7

    make = uuid_utils.uuid7

    def uuid7_fast() -> str:
        """Return a new UUIDv7 string made by ``uuid_utils`` (Rust)."""
        return str(make())

    return uuid7_fast


default_generator: IdGenerator = _fastest_uuid7()
"""The default generator: UUIDv7, from ``uuid_utils`` when installed.

Install ``starlette-correlate[fast]`` for the Rust implementation, about
three times faster than :func:`uuid7`.

Example::

    >>> import uuid
    >>> uuid.UUID(default_generator()).version
    7
"""


_logger = logging.getLogger("starlette_correlate")


def checked_generator(
    generator: IdGenerator | None, max_length: int = DEFAULT_MAX_LENGTH
) -> IdGenerator:
    """Return ``generator`` made safe to call on every request or task.

    ``None`` gives :data:`default_generator`. Anything else is called once
    now: if it is not callable, or its first ID is not a safe one of at
    most ``max_length`` characters, the configuration is refused with an
    error that says what to pass. Later, an ID that is unsafe, or a call
    that raises, is replaced by a UUIDv7 and logged as a warning on the
    ``starlette_correlate`` logger (without the value): checked once at
    start-up is not checked forever, and a request or a task must never
    fail, or carry a forged ID, because of it.

    The middleware's and the Celery integration's ``generator`` options
    both go through here.

    Example::

        >>> make = checked_generator(lambda: "job-1")
        >>> make()
        'job-1'
        >>> checked_generator(lambda: "two words")
        Traceback (most recent call last):
        ...
        ValueError: generator: it returned 'two words', which is not a safe ID; \
return 1 to 128 printable ASCII characters without spaces, quotes or backslashes
    """
    if generator is None:
        return default_generator
    if not callable(generator):
        raise TypeError(
            f"generator: {generator!r} is not callable; pass a function of "
            "no arguments returning a new ID"
        )
    sample = generator()
    if not isinstance(sample, str) or not is_safe_id(sample, max_length):
        raise ValueError(
            f"generator: it returned {sample!r}, which is not a safe ID; "
            f"return 1 to {max_length} printable ASCII characters "
            "without spaces, quotes or backslashes"
        )
    user_generator = generator

    def generate() -> str:
        try:
            value = user_generator()
        except Exception:  # the request goes on with a UUIDv7
            _logger.warning("generator raised; used a UUIDv7 instead", exc_info=True)
            return default_generator()
        if isinstance(value, str) and is_safe_id(value, max_length):
            return value
        _logger.warning("generator returned an unsafe ID; used a UUIDv7 instead")
        return default_generator()

    return generate
