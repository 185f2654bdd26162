"""Validation rows that no training row resembles, named so that a user can look at them.

A domain classifier says *that* the splits differ; the next question is *which* validation
rows differ. On the pooled samples, standardised with the training statistics, a validation
row counts as outside the training data when either

- not one of its ``K`` nearest neighbours is a training row (a dense region of its own, such
  as inverted images): with alike splits each neighbour is a training row about as often as
  the training share of the pool, so this happens by chance with probability about
  ``(1 - training share) ** K``, 3e-5 at equal splits; or
- its nearest training row is more than twice as far as any training row's nearest other
  training row (a sparse scatter, such as values 100 times too large): with alike splits
  that distance is exchangeable with the training rows' own, so a row exceeds their maximum
  with probability about ``1 / (n_train + 1)``, and twice it far less often (none of 128
  healthy benchmark runs had 3 such rows; at the maximum itself 16 of 128 did, the count
  past a sample's maximum being as variable as that maximum).

``expected`` adds both chances up over the validation rows (the second at its bound). The
rows are ranked by the distance to their nearest training row, in units of the typical
(median) distance between a training row and its nearest training neighbour.

Example:
    >>> rng = np.random.default_rng(0)
    >>> x_train = rng.normal(size=(300, 4))
    >>> x_val = np.r_[rng.normal(size=(200, 4)), rng.normal(size=(100, 4)) + 8.0]
    >>> found = off_support(x_train, x_val)
    >>> found.n_off, found.rows[0] >= 200
    (100, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Neighbours read per validation row: at equal splits a row with alike data has none of 15
# from training once in 30,000; the domain classifier's nearest-neighbour vote reads as many.
K = 15
# A sparse row counts from twice the farthest training row's gap to its nearest neighbour
# (module docstring): clear of where alike splits put their extremes.
BEYOND = 2.0
_CHUNK = 1024  # validation rows per block of distances (bounds memory on large samples)


@dataclass
class OffSupport:
    """Validation rows outside the training data: no training row among their ``k`` nearest
    neighbours, or a nearest training row beyond ``BEYOND`` times the training rows' own gaps."""

    n_val: int  # validation rows examined (the recorded sample)
    n_off: int  # of them, outside the training data
    expected: float  # how many alike splits would give, by chance
    k: int
    rows: list[int] = field(default_factory=list)  # validation sample indices, farthest first
    distances: list[float] = field(default_factory=list)  # nearest training row, in typical gaps

    @property
    def share(self) -> float:
        return self.n_off / self.n_val if self.n_val else float("nan")

    def described(self, listed: int = 8) -> str:
        """One line for the user, e.g. ``"312 of 500 (62%; alike splits: about 0), the
        farthest rows 17, 4 and 310 more"``."""
        head = (f"{self.n_off} of {self.n_val} ({self.share:.0%}; alike splits: about "
                f"{self.expected:.0f})")
        if not self.rows:
            return head
        shown = [str(r) for r in self.rows[:listed]]
        rest = self.n_off - len(shown)
        rows = f"{', '.join(shown)} and {rest} more" if rest > 0 else (
            ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0])
        return f"{head}, the farthest {'rows' if len(shown) > 1 else 'row'} {rows}"


def _squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pairwise squared Euclidean distances, rows of ``x`` by rows of ``y`` (numpy: a
    neighbour search of a thousand rows needs no index, nor scikit-learn's thread pools)."""
    d = (x ** 2).sum(1)[:, None] + (y ** 2).sum(1)[None, :] - 2.0 * (x @ y.T)
    return np.maximum(d, 0.0)


def off_support(x_train: np.ndarray, x_val: np.ndarray, val_index: np.ndarray | None = None,
                k: int = K) -> OffSupport | None:
    """The validation rows outside the training data (module docstring), or None when the
    samples are too small to read (fewer than ``2 k`` rows in either split) or not numeric."""
    try:
        a = np.asarray(x_train, dtype=float).reshape(len(x_train), -1)
        b = np.asarray(x_val, dtype=float).reshape(len(x_val), -1)
    except (TypeError, ValueError):  # text, or rows of uneven length
        return None
    if a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2 * k or a.shape[1] == 0:
        return None
    a, b = np.nan_to_num(a, posinf=0, neginf=0), np.nan_to_num(b, posinf=0, neginf=0)
    sd = a.std(0)
    # training statistics: a validation column on another scale stays on it
    scale = np.where(sd > 0, sd, 1.0)
    # float32 from here: distances need no more, and the products run twice as fast
    a, b = ((a - a.mean(0)) / scale).astype(np.float32), ((b - a.mean(0)) / scale).astype(np.float32)
    train_gap = _squared_distances(a, a)
    np.fill_diagonal(train_gap, np.inf)
    gap_train = np.sqrt(train_gap.min(1))  # each training row's nearest other one
    alone = np.zeros(len(b), dtype=bool)
    to_train = np.empty(len(b))
    for lo in range(0, len(b), _CHUNK):
        rows = b[lo:lo + _CHUNK]
        d_train, d_val = _squared_distances(rows, a), _squared_distances(rows, b)
        d_val[np.arange(len(rows)), np.arange(lo, lo + len(rows))] = np.inf  # not itself
        pooled = np.concatenate([d_train, d_val], axis=1)
        nearest = np.argpartition(pooled, k - 1, axis=1)[:, :k]
        alone[lo:lo + len(rows)] = (nearest >= len(a)).all(axis=1)
        to_train[lo:lo + len(rows)] = np.sqrt(d_train.min(1))
    beyond = to_train > BEYOND * gap_train.max()
    off = np.flatnonzero(alone | beyond)
    expected = len(b) * ((1 - len(a) / (len(a) + len(b) - 1)) ** k + 1 / (len(a) + 1))
    typical = float(np.median(gap_train[gap_train > 0])) if (gap_train > 0).any() else 1.0
    dist = to_train[off] / typical
    order = np.argsort(-dist, kind="stable")
    index = np.asarray(val_index) if val_index is not None and len(val_index) == len(b) else None
    rows = [int(index[off[i]]) if index is not None else int(off[i]) for i in order]
    return OffSupport(n_val=len(b), n_off=int(len(off)), expected=float(expected), k=k,
                      rows=rows, distances=[round(float(dist[i]), 2) for i in order])
