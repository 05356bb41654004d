"""The ID rule and the split-phase lifecycle every host shares.

How an ID is chosen, in one place:

1. **Pick** (:func:`pick_header`): the first configured incoming header
   present wins; a header sent more than once counts as absent, since which
   copy is right cannot be told.
2. **Trust**: with ``trusted_sources``, a client outside them is treated as
   if it sent nothing (its trace context too).
3. **Adopt**: with ``adopt_trace_id``, a request without an ID takes its
   valid ``traceparent``'s trace ID.
4. **Check**: the safety check (:func:`~starlette_correlate.ids.is_safe_raw_id`)
   always, then the validator, read as a condition.
5. **Generate**: anything refused, or absent, gets a new ID.

:class:`CorrelationCore` specialises this once, at construction: the plain
chooser (steps 4 and 5 without a validator) serves the default
configuration; the checked chooser applies steps 2 to 4 and then calls the
plain one. Then the two phases of a request's life:

* :meth:`~CorrelationCore.request_phase` sets :data:`correlation_id_var` and
  keeps the reset token in the :class:`~starlette_correlate.store.ContextStore`
  under a key that names the request;
* :meth:`~CorrelationCore.response_phase` resets it with that token.

A host with separate request and response hooks (Django) calls both; the
ASGI middleware sets and resets in one frame (see its module).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Unpack

from starlette_correlate.config import CorrelationConfig, CorrelationOptions
from starlette_correlate.context import (
    DEFAULT_HEADER,
    correlation_header_var,
    correlation_id_var,
)
from starlette_correlate.ids import SAFE_ID_BYTES, default_generator, is_safe_raw_id
from starlette_correlate.provenance import (
    GENERATED,
    REPLACED,
    TRACEPARENT,
    Choice,
    IncomingId,
    Refusal,
    chosen_id,
    refusal_of,
    source_of,
)
from starlette_correlate.store import ContextStore
from starlette_correlate.trust import TrustedSources
from starlette_correlate.two_ids import TwoIdsRule, set_two_ids

__all__ = [
    "DEFAULT_HEADER",
    "REPEATED_HEADER",
    "Chooser",
    "CorrelationCore",
    "pick_header",
]

_logger = logging.getLogger("starlette_correlate")

Chooser = Callable[[bytes | None, "str | None", "str | None"], str]
"""``(raw incoming ID, client host, trace ID) -> the request's ID``.

The ID's type says how it was chosen (see
:func:`~starlette_correlate.provenance.source_of`)."""


class _Repeated(bytes):
    __slots__ = ()


# What the internal pickers return for a header sent more than once: a
# distinct object (compared by identity) that the safety check refuses, so
# the refusal can say "repeated" at no cost to the accepted path.
_REPEATED = _Repeated(b"\x00")


class _RepeatedText(str):
    __slots__ = ()


REPEATED_HEADER = _RepeatedText("<repeated header>")
"""What a host passes as the incoming ID when the header came more than
once (Django joins the copies with commas): refused as ``repeated``.

Example::

    >>> CorrelationCore().decide(REPEATED_HEADER).refused
    Refusal(reason='repeated', length=0)
