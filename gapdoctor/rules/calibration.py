"""Scores that mean what they say: a per-cause map from evidence log-odds to probability.

The rules add declared evidence on the log-odds scale (hand-set weights, each with its
reason). How often a cause is really present at a given sum is measured on the fault corpus
and stored in ``calibration.json`` beside this module: per cause, ``score =
logistic(a * logit + b)`` (Platt scaling). ``benchmarks/diagnosis/heldout.py --fit`` writes
it and reports the held-out figures (the map is fitted without the data source or fault
implementation it is scored on). Without the file, ``a = 1, b = 0``.

Example:
    >>> round(calibrated("no-such-cause", 0.0), 3)
    0.485
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
# One run's evidence never warrants certainty: scores stop short of 1 so a report never
# reads "1.00" (scaling, not clipping, keeps the ranking free of ties).
MAX_SCORE = 0.97


@cache
def calibration() -> dict[str, Any]:
    """The stored calibration (empty when none was fitted)."""
    try:
        return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def calibrated(cause: str, logit: float, cap: float = 1.0) -> float:
    """The probability-like score of ``cause`` for an evidence sum ``logit``, at most ``cap``."""
    params = (calibration().get("causes") or {}).get(cause) or {}
    z = float(params.get("a", 1.0)) * logit + float(params.get("b", 0.0))
    return min(cap, MAX_SCORE / (1.0 + math.exp(-max(-30.0, min(30.0, z)))))
