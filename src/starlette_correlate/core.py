"""The split-phase lifecycle every host shares: choose, set, keep, reset.

:class:`CorrelationCore` validates configuration once, chooses the ID of each
request, and runs the two phases of its life:

* :meth:`~CorrelationCore.request_phase` sets :data:`correlation_id_var` and
  keeps the reset token in the :class:`~starlette_correlate.store.ContextStore`
  under a key that names the request;
* :meth:`~CorrelationCore.response_phase` resets it with that token.

The ASGI middleware calls both around the app; a host with separate request
and response hooks (Django, Falcon) calls them from its hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Sequence

from starlette_correlate.context import (
    DEFAULT_HEADER,
    correlation_header_var,
    correlation_id_var,
)
from starlette_correlate.ids import (
    DEFAULT_MAX_LENGTH,
    IdGenerator,
    IdValidator,
    checked_generator,
    is_safe_id,
)
from starlette_correlate.store import ContextStore
from starlette_correlate.trust import TrustedSources

__all__ = ["DEFAULT_HEADER", "CorrelationCore"]

_logger = logging.getLogger("starlette_correlate")

# RFC 9110 token characters: what a header field name may be made of.
_TCHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")


def _check_header_name(name: object, option: str) -> str:
    if not isinstance(name, str) or not name or not set(name.lower()) <= _TCHARS:
        raise ValueError(
            f"{option}: {name!r} is not a valid HTTP header name; use letters, "
            "digits and '-', e.g. 'X-Request-ID'"
        )
    return name


class CorrelationCore:
    """Configuration and lifecycle of correlation IDs, independent of the host.

    Args:
        header_name: the response header, and the first incoming header read.
        incoming_headers: the incoming headers to read, in order of
            preference; defaults to ``[header_name]``.
        validator: accepts or refuses an incoming ID that passed the safety
            check; ``None`` accepts every safe ID.
        generator: makes new IDs; UUIDv7 by default.
        trusted_sources: IP addresses and CIDR ranges whose incoming IDs are
            accepted; ``None`` trusts every client.
        max_length: the longest incoming ID accepted.
        store: the context store for the reset tokens; one per core by default.

    Example::

        >>> core = CorrelationCore(trusted_sources=["10.0.0.0/8"])
        >>> core.choose_id("abc-123", client_host="10.1.2.3")
        'abc-123'
        >>> core.choose_id("abc-123", client_host="192.0.2.7") != "abc-123"
        True
        >>> core.request_phase("req-1", "abc-123", client_host="10.1.2.3")
        'abc-123'
        >>> from starlette_correlate import get_correlation_id
        >>> get_correlation_id()
        'abc-123'
        >>> core.response_phase("req-1")
        True
        >>> get_correlation_id() is None, len(core.store)
        (True, 0)
    """

    __slots__ = (
        "_named",
        "_plain",
        "_validator_failed",
        "generator",
        "header_name",
        "incoming_headers",
        "max_length",
        "store",
        "trusted_sources",
        "validator",
    )

    def __init__(
        self,
        *,
        header_name: str = DEFAULT_HEADER,
        incoming_headers: Sequence[str] | None = None,
        validator: IdValidator | None = None,
        generator: IdGenerator | None = None,
        trusted_sources: Iterable[str] | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        store: ContextStore | None = None,
    ) -> None:
        self.header_name = _check_header_name(header_name, "header_name")
        # Outbound calls follow a header name other than the default; the
        # default is what they use when nothing is set (D-where-recipes-1).
        self._named = (
            None if header_name.lower() == DEFAULT_HEADER.lower() else header_name
        )
        if incoming_headers is None:
            incoming_headers = [header_name]
        elif isinstance(incoming_headers, str) or not incoming_headers:
            raise ValueError(
                "incoming_headers: give a non-empty list of header names, "
                "e.g. ['X-Request-ID', 'X-Correlation-ID']"
            )
        self.incoming_headers = tuple(
            _check_header_name(name, "incoming_headers") for name in incoming_headers
        )
        if validator is not None and not callable(validator):
            raise TypeError(
                f"validator: {validator!r} is not callable; pass a function "
                "taking the incoming ID and returning True to accept it"
            )
        self.validator = validator
        self._validator_failed = False
        if (
            isinstance(max_length, bool)
            or not isinstance(max_length, int)
            or not 1 <= max_length <= 1024
        ):
            raise ValueError(
                f"max_length: {max_length!r} must be a whole number from 1 to 1024"
            )
        self.max_length = max_length
        self.generator = checked_generator(generator, self.max_length)
        self.trusted_sources = (
            None if trusted_sources is None else TrustedSources(trusted_sources)
        )
        self.store = ContextStore() if store is None else store
        # No validator and no trusted sources: the safety check alone decides.
        self._plain = self.validator is None and self.trusted_sources is None

    def accepts(self, value: str) -> bool:
        r"""Return whether an incoming ``value`` is safe and passes the validator.

        Example::

            >>> CorrelationCore().accepts("abc\n")
            False
        """
        if not is_safe_id(value, self.max_length):
            return False
        validator = self.validator
        if validator is None:
            return True
        try:
            # Read as a condition: a peer's validator returns re.Match or None.
            return bool(validator(value))
        except Exception as exc:  # noqa: BLE001 - a validator's bug must not become a 500
            if not self._validator_failed:
                # Once: a broken validator fails on every request. Never the
                # value, which is the client's and may attack the log.
                self._validator_failed = True
                _logger.warning(
                    "validator raised %s; the incoming ID was refused (logged "
                    "once per middleware)",
                    type(exc).__name__,
                )
            return False

    def choose_id(self, incoming: str | None, client_host: str | None = None) -> str:
        """Return the incoming ID if it is acceptable and trusted, else a new one.

        Example::

            >>> core = CorrelationCore()
            >>> core.choose_id("abc")
            'abc'
            >>> core.choose_id("bad value") != "bad value"
            True
        """
        if incoming is not None and (
            self.trusted_sources is None or client_host in self.trusted_sources
        ):
            # Without a validator, skip a call on every request (the hot path).
            if self.validator is None:
                if is_safe_id(incoming, self.max_length):
                    return incoming
            elif self.accepts(incoming):
                return incoming
        return self.generator()

    def request_phase(
        self, key: Hashable, incoming: str | None, client_host: str | None = None
    ) -> str:
        """Choose the ID, set it, and keep the reset token under ``key``.

        Returns the ID, for the host to put on its request object.

        Example::

            >>> core = CorrelationCore()
            >>> core.request_phase(1, "abc")
            'abc'
            >>> core.response_phase(1)
            True
        """
        # The two common cases first, without a call to choose_id.
        if incoming is None:
            correlation_id = self.generator()
        elif self._plain and is_safe_id(incoming, self.max_length):
            correlation_id = incoming
        else:
            correlation_id = self.choose_id(incoming, client_host)
        self.store.push(key, correlation_id_var.set(correlation_id))
        if self._named is not None:
            self.store.push(key, correlation_header_var.set(self._named))
        return correlation_id

    def response_phase(self, key: Hashable) -> bool:
        """Reset what the request phase of ``key`` set; ``False`` if nothing was.

        Safe to call twice, for a request whose request phase never ran, and
        from another ``contextvars.Context``: it never raises into the host.

        Example::

            >>> CorrelationCore().response_phase("unknown")
            False
        """
        return self.store.release(key)
