"""The options, declared once: :class:`CorrelationConfig`.

Every host builds one from its keyword options (the ASGI middleware from
``add_middleware(CorrelationMiddleware, ...)``, the Django middleware from
the ``STARLETTE_CORRELATE`` setting) or takes one ready-made. Each option
is checked here, once, when the app is built: a bad one raises an error
that says what to pass, never a failure at request time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Final, Literal, TypedDict

from starlette_correlate.context import DEFAULT_HEADER
from starlette_correlate.errors import ErrorResponseFactory
from starlette_correlate.extract import (
    DEFAULT_RESOLVER_TIMEOUT,
    Extractor,
    Resolver,
    check_field_name,
)
from starlette_correlate.ids import (
    DEFAULT_MAX_LENGTH,
    IdGenerator,
    IdValidator,
    checked_generator,
)
from starlette_correlate.trust import TrustedSources

__all__ = [
    "ASGI_ONLY",
    "EVERY_HOST",
    "ON_INVALID",
    "CorrelationConfig",
    "CorrelationOptions",
    "OnInvalid",
    "check_header_name",
    "check_written_header_name",
]

OnInvalid = Literal["replace", "reject"]
"""What to do with a refused incoming ID: replace it, or reject the request."""
ON_INVALID: Final = frozenset({"replace", "reject"})

# RFC 9110 token characters: what a header field name may be made of.
_TCHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")
_ASGI = {"asgi_only": True}


def check_header_name(name: object, option: str) -> str:
    """Return ``name`` if it is a valid HTTP header name, else raise ``ValueError``.

    ``option`` names the setting in the error, so the message says what to
    fix. Used for every header name the library is given, inbound or
    outbound.

    Example::

        >>> check_header_name("X-Correlation-ID", "header_name")
        'X-Correlation-ID'
        >>> check_header_name("X Request", "header_name")
        Traceback (most recent call last):
        ...
        ValueError: header_name: 'X Request' is not a valid HTTP header name; \
use letters, digits and '-', e.g. 'X-Request-ID'
    """
    if not isinstance(name, str) or not name or not set(name.lower()) <= _TCHARS:
        raise ValueError(
            f"{option}: {name!r} is not a valid HTTP header name; use letters, "
            "digits and '-', e.g. 'X-Request-ID'"
        )
    return name


# Headers with a meaning of their own to HTTP, proxies, auth or tracing: a
# name the library writes (a response, an outbound call, a job's carrier)
# must never be one of them.
_MEANINGFUL = frozenset(
    {
        "authorization",
        "connection",
        "cookie",
        "forwarded",
        "host",
        "keep-alive",
        "location",
        "proxy-authorization",
        "set-cookie",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "x-real-ip",
    }
)


def check_written_header_name(name: object, option: str) -> str:
    """Return ``name`` if the library may write it, else raise ``ValueError``.

    :func:`check_header_name`, and not a header with a meaning of its own
    (``Host``, ``Authorization``, ``Cookie``, ``Content-*``, ``Forwarded``
    and ``X-Forwarded-*``, ``traceparent`` ...): the ID goes
    out under this name on responses, outbound calls and jobs.

    Example::

        >>> check_written_header_name("X-Correlation-ID", "header_name")
        'X-Correlation-ID'
        >>> check_written_header_name("Host", "header_name")
        Traceback (most recent call last):
        ...
        ValueError: header_name: 'Host' already means something to HTTP, \
