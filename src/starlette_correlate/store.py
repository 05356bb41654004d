"""The context store: reset tokens kept between a request and a response phase.

Hosts whose middleware has two hooks (``process_request`` and
``process_response`` in Django or Falcon) cannot hold a token in a local
variable across the hooks, and must not keep it on the shared middleware
instance (a token works once, and only in the context that made it). The
store keeps the tokens keyed by request instead. The ASGI middleware does
not need it: it sets and resets in one frame, and keeps its tokens in
local variables (D-rule-5 in docs/design.md).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from contextvars import Token
from typing import Any

__all__ = ["ContextStore", "reset_token"]

_logger = logging.getLogger("starlette_correlate")

_Pair = tuple[Token[Any], object]


def reset_token(token: Token[Any], value_set: object) -> None:
    """Reset one token; from a foreign context, restore its old value instead.

    ``ContextVar.reset`` raises ``ValueError`` when the token was made in
    another ``contextvars.Context`` (a split-phase host that ran the two
    phases in different threads or tasks) and ``RuntimeError`` when it was
    used already. Neither may reach the host. If the foreign context holds
    the value the request phase set (it was copied from the request
    context), we put back the value from before the request phase, so it is
    left as it would have been; a foreign context holding a value of its own
    is not ours to change. The original context is out of reach: in every
    host we support it is a copy that dies with its thread or task.

    Example::

        >>> from contextvars import ContextVar, copy_context
        >>> var: ContextVar[str | None] = ContextVar("demo", default=None)
        >>> token = var.set("abc")
        >>> copy_context().run(reset_token, token, "abc")  # no ValueError
        >>> reset_token(token, "abc")
        >>> var.get() is None
        True
    """
    var = token.var
    try:
        var.reset(token)
    except ValueError:
        if var.get(None) is value_set:
            old = token.old_value
            var.set(None if old is Token.MISSING else old)
        _logger.debug("context store: reset from a foreign context")
    except RuntimeError:
        _logger.debug("context store: token already used; nothing to reset")


class ContextStore:
    """Reset tokens of one request, kept from its request to its response phase.

    Every variable whose token is pushed must have ``None`` as its default,
    which is how a foreign-context reset restores "unset".

    Example::

        >>> from contextvars import ContextVar
        >>> var: ContextVar[str | None] = ContextVar("demo", default=None)
        >>> store = ContextStore()
        >>> store.push("request-1", var.set("abc"))
        >>> var.get(), len(store)
        ('abc', 1)
        >>> store.release("request-1")
        True
        >>> var.get(), len(store)
        (None, 0)
        >>> store.release("request-1")  # a repeated response phase is harmless
        False
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        # One pair per key is the rule (one variable per request), so it is
        # kept bare; a list appears only when a key gets a second token.
        self._entries: dict[Hashable, _Pair | list[_Pair]] = {}

    def push(self, key: Hashable, token: Token[Any]) -> None:
        """Keep ``token`` under ``key`` until :meth:`release` resets it.

        Call it right after the ``set`` that returned ``token``, in the same
        context: the value the variable holds now is remembered, so a reset
        from a foreign context can tell whether that context holds it too.

        Example::

            >>> from contextvars import ContextVar
            >>> var: ContextVar[str | None] = ContextVar("demo", default=None)
            >>> store = ContextStore()
            >>> store.push(1, var.set("a"))
            >>> 1 in store
            True
            >>> store.release(1)
            True
        """
        pair = (token, token.var.get(None))
        entries = self._entries
        entry = entries.get(key)
        if entry is None:
            entries[key] = pair
        elif isinstance(entry, tuple):
            entries[key] = [entry, pair]
        else:
            entry.append(pair)

    def release(self, key: Hashable) -> bool:
        """Reset every token kept under ``key``, newest first, and forget them.

        Returns ``False`` when nothing is kept under ``key`` (a missing or a
        repeated response phase), ``True`` otherwise. Never raises for a
        token made in another context.

        Example::

            >>> ContextStore().release("never-seen")
            False
        """
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        if isinstance(entry, tuple):
            token = entry[0]
            try:  # the common case, inline: a reset in the request's own context
                token.var.reset(token)
            except (ValueError, RuntimeError):
                reset_token(token, entry[1])
            return True
        for token, value_set in reversed(entry):
            reset_token(token, value_set)
        return True

    def __len__(self) -> int:
        """Return how many requests have tokens kept; zero between requests."""
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        """Return whether tokens are kept under ``key``."""
        return key in self._entries
