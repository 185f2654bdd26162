"""Scores that mean what they say: a per-cause map from evidence log-odds to probability.

The rules add declared evidence on the log-odds scale (hand-set weights, each with its
reason). How often a cause is really present at a given sum is measured on the fault corpus
and stored in ``calibration.json`` beside this module, by one of two methods chosen by
cross-validation on the corpus's development part (``benchmarks/diagnosis/heldout.py
--fit``): ``"platt"``, per cause ``score = logistic(a * logit + b)``; or ``"weights"``, the
evidence weights and the prior refitted per cause (each weight kept on the side its reason
argues for), which then replace the declared ones in what is applied *and* printed.
A third method, ``"softmax"``, reads the causes as competitors (one run, one main cause):
``score_k = exp(a_k * logit_k + b_k) / (1 + sum_j exp(a_j * logit_j + b_j))``, the 1 standing
for "healthy"; :func:`joint_scores` applies it to all causes of a run at once.
Without the file the declared weights and ``a = 1, b = 0`` apply.

Example:
    >>> round(calibrated("no-such-cause", 0.0), 3)
    0.485
"""

from __future__ import annotations

import json
import math
import os
from functools import cache
from pathlib import Path
from typing import Any

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
# One run's evidence never warrants certainty: scores stop short of 1 so a report never
# reads "1.00" (scaling, not clipping, keeps the ranking free of ties).
MAX_SCORE = 0.97


@cache
def calibration() -> dict[str, Any]:
    """The stored calibration (empty when none was fitted, or with
    ``GAPDOCTOR_CALIBRATION=off``, which the benchmark uses to see the declared weights)."""
    if os.environ.get("GAPDOCTOR_CALIBRATION", "").lower() == "off":
        return {}
    try:
        return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def fitted_weight(key: str, declared: float) -> float:
    """The weight in force for evidence ``key``: refitted when the calibration says so."""
    cal = calibration()
    if cal.get("method") != "weights":
        return declared
    cause = key.split(".", 1)[0]
    weights = ((cal.get("causes") or {}).get(cause) or {}).get("weights") or {}
    return float(weights.get(key, declared))


def fitted_prior(cause: str, declared: float) -> float:
    """The prior log-odds in force for ``cause``."""
    cal = calibration()
    if cal.get("method") != "weights":
        return declared
    return float(((cal.get("causes") or {}).get(cause) or {}).get("prior", declared))


def calibrated(cause: str, logit: float, cap: float = 1.0) -> float:
    """The probability-like score of ``cause`` for an evidence sum ``logit``, at most ``cap``."""
    params = (calibration().get("causes") or {}).get(cause) or {}
    if calibration().get("method") == "platt":
        logit = float(params.get("a", 1.0)) * logit + float(params.get("b", 0.0))
    return min(cap, MAX_SCORE / (1.0 + math.exp(-max(-30.0, min(30.0, logit)))))


def joint_scores(weighed: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Scores of every weighed cause of one run, from its ``(logit, cap)``.

    Per cause (:func:`calibrated`) unless the calibration is ``"softmax"``: then the causes
    compete with each other and with "healthy", so their scores sum to at most 1.

    Example:
        >>> s = joint_scores({"overfitting": (2.0, 1.0), "label_noise": (-1.0, 1.0)})
        >>> s["overfitting"] > s["label_noise"]
        True
    """
    cal = calibration()
    if cal.get("method") != "softmax":
        return {cause: calibrated(cause, logit, cap) for cause, (logit, cap) in weighed.items()}
    params = cal.get("causes") or {}
    z = {cause: float((params.get(cause) or {}).get("a", 1.0)) * max(-30.0, min(30.0, logit))
         + float((params.get(cause) or {}).get("b", 0.0)) for cause, (logit, _) in weighed.items()}
    top = max([0.0, *z.values()])
    denominator = math.exp(-top) + sum(math.exp(v - top) for v in z.values())
    return {cause: min(weighed[cause][1], MAX_SCORE * math.exp(z[cause] - top) / denominator)
            for cause in weighed}