"""


def pick_header(
    headers: Iterable[tuple[bytes, bytes]], wanted: tuple[bytes, ...]
) -> bytes | None:
    """Return the value of the first ``wanted`` header present, or ``None``.

    ``headers`` are ASGI header pairs; ``wanted`` lowercased names, as ASGI
    servers deliver them. A header sent more than once counts as absent.

    Example::

        >>> pick_header([(b"x-b", b"2"), (b"x-a", b"1")], (b"x-a", b"x-b"))
        b'1'
        >>> pick_header([(b"x-a", b"1"), (b"x-a", b"2")], (b"x-a",)) is None
        True
    """
    found = (
        _pick_one(headers, wanted[0])
        if len(wanted) == 1
        else _pick_first(headers, wanted)
    )
    return None if found is _REPEATED else found


def _pick_one(headers: Iterable[tuple[bytes, bytes]], target: bytes) -> bytes | None:
    # The common case: one name, one scan, no dict.
    found: bytes | None = None
    repeated = False
    for name, value in headers:
        if name == target:
            repeated = found is not None
            found = value
    return _REPEATED if repeated else found


def _pick_first(
    headers: Iterable[tuple[bytes, bytes]], wanted: tuple[bytes, ...]
) -> bytes | None:
    values: dict[bytes, bytes | None] = {}
    for name, value in headers:
        if name in wanted:
            values[name] = _REPEATED if name in values else value
    for name in wanted:
        if name in values:
            return values[name]
    return None


class CorrelationCore:
    """The ID rule of one configuration, and the two phases of a request.

    Takes a :class:`~starlette_correlate.config.CorrelationConfig`, or its
    keyword options; ``store`` is the context store for the split-phase
    hosts' reset tokens (one per core by default).

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
        "_validator_failed",
        "adopt_trace_id",
        "choose",
        "config",
        "generator",
        "header_name",
        "incoming_headers",
        "max_length",
        "named_header",
        "pick",
        "pick_key",
        "plain",
        "store",
        "trusted_sources",
        "two_ids",
        "validator",
        "wanted",
    )

    def __init__(
        self,
        config: CorrelationConfig | None = None,
        *,
        store: ContextStore | None = None,
        **options: Unpack[CorrelationOptions],
    ) -> None:
        if config is None:
            config = CorrelationConfig(**options)
        elif options:
            raise TypeError("pass either a CorrelationConfig or keyword options")
        self.config = config
        self.header_name = config.header_name
        self.incoming_headers = tuple(config.incoming_headers or ())
        self.wanted = tuple(
            name.lower().encode("latin-1") for name in self.incoming_headers
        )
        # pick_header, specialised: one wanted name is the common case.
        self.pick: Callable[[Iterable[tuple[bytes, bytes]], Any], bytes | None]
        self.pick_key: bytes | tuple[bytes, ...]
        if len(self.wanted) == 1:
            self.pick, self.pick_key = _pick_one, self.wanted[0]
        else:
            self.pick, self.pick_key = _pick_first, self.wanted
        self.validator = config.validator
        self._validator_failed = False
        self.generator = config.generator or default_generator
        sources = config.trusted_sources
        self.trusted_sources = (
            sources
            if sources is None or isinstance(sources, TrustedSources)
            else TrustedSources(sources)
        )
        self.max_length = config.max_length
        self.adopt_trace_id = config.adopt_trace_id
        # Outbound calls follow a header name other than the default; the
        # default is what they use when nothing is set (D-where-recipes-1).
        self.named_header = (
            None
            if config.header_name.lower() == DEFAULT_HEADER.lower()
            else config.header_name
        )
        self.store = ContextStore() if store is None else store
        self.plain = (
            self.validator is None
            and self.trusted_sources is None
            and not self.adopt_trace_id
        )
        self.choose: Chooser = (
            self._choose_plain if self.plain else self._choose_checked
        )
        # Two IDs (D-peers-two-2): the inherited header is judged by this
        # very chooser; None when off, so nothing of it runs.
        self.two_ids = (
            None
            if config.inherited_header is None
            else TwoIdsRule(
                config.inherited_header, self.choose, _pick_one, self.generator
            )
        )

    def _choose_plain(
        self,
        raw: bytes | None,
        client_host: str | None = None,
        trace_id: str | None = None,
    ) -> str:
        """Keep a safe ID, else make a new one (steps 4 and 5, no validator)."""
        # is_safe_raw_id, inlined: this runs on every request, and the call
        # costs more than the test (tests/test_middleware.py holds them equal).
        if (
            raw is not None
            and 0 < len(raw) <= self.max_length
            and not raw.strip(SAFE_ID_BYTES)
        ):
            # Decoded straight into the marker type: no extra copy.
            return IncomingId(raw, "ascii")
        if raw is None:
            return self.generator()
        return chosen_id(self.generator(), REPLACED, self._refusal(raw))

    def _refusal(self, raw: bytes) -> Refusal:
        # Only the reason and the length: the value is the client's.
        if raw is _REPEATED:
            return Refusal("repeated", 0)
        if len(raw) > self.max_length:
            return Refusal("too_long", len(raw))
        return Refusal("unsafe", len(raw))

    def _choose_checked(
        self,
        raw: bytes | None,
        client_host: str | None = None,
        trace_id: str | None = None,
    ) -> str:
        """Apply trust, adoption and the validator, then the plain chooser."""
        if self.trusted_sources is not None and client_host not in self.trusted_sources:
            if raw is None:
                return self.generator()
            length = 0 if raw is _REPEATED else len(raw)
            return chosen_id(self.generator(), REPLACED, Refusal("untrusted", length))
        if raw is None and trace_id is not None and self.adopt_trace_id:
            # An adopted trace ID that the rule refuses is not the client's
            # ID refused: the request simply gets a new one (D-peers-prov-2).
            raw = trace_id.encode("ascii")
            if is_safe_raw_id(raw, self.max_length) and (
                self.validator is None or self._valid(trace_id)
            ):
                return chosen_id(trace_id, TRACEPARENT)
            return self.generator()
        if (
            raw is not None
            and self.validator is not None
            and is_safe_raw_id(raw, self.max_length)
            and not self._valid(raw.decode("ascii"))
        ):
            return chosen_id(self.generator(), REPLACED, Refusal("invalid", len(raw)))
        return self._choose_plain(raw)

    def _valid(self, value: str) -> bool:
        assert self.validator is not None  # noqa: S101 - checked by the caller
        try:
            # Read as a condition: a peer's validator returns re.Match or None.
            return bool(self.validator(value))
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

    def incoming_id(self, headers: Iterable[tuple[bytes, bytes]]) -> str | None:
        """Return the raw incoming ID among ASGI ``headers``, or ``None``.

        Example::

            >>> CorrelationCore().incoming_id([(b"x-request-id", b"abc")])
            'abc'
        """
        raw = pick_header(headers, self.wanted)
        return None if raw is None else raw.decode("latin-1")

    def accepts(self, value: str) -> bool:
        r"""Return whether an incoming ``value`` is safe and passes the validator.

        Example::

            >>> CorrelationCore().accepts("abc\n")
            False
        """
        raw = _encode(value)
        if not is_safe_raw_id(raw, self.max_length):
            return False
        return self.validator is None or self._valid(value)

    def choose_id(
        self,
        incoming: str | None,
        client_host: str | None = None,
        trace_id: str | None = None,
    ) -> str:
        """Return the incoming ID if it is acceptable and trusted, else a new one.

        ``trace_id`` is the valid ``traceparent``'s, adopted when the request
        brings no ID and ``adopt_trace_id`` is on.

        Example::

            >>> core = CorrelationCore()
            >>> core.choose_id("abc")
            'abc'
            >>> core.choose_id("bad value") != "bad value"
            True
        """
        return self.decide(incoming, client_host, trace_id).correlation_id

    def decide(
        self,
        incoming: str | None,
        client_host: str | None = None,
        trace_id: str | None = None,
    ) -> Choice:
        """Return the ID :meth:`choose_id` would, with its source and refusal.

        Example::

            >>> CorrelationCore().decide("abc")
            Choice(correlation_id='abc', source='incoming', refused=None)
            >>> CorrelationCore().decide("a b").refused
            Refusal(reason='unsafe', length=3)
        """
        chosen = self.choose(_raw(incoming), client_host, trace_id)
        return Choice(chosen, source_of(chosen) or GENERATED, refusal_of(chosen))

    def request_phase(
        self,
        key: Hashable,
        incoming: str | None,
        client_host: str | None = None,
        inherited: str | None = None,
    ) -> str:
        """Choose the ID, set it, and keep the reset token under ``key``.

        Returns the ID, for the host to put on its request object. With two
        IDs on, ``inherited`` is the raw value of ``inherited_header`` (see
        :meth:`begin`). A host applies ``on_invalid`` and
        ``set_request_header`` itself, from :meth:`begin`'s :class:`Choice`.

        Example::

            >>> core = CorrelationCore()
            >>> core.request_phase(1, "abc")
            'abc'
            >>> core.response_phase(1)
            True
        """
        return self.begin(key, incoming, client_host, inherited).correlation_id

    def begin(
        self,
        key: Hashable,
        incoming: str | None,
        client_host: str | None = None,
        inherited: str | None = None,
    ) -> Choice:
        """:meth:`request_phase`, returning the whole :class:`Choice`.

        The source rides on the ID's type (D-peers-prov-1). With two IDs
        on (``inherited_header``), ``inherited`` is the raw value of that
        header (``REPEATED_HEADER`` for one sent twice): the ID set and
        returned is this hop's, and
        :data:`~starlette_correlate.two_ids.two_ids_var` is set too, its
        token kept under ``key`` with the others (D-django-5).

        Example::

            >>> core = CorrelationCore()
            >>> core.begin(1, None).source
            'generated'
            >>> core.response_phase(1)
            True
            >>> from starlette_correlate import get_inherited_id
            >>> two = CorrelationCore(inherited_header="X-Correlation-ID")
            >>> two.begin(2, "caller-1", inherited="corr-1").source
            'generated'
            >>> get_inherited_id()
            'corr-1'
            >>> two.response_phase(2), get_inherited_id()
            (True, None)
        """
        chosen = self.choose(_raw(incoming), client_host, None)
        two_ids = None
        if self.two_ids is not None:
            chosen, two_ids = self.two_ids.judge(
                _raw(inherited), chosen, client_host, None
            )
        store = self.store
        store.push(key, correlation_id_var.set(chosen))
        if self.named_header is not None:
            store.push(key, correlation_header_var.set(self.named_header))
        if two_ids is not None:
            store.push(key, set_two_ids(two_ids))
        return Choice(chosen, source_of(chosen) or GENERATED, refusal_of(chosen))

    def response_phase(self, key: Hashable) -> bool:
        """Reset what the request phase of ``key`` set; ``False`` if nothing was.

        Safe to call twice, for a request whose request phase never ran, and
        from another ``contextvars.Context``: it never raises into the host.

        Example::

            >>> CorrelationCore().response_phase("unknown")
            False
        """
        return self.store.release(key)


def _raw(incoming: str | None) -> bytes | None:
    # A host's text header value as the bytes the choosers take.
    if incoming is None:
        return None
    if incoming is REPEATED_HEADER:
        return _REPEATED
    return _encode(incoming)


def _encode(text: str) -> bytes:
    # A WSGI host's text is the header's bytes read as latin-1 (PEP 3333):
    # encoded back, its length and refusal are the ASGI ones. Anything else
    # becomes bytes the safety check refuses (UTF-8 over 0x7F, or a
    # backslash for a lone surrogate).
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace")
