"""Is the train/validation gap real? A gap no cause explains still means the run is not healthy.

When no cause reaches the reporting threshold the verdict is "healthy" (the public contract),
but a run that fits its training set 30 points better than validation is not one a user
should walk away from: the diagnosis then says that the gap is real and which causes lead.

Example:
    >>> train, val = pd.Series([0.6, 0.9, 1.0, 1.0, 1.0]), pd.Series([0.5, 0.4, 0.35, 0.33, 0.33])
    >>> established_gap(train, val, (500, 0.34, 0.30, 0.38))["gap"]
    0.6633
    >>> established_gap(train, train - 0.05, None) is None
    True
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gapdoctor.analysis.ramps import finite_number

# Training accuracy this far above validation at the end of a run is memorisation: no
# well-regularised run shows it (overfitting's gap ramp is full here).
GAP_MEMORISED = 0.15


def established_gap(train: pd.Series, val: pd.Series,
                    interval: tuple[int, float, float, float] | None) -> dict[str, Any] | None:
    """The last 3 epochs' training and validation accuracy and their gap, when the gap is at
    least ``GAP_MEMORISED`` and wider than validation's 95% interval (``interval`` is
    ``(n, accuracy, low, high)``, None when the size is unknown); else None."""
    if len(train) < 1 or len(val) < 1:
        return None
    tr, va = float(train.iloc[-3:].mean()), float(val.iloc[-3:].mean())
    if not (finite_number(tr) and finite_number(va)) or not (0 <= va <= 1 and 0 <= tr <= 1):
        return None
    gap = tr - va
    half = (interval[3] - interval[2]) / 2 if interval is not None else float("nan")
    if gap < GAP_MEMORISED or (finite_number(half) and gap <= half):
        return None
    return {"train": round(tr, 4), "val": round(va, 4), "gap": round(gap, 4),
            "n_val": interval[0] if interval is not None else None,
            "half_width": round(half, 4) if finite_number(half) else None}


def gap_sentence(gap: dict[str, Any]) -> str:
    """The gap in words, with the validation interval when the size is known.

    Example:
        >>> gap_sentence({"train": 1.0, "val": 0.33, "gap": 0.67, "n_val": 500, "half_width": 0.04})
        'training accuracy 1.00 against validation 0.33 (67 points; validation is known to +-0.04 at 500 samples)'
    """
    size = (f"; validation is known to +-{gap['half_width']:.2f} at {gap['n_val']} samples"
            if gap.get("n_val") and gap.get("half_width") is not None else "")
    return (f"training accuracy {gap['train']:.2f} against validation {gap['val']:.2f} "
            f"({gap['gap'] * 100:.0f} points{size})")
