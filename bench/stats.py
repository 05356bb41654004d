"""How the benchmarks sum up their rounds: the median, and the spread.

Every benchmark reports the median over its interleaved rounds and, as its
spread, the interquartile range (with fewer than four rounds, the range).

Example::

    >>> median([3.0, 1.0, 2.0]), spread([1.0, 2.0, 3.0, 4.0, 100.0])
    (2.0, 50.5)
    >>> spread([])
    0.0
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

__all__ = ["median", "spread"]


def median(values: Sequence[float]) -> float:
    """Return the median of ``values``."""
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> float:
    """Return the interquartile range of ``values`` (below four, the range)."""
    if len(values) < 4:
        return float(max(values) - min(values)) if values else 0.0
    quartiles = statistics.quantiles(values, n=4)
    return float(quartiles[2] - quartiles[0])
