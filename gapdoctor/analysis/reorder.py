"""Validation columns in another order than training's: which pairing of columns fits best,
and whether putting them back restores a simple model's accuracy.

A frame re-ordered before ``.values``, a feature list sorted in one script only: the
validation inputs are the right numbers in the wrong columns. Each column gets a
fingerprint (its quantiles and, with labels, its sorted class means); the cheapest pairing
of validation columns with training columns is found with the Hungarian algorithm.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gapdoctor.analysis.features import _standardize

# A best pairing this much cheaper than two halves of training is beyond sampling noise
# (the lowest of 136 development runs without reordering: 0.76); from 0.9 it is noise.
TRUSTED, UNTRUSTED = 0.7, 0.9


class Reorder(NamedTuple):
    """``ratio``: best-pairing / own-pairing cost over the same for two halves of training
    (1 = no better than sampling noise); ``moved``: columns the best pairing moves;
    ``regained``: a linear reference model's validation accuracy with the columns put in
    the best pairing's order minus as given (NaN without labels)."""

    ratio: float
    moved: int
    regained: float = float("nan")

    @property
    def trust(self) -> float:
        """1 when the best pairing is beyond sampling noise, 0 when it is noise: columns put
        'back' in an order no better than two halves of training differ by chance."""
        return float(np.clip((UNTRUSTED - self.ratio) / (UNTRUSTED - TRUSTED), 0.0, 1.0))

    @property
    def trust_reason(self) -> str:
        return f"pairing ratio {self.ratio:.2f} (full at {TRUSTED}, none from {UNTRUSTED})"


def _fingerprints(x: np.ndarray, y: np.ndarray | None,
                  classes: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Per column: its quantiles (5..95 %) and, with labels, its class means sorted by size
    (sorted, so that labels remapped between splits still match)."""
    quantiles = np.percentile(x, (5, 25, 50, 75, 95), axis=0).T
    if y is None or len(classes) < 2:
        return quantiles, None
    means = np.stack([x[y == c].mean(0) for c in classes], axis=1)
    return quantiles, np.sort(means, axis=1)


def _pairing(a_x: np.ndarray, b_x: np.ndarray, a_y: np.ndarray | None = None,
             b_y: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """(optimal / identity cost, for each of ``a``'s columns the ``b`` column paired with it).
    The cost of a pair is in units of the two columns' mean standard deviation (a
    near-constant column paired with itself costs little, with a varying one a lot)."""
    from scipy.optimize import linear_sum_assignment

    identity_order = np.arange(a_x.shape[1])
    classes = np.array([])
    if a_y is not None and b_y is not None:
        # only classes with a few rows on both sides: a class mean of 1-2 rows is noise
        ca, na = np.unique(a_y, return_counts=True)
        cb, nb = np.unique(b_y, return_counts=True)
        classes = np.intersect1d(ca[na >= 3], cb[nb >= 3])
    qa, ma = _fingerprints(a_x, a_y, classes)
    qb, mb = _fingerprints(b_x, b_y, classes)
    unit = (a_x.std(0)[:, None] + b_x.std(0)[None, :])[:, :, None] / 2 + 1e-12
    cost = np.abs((qa[:, None, :] - qb[None, :, :]) / unit).mean(axis=2)
    if ma is not None and mb is not None:
        cost = cost + np.abs((ma[:, None, :] - mb[None, :, :]) / unit).mean(axis=2)
    if not np.isfinite(cost).all():
        return 1.0, identity_order
    rows, cols = linear_sum_assignment(cost)
    identity = float(np.trace(cost))
    if identity <= 1e-9:
        return 1.0, identity_order
    return float(cost[rows, cols].sum() / identity), cols


def _class_ids(labels: object, n: int) -> np.ndarray | None:
    """``labels`` as ``n`` integer class ids, or None when they are not (a damaged record:
    another length, strings, non-finite values, more than one column)."""
    y = np.asarray(labels) if labels is not None else None
    if (y is None or y.ndim != 1 or len(y) != n or not np.issubdtype(y.dtype, np.number)
            or not np.isfinite(y).all()):
        return None
    return np.rint(y).astype(int)


def _regained(x_tr: np.ndarray, y_tr: np.ndarray, x_va: np.ndarray, y_va: np.ndarray,
              order: np.ndarray) -> float:
    """Validation accuracy of a logistic regression fitted on training, with validation's
    columns in ``order`` minus as given: the practitioner's check of a suspected reordering."""
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(y_tr)) < 2:
        return float("nan")
    model = LogisticRegression(C=0.5, max_iter=200).fit(_standardize(x_tr, x_tr), y_tr)
    as_given = np.mean(model.predict(_standardize(x_va, x_tr)) == y_va)
    put_back = np.mean(model.predict(_standardize(x_va[:, order], x_tr)) == y_va)
    return float(put_back - as_given)


def column_reorder(x_train: np.ndarray, x_val: np.ndarray, y_train: np.ndarray | None = None,
                   y_val: np.ndarray | None = None) -> Reorder:
    """How much better validation columns match *other* training columns than their own.

    Each column is summarised by its quantiles (5..95 %) and, when labels are given, by its
    per-class means (sorted). Class means tell standardised columns apart, whose quantiles
    alone look alike. The ratio of the best pairing's cost to the own pairing's is divided
    by the same ratio between two halves of the training data (columns that are
    exchangeable, like time steps of a signal, pair up well with others anyway): near 0
    with several columns moved means the validation columns were reordered.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(400, 4)) * [1, 2, 4, 8] + [0, 5, -5, 10]
        >>> found = column_reorder(x, x[:, [1, 0, 3, 2]])
        >>> found.ratio < 0.2, found.moved
        (True, 4)
    """
    x_train = np.nan_to_num(np.asarray(x_train, float))
    x_val = np.nan_to_num(np.asarray(x_val, float))
    y_tr, y_va = _class_ids(y_train, len(x_train)), _class_ids(y_val, len(x_val))
    if y_tr is None or y_va is None:
        y_tr = y_va = None
    ratio, order = _pairing(x_train, x_val, y_tr, y_va)
    moved = int((order != np.arange(len(order))).sum())
    half = len(x_train) // 2
    base = 1.0
    if half >= 10:
        base, _ = _pairing(x_train[:half], x_train[half:],
                           None if y_tr is None else y_tr[:half],
                           None if y_tr is None else y_tr[half:])
    regained = float("nan")
    if y_tr is not None and y_va is not None and moved >= 2:
        regained = _regained(x_train, y_tr, x_val, y_va, order)
    return Reorder(min(1.0, ratio / max(base, 1e-9)), moved, regained)
