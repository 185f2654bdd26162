"""Do the training batches mix the classes?

``fit(..., shuffle=False)`` feeds array rows in their stored order. Rows stored class by class
(concatenated per-class files, a table sorted by its label) then make batches of one class:
each step pulls the model towards that class, the epoch ends pointing at the last one, and
the logged loss and accuracy describe batches, not the data. The callback records every
training label in stored order (``dyn_labels``, ``dyn_ids``), and ``fit``'s ``shuffle``.

Example:
    >>> mix = batch_mix(np.repeat([0, 1, 2], 100), batch_size=32)
    >>> round(mix.single_class, 2)
    0.8
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gapdoctor.record.schema import RunRecord


@dataclass(frozen=True)
class BatchMix:
    """How the stored order of the training labels fills batches."""

    single_class: float  # share of consecutive batches whose rows all carry one label
    expected: float  # the same share for the rows in random order (the class shares)
    batch_size: int
    n_batches: int


def batch_mix(labels: np.ndarray, batch_size: int) -> BatchMix | None:
    """Batches of ``batch_size`` consecutive ``labels`` (the last, partial one included);
    None for fewer than 2 batches or fewer than 2 classes."""
    labels = np.asarray(labels, dtype=float).ravel()
    if not np.isfinite(labels).all() or (labels != np.round(labels)).any() or (labels < 0).any():
        return None  # not class ids: nothing to say about batches
    labels = labels.astype(np.int64)
    n = len(labels)
    if batch_size < 2 or n < 2 * batch_size or len(np.unique(labels)) < 2:
        return None
    starts = np.arange(0, n, batch_size)
    ends = np.minimum(starts + batch_size, n)
    changes = np.r_[0, np.cumsum(labels[1:] != labels[:-1])]  # label changes up to each row
    single = changes[ends - 1] == changes[starts]
    shares = np.unique(labels, return_counts=True)[1] / n
    expected = float(np.sum(shares ** batch_size))  # all rows of one batch drawn from one class
    return BatchMix(single_class=float(single.mean()), expected=expected,
                    batch_size=int(batch_size), n_batches=len(starts))


def unshuffled_batches(run: RunRecord) -> BatchMix | None:
    """The batch mix of a run that fed its training rows unshuffled (``fit(shuffle=False)``)
    in the order the callback recorded; None when fit shuffled, or the order is unknown."""
    fit = run.meta.get("fit") or {}
    if fit.get("shuffle") is not False or not run.has("dyn_labels") or not run.has("dyn_ids"):
        return None
    ids, labels = np.asarray(run.arrays["dyn_ids"]), np.asarray(run.arrays["dyn_labels"])
    if len(labels) != len(ids) or not np.array_equal(ids, np.arange(len(ids))):
        return None  # a subsample, another order, or a broken record
    size = fit.get("batch_size")
    # fit's own default when the batch size was not given (or not readable)
    size = int(size) if isinstance(size, int) and not isinstance(size, bool) else 32
    return batch_mix(labels, size)