proxies or tracing; pick a name of your own, e.g. 'X-Request-ID'
    """
    checked = check_header_name(name, option)
    lowered = checked.lower()
    if lowered in _MEANINGFUL or lowered.startswith(("content-", "x-forwarded-")):
        raise ValueError(
            f"{option}: {checked!r} already means something to HTTP, proxies or "
            "tracing; pick a name of your own, e.g. 'X-Request-ID'"
        )
    return checked


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelationConfig:
    """Every option of the library's hosts, checked once when it is made.

    The first six make up the ID rule; they, ``set_request_header``,
    ``on_invalid`` and ``inherited_header`` are accepted by every host
    (:data:`EVERY_HOST`); the rest belong to the ASGI middleware
    (:data:`ASGI_ONLY`). After construction the values are
    normalised: ``incoming_headers`` is a non-empty tuple, ``generator`` is
    the checked generator, ``trusted_sources`` a
    :class:`~starlette_correlate.trust.TrustedSources` (or ``None``), and
    ``extractors`` a read-only mapping (or ``None``).

    Example::

        >>> config = CorrelationConfig(incoming_headers=["X-Request-ID", "X-Trace"])
        >>> config.incoming_headers
        ('X-Request-ID', 'X-Trace')
        >>> CorrelationConfig(max_length=0)
        Traceback (most recent call last):
        ...
        ValueError: max_length: 0 must be a whole number from 1 to 1024
    """

    header_name: str = DEFAULT_HEADER
    """The response header, and the first incoming header read."""
    incoming_headers: Sequence[str] | None = None
    """Incoming headers to read, in order of preference; ``[header_name]``."""
    validator: IdValidator | None = None
    """Accepts a safe incoming ID when its result is truthy; ``None``: all."""
    generator: IdGenerator | None = None
    """Makes new IDs; UUIDv7 by default."""
    trusted_sources: Iterable[str] | None = None
    """Addresses and CIDR ranges whose IDs are accepted; ``None``: all."""
    max_length: int = DEFAULT_MAX_LENGTH
    """The longest incoming ID accepted."""
    error_response: ErrorResponseFactory | None = field(default=None, metadata=_ASGI)
    """``(request, exc, correlation_id)`` -> the 500 response."""
    access_log: bool = field(default=False, metadata=_ASGI)
    """One line per HTTP request on ``starlette_correlate.access``."""
    error_log: bool = field(default=False, metadata=_ASGI)
    """Log unhandled exceptions on ``starlette_correlate.error``, ID set."""
    extractors: Mapping[str, Extractor] | None = field(default=None, metadata=_ASGI)
    """Field name to ``from_header(...)``, ``from_query(...)``, ... ."""
    resolver: Resolver | None = field(default=None, metadata=_ASGI)
    """Async ``(request, fields)`` -> more fields."""
    resolver_timeout: float = field(default=DEFAULT_RESOLVER_TIMEOUT, metadata=_ASGI)
    """Seconds the resolver may take."""
    trace_context: bool = field(default=False, metadata=_ASGI)
    """Bind the W3C ``traceparent``'s ``trace_id``; forward the header."""
    adopt_trace_id: bool = field(default=False, metadata=_ASGI)
    """Use the trace ID as the correlation ID when none came (implies the above)."""
    set_request_header: bool = False
    """Write the chosen ID into the request's headers, once, for code further in."""
    on_invalid: OnInvalid = "replace"
    """``"replace"`` a refused incoming ID, or ``"reject"`` the request (400)."""
    inherited_header: str | None = None
    """Two IDs: the header of an inherited ID kept end to end; ``None``: off."""

    def __post_init__(self) -> None:
        """Check every option; normalise the ones with several spellings."""
        put = object.__setattr__  # frozen: only here may values change
        check_written_header_name(self.header_name, "header_name")
        incoming = self.incoming_headers
        if incoming is None:
            incoming = [self.header_name]
        elif isinstance(incoming, str) or not incoming:
            raise ValueError(
                "incoming_headers: give a non-empty list of header names, "
                "e.g. ['X-Request-ID', 'X-Correlation-ID']"
            )
        put(
            self,
            "incoming_headers",
            tuple(check_header_name(name, "incoming_headers") for name in incoming),
        )
        if self.validator is not None and not callable(self.validator):
            raise TypeError(
                f"validator: {self.validator!r} is not callable; pass a function "
                "taking the incoming ID and returning a true value to accept it"
            )
        max_length = self.max_length
        if (
            isinstance(max_length, bool)
            or not isinstance(max_length, int)
            or not 1 <= max_length <= 1024
        ):
            raise ValueError(
                f"max_length: {max_length!r} must be a whole number from 1 to 1024"
            )
        put(self, "generator", checked_generator(self.generator, max_length))
        sources = self.trusted_sources
        if sources is not None and not isinstance(sources, TrustedSources):
            put(self, "trusted_sources", TrustedSources(sources))
        if self.error_response is not None and not callable(self.error_response):
            raise TypeError(
                f"error_response: {self.error_response!r} is not callable; pass "
                "a function (request, exc, correlation_id) -> Response"
            )
        self._check_context_options(put)

    def _check_context_options(
        self, put: Callable[[object, str, object], None]
    ) -> None:
        extractors = self.extractors
        if extractors is not None:
            if not isinstance(extractors, Mapping):
                raise TypeError(
                    "extractors: pass a mapping of field name to extractor, e.g. "
                    "{'session_id': from_header('X-Session-ID')}"
                )
            for name, extractor in extractors.items():
                check_field_name(name)
                if not callable(extractor):
                    raise TypeError(
                        f"extractors: the extractor of {name!r} is {extractor!r}, "
                        "not a function; use from_header(...), from_query(...), "
                        "from_cookie(...) or a function (request) -> str | None"
                    )
            put(self, "extractors", MappingProxyType(dict(extractors)) or None)
        if self.resolver is not None and not callable(self.resolver):
            raise TypeError(
                f"resolver: {self.resolver!r} is not callable; pass an async "
                "function (request, fields) -> mapping of more fields"
            )
        timeout = self.resolver_timeout
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise ValueError(
                f"resolver_timeout: {timeout!r} must be a positive number "
                "of seconds, e.g. 0.5"
            )
        put(self, "resolver_timeout", float(timeout))
        put(self, "adopt_trace_id", bool(self.adopt_trace_id))
        put(self, "trace_context", bool(self.trace_context) or self.adopt_trace_id)
        put(self, "access_log", bool(self.access_log))
        if self.on_invalid not in ON_INVALID:
            raise ValueError(
                f"on_invalid: {self.on_invalid!r} must be 'replace' (a refused "
                "incoming ID is replaced by a new one) or 'reject' (the request "
                "is answered with a 400)"
            )
        put(self, "error_log", bool(self.error_log))
        put(self, "set_request_header", bool(self.set_request_header))
        self._check_inherited_header()

    def _check_inherited_header(self) -> None:
        inherited = self.inherited_header
        if inherited is None:
            return
        check_written_header_name(inherited, "inherited_header")
        ours = {name.lower() for name in (self.incoming_headers or ())}
        if inherited.lower() in ours | {self.header_name.lower()}:
            raise ValueError(
                f"inherited_header: {inherited!r} is already a header of this "
                "hop's ID (header_name or incoming_headers); the inherited ID "
                "needs its own, e.g. 'X-Correlation-ID' beside 'X-Request-ID'"
            )


