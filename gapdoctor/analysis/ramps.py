"""How a measurement is read: the one ramp every piece of evidence and every trust gate is
read through, and the check that a value is a usable number at all."""

from __future__ import annotations

import math


def finite_number(value: object) -> bool:
    """True for an int or float that is finite (False for None, NaN, inf, strings)."""
    return isinstance(value, (int, float)) and math.isfinite(value)


def ramp(value: float | None, lo: float, hi: float) -> float:
    """0 at or below ``lo``, 1 at or above ``hi``, linear between; 0 for NaN.

    Evidence strength grows smoothly with a measurement instead of jumping at a cut-off.
    With ``hi < lo`` it runs the other way (1 at or below ``hi``).

    Example:
        >>> ramp(0.1, 0.0, 0.2), ramp(float("nan"), 0, 1)
        (0.5, 0.0)
    """
    if value is None or not math.isfinite(value):
        return 0.0
    if hi == lo:
        return float(value >= hi)
    return min(1.0, max(0.0, (value - lo) / (hi - lo)))
