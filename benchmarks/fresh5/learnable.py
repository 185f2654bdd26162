"""Is each fresh5 source learnable? scikit-learn 3-fold CV accuracies (the README's table),
computed before any fresh5 run was trained (no Keras, no gapdoctor).

    python benchmarks/fresh5/learnable.py

Shuffled, stratified 3-fold CV of a logistic regression, an MLP and gradient boosting (the
models and folds of ``benchmarks/fresh3/learnable.py``) on the raw inputs (z-scored; tokens:
bag of words), with the majority rate.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np

from benchmarks.fresh3.learnable import cv
from benchmarks.fresh5.sources import FRESH5_SOURCES


def _bag(x: np.ndarray, vocab: int) -> np.ndarray:
    rows = np.repeat(np.arange(len(x)), x.shape[1])
    bow = np.zeros((len(x), vocab))
    np.add.at(bow, (rows, x.ravel()), 1)
    return bow


def main(sources: dict | None = None) -> int:
    """Print each source's CV line (``sources``: name -> maker; fresh5's by default)."""
    warnings.filterwarnings("ignore")
    for name, make in (FRESH5_SOURCES if sources is None else sources).items():
        src = make(0)
        majority = np.bincount(src.y).max() / len(src.y)
        x = (_bag(src.x, src.vocab) if src.layout == "tokens"
             else src.x.reshape(len(src.y), -1).astype(float))
        print(f"{name}: rows {len(src.y)}, classes {src.n_classes} (imbalance "
              f"{src.imbalance:.1f}), majority {majority:.2f}; {cv(x, src.y)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
