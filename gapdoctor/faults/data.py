"""Offline datasets for fault cases: scikit-learn's digits and generated tabular data."""

from __future__ import annotations

import numpy as np

DATASETS = ("digits", "tabular")


def load_dataset(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Features (float32, 2-D), integer labels and the number of classes.

    ``digits``: 1,797 8x8 images scaled to [0, 1], 10 classes. ``tabular``: 2,400 samples of
    20 features (8 informative), 5 classes, from ``make_classification``.
    """
    if name == "digits":
        from sklearn.datasets import load_digits

        data = load_digits()
        return (data.data / 16.0).astype("float32"), data.target.astype("int64"), 10
    if name == "tabular":
        from sklearn.datasets import make_classification

        x, y = make_classification(n_samples=2400, n_features=20, n_informative=8,
                                   n_redundant=4, n_classes=5, n_clusters_per_class=2,
                                   class_sep=1.6, flip_y=0.0, random_state=seed)
        x = (x - x.mean(0)) / x.std(0)
        return x.astype("float32"), y.astype("int64"), 5
    raise ValueError(f"Unknown dataset. Expected one of {DATASETS}. Received: {name!r}")


def subsample(x: np.ndarray, y: np.ndarray, n: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A stratified random subset of ``n`` rows (every class kept when n allows)."""
    from sklearn.model_selection import train_test_split

    if n >= len(y):
        return x, y
    seed = int(rng.integers(0, 2**31 - 1))
    _, x_small, _, y_small = train_test_split(x, y, test_size=n, stratify=y, random_state=seed)
    return x_small, y_small


def take_rows(x: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` rows whose every feature is drawn from a different random row of ``x``.

    The result keeps each feature's marginal distribution but no relation between features.
    """
    picks = rng.integers(0, len(x), size=(n, x.shape[1]))
    return x[picks, np.arange(x.shape[1])]
