"""Run code with two IDs set, as a two-ID request would have them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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
