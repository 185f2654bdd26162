"""Is each fresh16 source learnable? scikit-learn 3-fold CV accuracies (the README's table),
run after the full training (no Keras, no gapdoctor); see the README.

    python benchmarks/fresh16/learnable.py

Shuffled, stratified 3-fold CV of a logistic regression, an MLP and gradient boosting (the
models and folds of ``benchmarks/fresh3/learnable.py``) on the raw inputs (z-scored; tokens:
bag of words), with the majority rate.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.fresh5.learnable import main as print_cv
from benchmarks.fresh16.sources import FRESH16_SOURCES


def main() -> int:
    return print_cv(FRESH16_SOURCES)


if __name__ == "__main__":
    raise SystemExit(main())
