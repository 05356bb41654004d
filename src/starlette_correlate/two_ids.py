"""Two IDs: an inherited correlation ID beside a request ID made at every hop.

Opt-in with ``inherited_header`` (e.g. ``"X-Correlation-ID"``). Then, for
each request:

* this hop's ID (``header_name``, :func:`~starlette_correlate.get_correlation_id`,
  ``request_id`` in logs) is new at every hop;
* the caller's ``header_name`` value, when the one rule accepts it, is the
  *parent* (:func:`get_parent_id`);
* the *inherited* ID (:func:`get_inherited_id`) is the caller's
  ``inherited_header`` value, judged by the same one rule; when absent or
  refused it starts here, equal to this hop's ID.

This module owns :data:`two_ids_var` and :data:`two_ids_in_use`, and
:class:`TwoIdsRule`, which turns the core's verdicts into the two IDs.
It holds no rule of its own for what an acceptable ID is: every value is
judged by :attr:`CorrelationCore.choose
<starlette_correlate.core.CorrelationCore.choose>` (D-peers-two-2).

Free when off: nothing here runs, and the logging filter, the outbound
carriers and the job carriers read :data:`two_ids_in_use` before they
read the variable (D-peers-two-1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, NamedTuple

from starlette_correlate.fields import fields_in_use
from starlette_correlate.provenance import (
    GENERATED,
    INCOMING,
    REPLACED,
    TRACEPARENT,
    chosen_id,
    refusal_of,
    source_of,
)

if TYPE_CHECKING:
    from starlette_correlate.core import Chooser

__all__ = [
    "INHERITED_STATE_KEY",
    "PARENT_STATE_KEY",
    "TwoIds",
    "TwoIdsRule",
    "get_inherited_id",
    "get_parent_id",
    "set_two_ids",
    "two_ids_in_use",
    "two_ids_var",
]

INHERITED_STATE_KEY = "inherited_id"
"""The name of the inherited ID on ``request.state``."""
PARENT_STATE_KEY = "parent_id"
"""The name of the parent ID (or ``None``) on ``request.state``."""


class TwoIds(NamedTuple):
    """The inherited ID, the parent ID, and the header the inherited one travels in.

    Example::

        >>> TwoIds("corr-1", "caller-1", "X-Correlation-ID").inherited
        'corr-1'
    """

    inherited: str
    parent: str | None
    header: str


two_ids_var: ContextVar[TwoIds | None] = ContextVar(
    "starlette_correlate.two_ids", default=None
)
"""The two-ID values of the request (or job) running here; ``None`` otherwise.

Set only by a middleware with ``inherited_header`` (through
:func:`set_two_ids`) and by the job integrations that carry it.

Example::

    >>> two_ids_var.get() is None
    True
"""


class _InUse:
    """Whether any code in this process has ever set two IDs."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen = False


two_ids_in_use = _InUse()
"""Flips to ``seen = True`` the first time two IDs are set, and stays so.

Until then :data:`two_ids_var` is known to hold ``None`` everywhere, so the
logging filter, the structlog processor, the loguru patcher and the
carriers skip reading it: a service without two IDs pays one attribute
read per record.

Example::

    >>> isinstance(two_ids_in_use.seen, bool)
    True
"""


def set_two_ids(value: TwoIds) -> Token[TwoIds | None]:
    """Set :data:`two_ids_var` to ``value`` and return the reset token.

    The only way the library writes the variable, so :data:`two_ids_in_use`
    stays true to its word.

    Example::

        >>> import contextvars
        >>> contextvars.copy_context().run(
        ...     lambda: (set_two_ids(TwoIds("c", None, "X-C")), get_inherited_id())[1]
        ... )
        'c'
    """
    two_ids_in_use.seen = True
    # The logging filter and the loguru patcher look for two IDs only once
    # fields are in use: one test per record for both while neither is.
    fields_in_use.seen = True
    return two_ids_var.set(value)


def get_inherited_id() -> str | None:
    """Return the inherited correlation ID, or ``None`` without two IDs.

    Example::

        >>> get_inherited_id() is None
        True
    """
    current = two_ids_var.get()
    return None if current is None else current.inherited