ASGI_ONLY: Final = frozenset(
    option.name for option in fields(CorrelationConfig) if option.metadata
)
"""The options only the ASGI middleware has."""

EVERY_HOST: Final = frozenset(
    option.name for option in fields(CorrelationConfig) if not option.metadata
)
"""The options every host accepts: the ID rule, strict mode, the ID in the
request's headers and two IDs (D-django-7)."""


class CorrelationOptions(TypedDict, total=False):
    """:class:`CorrelationConfig`'s fields as keyword options, for type checkers.

    ``CorrelationMiddleware(app, **options)`` and
    ``CorrelationCore(**options)`` take these keywords, so an editor
    completes them and ``mypy`` catches a misspelt one. The names and
    types are :class:`CorrelationConfig`'s, which checks the values; a test
    holds the two declarations equal.

    Example::

        >>> options: CorrelationOptions = {"header_name": "X-Correlation-ID"}
        >>> CorrelationConfig(**options).header_name
        'X-Correlation-ID'
    """

    header_name: str
    incoming_headers: Sequence[str] | None
    validator: IdValidator | None
    generator: IdGenerator | None
    trusted_sources: Iterable[str] | None
    max_length: int
    error_response: ErrorResponseFactory | None
    access_log: bool
    error_log: bool
    extractors: Mapping[str, Extractor] | None
    resolver: Resolver | None
    resolver_timeout: float
    trace_context: bool
    adopt_trace_id: bool
    set_request_header: bool
    on_invalid: OnInvalid
    inherited_header: str | None
