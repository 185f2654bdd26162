"""Is each fresh3 source learnable? scikit-learn 3-fold CV accuracies (the README's table),
computed before any fresh3 run was trained (no Keras, no gapdoctor).

    python benchmarks/fresh3/learnable.py

Shuffled, stratified 3-fold CV of a logistic regression, an MLP and gradient boosting on the
raw inputs (z-scored), and for the generated sources also on a simple summary that shows
what carries the label (windowed amplitude; bag of words + negated polar words).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np

from benchmarks.fresh3.sources import FRESH3_SOURCES


def _models() -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {"logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
            "MLP": make_pipeline(StandardScaler(), MLPClassifier(
                (128,), max_iter=400, early_stopping=True, random_state=0)),
            "boosting": HistGradientBoostingClassifier(random_state=0)}


def cv(x: np.ndarray, y: np.ndarray) -> str:
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    return ", ".join(f"{name} {cross_val_score(m, x, y, cv=folds).mean():.2f}"
                     for name, m in _models().items())


def summaries(name: str, x: np.ndarray) -> tuple[str, np.ndarray] | None:
    if name == "envelope":   # mean |x - row mean| in 14 windows of 8 steps
        a = np.abs(x[..., 0] - x[..., 0].mean(1, keepdims=True))
        return "|x| in 14 windows", a.reshape(len(a), 14, 8).mean(2)
    if name == "tokens_polarity":   # bag of words, plus counts of negated polar ids
        rows = np.repeat(np.arange(len(x)), x.shape[1])
        bow = np.zeros((len(x), 200))
        np.add.at(bow, (rows, x.ravel()), 1)
        prev, cur = x[:, :-1], x[:, 1:]
        hit = (prev >= 26) & (prev <= 28) & (cur < 26)
        neg = np.zeros((len(x), 26))
        np.add.at(neg, (np.nonzero(hit)[0], cur[hit]), 1)
        return "bag of words + negated polar ids", np.hstack([bow, neg])
    return None


def main() -> int:
    warnings.filterwarnings("ignore")
    for name, make in FRESH3_SOURCES.items():
        src = make(0)
        x = src.x.reshape(len(src.y), -1).astype(float)
        majority = np.bincount(src.y).max() / len(src.y)
        if name == "tokens_polarity":
            found = summaries(name, src.x)
            assert found is not None
            print(f"{name}: majority {majority:.2f}; bag of words: {cv(found[1][:, :200], src.y)}")
        else:
            print(f"{name}: majority {majority:.2f}; raw: {cv(x, src.y)}")
        extra = summaries(name, src.x)
        if extra is not None:
            print(f"  {extra[0]}: {cv(extra[1], src.y)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
