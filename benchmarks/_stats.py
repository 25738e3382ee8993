"""Small statistics helpers: medians and percentiles that tolerate noisy, shared machines."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float], digits: int = 1) -> dict[str, Any]:
    """Count, median, p90, p99, min, max and the interquartile range, rounded."""
    if not values:
        return {"n": 0}

    def r(x: float) -> float:
        return round(x, digits)

    return {
        "n": len(values),
        "median": r(statistics.median(values)),
        "p90": r(percentile(values, 90)),
        "p99": r(percentile(values, 99)),
        "min": r(min(values)),
        "max": r(max(values)),
        "iqr": [r(percentile(values, 25)), r(percentile(values, 75))],
    }


def ratio(a: float, b: float, digits: int = 3) -> float | None:
    """``a / b`` rounded, or ``None`` when ``b`` is not positive."""
    return round(a / b, digits) if b > 0 else None
