"""Are the validation labels shifted against their inputs from some row on?

A dropped or duplicated row in one of two files joined by position misaligns every label
after it: from that row on, the model's prediction for row ``i`` agrees with the label of
row ``i + s`` (a neighbour) instead of its own. Healthy data never shows this: there a
prediction agrees with its own label at least as often as with a random other one. Rows
sorted by class (neighbours share labels) make the two agreements equal: no signal, and no
false alarm.

Example:
    >>> labels = np.random.default_rng(0).integers(0, 4, 80)
    >>> pred = labels.copy()                           # a model that is always right
    >>> shifted = np.r_[labels[:30], labels[31:], 0]   # one row dropped at row 30
    >>> found = row_offset(shifted, pred, np.arange(80))
    >>> found.shift, found.start
    (-1, 30)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHIFTS = (-3, -2, -1, 1, 2, 3)  # a few dropped or repeated rows; larger ones look random
MIN_ROWS = 20  # a suffix shorter than this cannot carry a misalignment story


@dataclass(frozen=True)
class RowOffset:
    """The strongest misalignment found: labels of row ``i + shift`` match predictions of
    row ``i`` from row ``start`` (a position in the validation data) on.

    ``z`` is McNemar's statistic over the rows from ``start``: (neighbour-only agreements
    minus own-only agreements) / sqrt(their sum). ``own`` and ``neighbour`` are the two
    agreement rates over those rows; ``rows`` how many were compared.
    """

    shift: int
    start: int
    z: float
    own: float
    neighbour: float
    rows: int


def row_offset(labels: np.ndarray, pred: np.ndarray, index: np.ndarray | None = None) -> RowOffset | None:
    """The best (shift, start row) by McNemar z over the suffix, or None without enough rows.

    ``index`` gives each sample's position in the validation data (a sample of it may skip
    rows; only pairs of rows that are really ``shift`` apart are compared).
    """
    labels, pred = np.asarray(labels).astype(int), np.asarray(pred).astype(int)
    index = np.arange(len(labels)) if index is None else np.asarray(index).astype(int)
    if len(labels) != len(pred) or len(labels) != len(index) or len(labels) < MIN_ROWS:
        return None
    position = {int(p): i for i, p in enumerate(index)}
    best: RowOffset | None = None
    for shift in SHIFTS:
        rows = np.array([i for i, p in enumerate(index) if int(p) + shift in position])
        if len(rows) < MIN_ROWS:
            continue
        other = np.array([position[int(index[i]) + shift] for i in rows])
        own = pred[rows] == labels[rows]
        neighbour = pred[rows] == labels[other]
        diff = neighbour.astype(int) - own.astype(int)
        # suffix sums: what the rows from each candidate start on say
        excess = np.cumsum(diff[::-1])[::-1]
        discordant = np.cumsum(np.abs(diff)[::-1])[::-1]
        count = np.arange(len(rows), 0, -1)
        z = np.where((count >= MIN_ROWS) & (discordant > 0), excess / np.sqrt(np.maximum(discordant, 1)), -np.inf)
        k = int(np.argmax(z))
        if not np.isfinite(z[k]):
            continue
        found = RowOffset(shift=shift, start=int(index[rows[k]]), z=float(z[k]),
                          own=float(own[k:].mean()), neighbour=float(neighbour[k:].mean()),
                          rows=int(count[k]))
        if best is None or found.z > best.z:
            best = found
    return best
