"""Is each fresh4 source learnable? scikit-learn 3-fold CV accuracies (the README's table),
computed before any fresh4 run was trained (no Keras, no gapdoctor).

    python benchmarks/fresh4/learnable.py

Shuffled, stratified 3-fold CV of a logistic regression, an MLP and gradient boosting on the
raw inputs (z-scored), and for the generated sources also on a simple summary that shows
what carries the label (mirror differences; value and step histograms; number-word count and sum).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np

from benchmarks.fresh3.learnable import cv  # the same three models and folds as fresh3's table
from benchmarks.fresh4.sources import FRESH4_SOURCES


def _bag(x: np.ndarray, vocab: int) -> np.ndarray:
    rows = np.repeat(np.arange(len(x)), x.shape[1])
    bow = np.zeros((len(x), vocab))
    np.add.at(bow, (rows, x.ravel()), 1)
    return bow


def summaries(name: str, x: np.ndarray) -> tuple[str, np.ndarray] | None:
    if name == "symmetry16":   # mean |x - mirror(x)| for the three symmetries
        img = x[..., 0]
        return "3 mirror differences", np.column_stack([
            np.abs(img - m).mean((1, 2)) for m in
            (img[:, :, ::-1], img[:, ::-1, :], img[:, ::-1, ::-1])])
    if name == "distortion":   # histograms of row-scaled values and of |steps|
        s = x[..., 0]
        s = (s - s.min(1, keepdims=True)) / np.ptp(s, 1, keepdims=True)
        d = np.abs(np.diff(s, axis=1))
        vals = np.stack([np.histogram(r, 12, (0, 1))[0] for r in s])
        steps = np.stack([np.histogram(r, 12, (0, 0.12))[0] for r in d])
        return "value + |step| histograms", np.hstack([vals, steps])
    if name == "tokens_sum":   # how many number words, and their sum
        digits = np.where((x >= 2) & (x <= 11), x - 2, -1)
        return "number-word count + sum", np.column_stack([(digits >= 0).sum(1),
                                                           np.where(digits >= 0, digits, 0).sum(1)])
    return None


def main() -> int:
    warnings.filterwarnings("ignore")
    for name, make in FRESH4_SOURCES.items():
        src = make(0)
        x = src.x.reshape(len(src.y), -1).astype(float)
        majority = np.bincount(src.y).max() / len(src.y)
        if name == "tokens_sum":
            print(f"{name}: majority {majority:.2f}; bag of words: {cv(_bag(src.x, 200), src.y)}")
        else:
            print(f"{name}: majority {majority:.2f}; raw: {cv(x, src.y)}")
        extra = summaries(name, src.x)
        if extra is not None:
            print(f"  {extra[0]}: {cv(extra[1], src.y)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
