"""Run code with two IDs set, as a two-ID request would have them."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from starlette_correlate.errors import attach_correlation_id
from starlette_correlate.two_ids import TwoIds, set_two_ids, two_ids_var

HEADER = "X-Correlation-ID"


@contextlib.contextmanager
def two_ids_set(
    inherited: str, parent: str | None = None, header: str = HEADER
) -> Iterator[TwoIds]:
    """Set the two IDs for a ``with`` block, then put back what was there."""
    value = TwoIds(inherited, parent, header)
    token = set_two_ids(value)
    try:
        yield value
    finally:
        two_ids_var.reset(token)


def failed_two_id_request(
    correlation_id: str, inherited: str, parent: str | None = None
) -> RuntimeError:
    """Return the exception of a two-ID request that failed and has ended.

    As the middleware leaves it: the request's ID and two IDs carried by
    the exception, the context (with its two IDs) already reset.
    """
    value = TwoIds(inherited, parent, HEADER)
    exc = RuntimeError("late")

    def fail() -> None:
        set_two_ids(value)
        attach_correlation_id(exc, correlation_id, value)

    contextvars.copy_context().run(fail)
    return exc
