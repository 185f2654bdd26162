"""Evidence declared once: the fact, the range over which it ramps, its weight and its reason.

A rule declares each piece of evidence as a :class:`Ramp` at module level. The weight a
measurement earns and the text the user reads are both derived from the same numbers, so
what is printed is what is applied (a test re-derives every applied weight from the printed
range). Declarations are data: they can be listed, tested and re-weighted in one place.

Example:
    >>> GAP = Ramp("overfitting.gap", "train-minus-validation gap", 0.03, 0.15, 2.5,
    ...            "3 points is what a well-regularised model shows; 15 is memorisation")
    >>> GAP.strength(0.09), GAP.comparison()
    (0.5, 'for: none at 0.03, full at 0.15 (+2.5)')
    >>> LOW = Ramp("x.low", "loss drop", 0.3, 0.1, 2.5, "barely moves")
    >>> round(LOW.strength(0.2), 3), LOW.comparison()
    (0.5, 'for: none at 0.3, full at 0.1 and below (+2.5)')
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass


def _num(x: float) -> str:
    """Compact, exact-enough rendering of a threshold (the test parses these back)."""
    if x == 0:
        return "0"
    if abs(x) >= 1e4 or abs(x) < 1e-3:
        return f"{x:.0e}"
    return f"{x:.4g}"


@dataclass(frozen=True)
class Ramp:
    """Strength 0 at ``lo``, 1 at ``hi`` (linear between; ``lo > hi`` means lower is stronger).

    ``lo == hi`` is a step: full strength from ``hi`` on. ``log=True`` ramps over
    ``log10(value)`` with ``lo``/``hi`` given in the value's own units. ``weight`` is the
    log-odds at full strength (negative: evidence against the cause).
    """

    key: str
    name: str
    lo: float
    hi: float
    weight: float
    reason: str
    log: bool = False

    def strength(self, value: float | None) -> float:
        """Ramp position of ``value`` in [0, 1]; 0 for a missing or non-finite value."""
        if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
            return 0.0
        lo, hi, x = self.lo, self.hi, float(value)
        if self.log:
            if x <= 0:
                return 0.0 if hi > lo else 1.0
            lo, hi, x = math.log10(lo), math.log10(hi), math.log10(x)
        if hi == lo:
            return float(x >= hi)
        return min(1.0, max(0.0, (x - lo) / (hi - lo)))

    def comparison(self) -> str:
        """The rule in words, generated from ``lo``, ``hi`` and ``weight``."""
        side = "for" if self.weight > 0 else "against"
        scale = " (log scale)" if self.log else ""
        if self.lo == self.hi:
            return f"{side}: from {_num(self.hi)}{scale} ({self.weight:+.2g})"
        tail = " and below" if self.lo > self.hi else ""
        return (f"{side}: none at {_num(self.lo)}, full at {_num(self.hi)}{tail}{scale} "
                f"({self.weight:+.2g})")


_RANGE = re.compile(r"(for|against): none at (\S+), full at (\S+?)(?: and below)?( \(log scale\))? "
                    r"\(([+-][0-9.e+-]+)\)")
_STEP = re.compile(r"(for|against): from (\S+?)( \(log scale\))? \(([+-][0-9.e+-]+)\)")
_GATE = re.compile(r"counted at (\d+)%")


def printed_disagrees(comparison: str, measured: float | None, weight: float) -> str | None:
    """Re-derive a weight from the *printed* rule and compare it with the applied one.

    Returns None when they agree (within the rounding of the printed numbers), else a
    sentence saying what differs. Used by the tests and the benchmarks on every finding.

    Example:
        >>> r = Ramp("k", "gap", 0.03, 0.15, 2.5, "why")
        >>> printed_disagrees(r.comparison(), 0.09, 1.25) is None
        True
        >>> printed_disagrees(r.comparison(), 0.09, 2.5)
        'printed rule gives 1.25, applied 2.5'
    """
    found = _RANGE.search(comparison)
    if found:
        side, lo, hi, log, w = found.groups()
    else:
        step = _STEP.search(comparison)
        if not step:
            return f"no rule printed in {comparison!r}"
        side, hi, log, w = step.groups()
        lo = hi
    spec = Ramp("printed", "", float(lo), float(hi), float(w), "", log=bool(log))
    gate = _GATE.search(comparison)
    expected = spec.weight * spec.strength(measured) * (int(gate.group(1)) / 100 if gate else 1.0)
    if (side == "for") != (spec.weight > 0):
        return f"printed side {side!r} but weight {spec.weight:+}"
    # printed numbers carry 2-4 significant digits and the gate whole percents
    if abs(expected - weight) > 0.03 * abs(spec.weight) + 0.02 + (0.01 * abs(spec.weight) if gate else 0):
        return f"printed rule gives {expected:.3g}, applied {weight:.3g}"
    return None