def get_parent_id() -> str | None:
    """Return the caller's request ID (this hop's parent), or ``None``.

    ``None`` also inside a two-ID request whose caller sent no acceptable
    request ID: the first hop has no parent.

    Example::

        >>> get_parent_id() is None
        True
    """
    current = two_ids_var.get()
    return None if current is None else current.parent


Picker = Callable[[Iterable[tuple[bytes, bytes]], bytes], "bytes | None"]


class TwoIdsRule:
    """Turn the one rule's verdicts into this hop's ID and the :class:`TwoIds`.

    ``choose`` is the core's chooser (the one rule: safety check,
    validator, trusted sources, trace adoption), ``pick`` the core's
    one-header picker (a repeated header comes back as a value the rule
    refuses as ``repeated``), ``generator`` makes this hop's IDs.

    This hop's ID keeps the provenance of the request: ``generated``, or
    ``replaced`` with the :class:`~starlette_correlate.provenance.Refusal`
    when the caller's request ID or its inherited ID was refused (the
    caller's request ID's refusal first), so strict mode and the access
    line see a refusal of either (D-peers-two-3).

    Example::

        >>> from starlette_correlate import CorrelationCore
        >>> core = CorrelationCore(inherited_header="X-Correlation-ID")
        >>> rule = core.two_ids
        >>> headers = [(b"x-request-id", b"caller-1"), (b"x-correlation-id", b"c-1")]
        >>> caller = core.choose(b"caller-1", None, None)
        >>> hop, two = rule.decide(headers, caller, None, None)
        >>> hop != "caller-1", two.inherited, two.parent
        (True, 'c-1', 'caller-1')
    """

    __slots__ = ("choose", "generator", "header", "key", "pick")

    def __init__(
        self,
        header: str,
        choose: Chooser,
        pick: Picker,
        generator: Callable[[], str],
    ) -> None:
        self.header = header
        self.key = header.lower().encode("latin-1")
        self.choose = choose
        self.pick = pick
        self.generator = generator

    def decide(
        self,
        headers: Iterable[tuple[bytes, bytes]],
        caller: str,
        client_host: str | None,
        trace_id: str | None,
    ) -> tuple[str, TwoIds]:
        """Return this hop's ID and the two IDs, given the verdict on the caller's.

        ``caller`` is what the core chose for the caller's ``header_name``
        value: an accepted one becomes the parent; a generated or replaced
        one is already a fresh ID and serves as this hop's; an adopted
        trace ID belongs to the inherited ID, never to one hop.
        """
        return self.judge(self.pick(headers, self.key), caller, client_host, trace_id)

    def judge(
        self,
        raw: bytes | None,
        caller: str,
        client_host: str | None,
        trace_id: str | None,
    ) -> tuple[str, TwoIds]:
        """:meth:`decide`, given the inherited header's raw value (or ``None``).

        For a host that reads headers its own way (Django's
        ``request.headers``): ``raw`` is what the core's pickers would
        return, a repeated header included (see
        :meth:`CorrelationCore.begin <starlette_correlate.core.CorrelationCore.begin>`).

        Example::

            >>> from starlette_correlate import CorrelationCore
            >>> core = CorrelationCore(inherited_header="X-Correlation-ID")
            >>> caller = core.choose(None, None, None)
            >>> hop, two = core.two_ids.judge(None, caller, None, None)
            >>> two.inherited == hop, two.parent
            (True, None)
        """
        source = source_of(caller)
        parent: str | None = None
        if source is INCOMING:
            parent = str.__str__(caller)
            hop = self.generator()
        elif source is TRACEPARENT:
            hop = self.generator()
        else:  # generated, or replaced with its refusal
            hop = caller
        inherited: str | None = None
        if raw is not None or trace_id is not None:
            verdict = self.choose(raw, client_host, trace_id)
            kind = source_of(verdict)
            if kind is INCOMING or kind is TRACEPARENT:
                inherited = str.__str__(verdict)
            elif kind is not GENERATED and source_of(hop) is not REPLACED:
                # Refused: this hop's ID records why (reason and length).
                hop = chosen_id(hop, REPLACED, refusal_of(verdict))
        if inherited is None:
            inherited = str.__str__(hop)
        return hop, TwoIds(inherited, parent, self.header)
