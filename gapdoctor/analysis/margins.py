"""Training dynamics per sample: area under the margin (AUM) and learn/forget events.

The margin of a sample is p(given label) minus the largest other class probability. A
sample whose margin stays negative on average (AUM < 0) kept being pulled towards another
class: the signature of a wrong label (Pleiss et al., 2020), or of a slice the model
cannot learn. Where those samples sit, per class, tells the two apart.

Example:
    >>> m = np.array([[-.5, .4], [-.4, .6], [-.2, .8]])
    >>> f = margin_facts(m, np.array([[0, 1]] * 3, bool), np.array([0, 1]), 2)
    >>> f.flagged_fraction
    0.5
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class MarginFacts:
    """Per-sample AUM summaries of the train probe."""

    n: int
    aum: np.ndarray
    flagged: np.ndarray
    flagged_fraction: float
    flagged_learned_late: float
    class_share_of_flagged: np.ndarray
    flagged_class_concentration: float
    top_flagged_classes: list[int] = field(default_factory=list)
    suspects: list[dict] = field(default_factory=list)


def margin_facts(margins: np.ndarray, correct: np.ndarray | None, labels: np.ndarray,
                 n_classes: int, index: np.ndarray | None = None,
                 predicted: np.ndarray | None = None, max_suspects: int = 25) -> MarginFacts:
    """Summarise per-epoch margins ``(E, P)`` of the train probe.

    ``flagged_class_concentration`` is the share of flagged samples that fall in the
    smallest set of classes holding 30 % of all classes: about 0.3 when flags spread
    evenly (uniform label noise), near 1 when they pile into a few classes (a slice the
    model cannot learn, or asymmetric noise).
    """
    margins = np.asarray(margins, dtype=float)
    finite_rows = np.isfinite(margins).all(axis=1)
    margins = margins[finite_rows] if finite_rows.any() else np.nan_to_num(margins)
    aum = margins.mean(axis=0)
    flagged = aum < 0
    n = len(aum)
    labels = np.asarray(labels).astype(int)[:n]
    late = np.nan
    if correct is not None and len(correct):
        correct = np.asarray(correct, bool)[finite_rows] if finite_rows.any() else np.asarray(correct, bool)
        if flagged.any():
            # learned late: correct at the end but not in the first third of training
            third = max(1, len(correct) // 3)
            late = float(np.mean(correct[-1, flagged] & ~correct[:third, flagged].any(axis=0)))
    counts = np.bincount(labels[flagged], minlength=n_classes).astype(float)
    share = counts / counts.sum() if counts.sum() else counts
    k = max(1, int(round(0.3 * n_classes)))
    order = np.argsort(-share)
    concentration = float(share[order[:k]].sum()) if counts.sum() else float("nan")
    suspects = []
    for i in np.argsort(aum)[: min(max_suspects, int(flagged.sum()))]:
        suspects.append({"index": int(index[i]) if index is not None else int(i),
                         "given": int(labels[i]),
                         "predicted": int(predicted[i]) if predicted is not None else None,
                         "aum": round(float(aum[i]), 4)})
    return MarginFacts(n=n, aum=aum, flagged=flagged, flagged_fraction=float(flagged.mean()),
                       flagged_learned_late=late,
                       class_share_of_flagged=share, flagged_class_concentration=concentration,
                       top_flagged_classes=[int(c) for c in order[:k] if counts[c] > 0],
                       suspects=suspects)
