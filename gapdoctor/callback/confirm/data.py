"""The training and validation data as arrays, for retraining: ``(x, y)`` tuples, a finite
``tf.data.Dataset`` or a ``keras.utils.PyDataset`` of batches.

Example:
    >>> import numpy as np
    >>> x, y, w = as_arrays((np.zeros((4, 2)), np.arange(4)), "train_data")
    >>> x.shape, w is None
    ((4, 2), True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from gapdoctor.callback.data_sampling import read_source
from gapdoctor.errors import GapDoctorError

# Retraining on more than this many samples would cost more than the budget allows anyway:
# of a larger dataset, the first 200,000 samples are used.
MAX_SAMPLES = 200_000


def as_arrays(data: Any, what: str, labels: Callable[[Any], Any] | None = None
              ) -> tuple[Any, np.ndarray, np.ndarray | None]:
    """``(x, y as given, sample_weight or None)`` as numpy arrays, read by the same reader
    as the probes (``read_source``: arrays, tf.data, PyDataset; a repeating dataset is read
    once). ``labels`` picks a several-output model's followed labels (and weights).

    Raises:
        GapDoctorError: the data is missing or cannot be read, with the reader's reason.
    """
    if data is None:
        raise GapDoctorError(f"confirmation needs `{what}`: pass it to GapDoctor(...) or to "
                             "doctor.confirm(...), as (x, y) arrays, a tf.data.Dataset or a "
                             "PyDataset")
    try:
        sample = read_source(data, limit=MAX_SAMPLES, what=what, labels=labels)
    except (TypeError, ValueError) as exc:
        raise GapDoctorError(f"confirmation cannot read `{what}`: {exc}") from exc
    weights = (data[2] if isinstance(data, (tuple, list)) and len(data) == 3 else None)
    if weights is not None and labels is not None:
        weights = labels(weights)
    weights = np.asarray(weights) if weights is not None else None
    return sample.x, np.asarray(sample.y), weights


def n_rows(x: Any) -> int:
    return len(keras.tree.flatten(x)[0])


def take(x: Any, rows: np.ndarray) -> Any:
    """Rows of x (an array or a structure of arrays)."""
    return keras.tree.map_structure(lambda a: np.asarray(a)[rows], x)


def class_ids(y: np.ndarray) -> np.ndarray:
    """Integer class ids from integer labels, one-hot rows or 0/1 floats."""
    y = np.asarray(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        return y.argmax(axis=-1).reshape(-1)
    return np.rint(y.reshape(-1)).astype(int)


def stratified_sample(labels: np.ndarray, rows: np.ndarray, n: int,
                      rng: np.random.Generator) -> np.ndarray:
    """``n`` of ``rows``, drawn at random with each class's share of ``rows`` kept (sorted)."""
    rows = np.asarray(rows)
    n = min(int(n), len(rows))
    if n <= 0:
        return rows[:0]
    sub = np.asarray(labels)[rows]
    classes, counts = np.unique(sub, return_counts=True)
    exact = counts * n / len(rows)
    quota = np.floor(exact).astype(int)
    quota[np.argsort(quota - exact)[: n - quota.sum()]] += 1   # largest remainders first
    picked = [rng.choice(rows[sub == k], q, replace=False)
              for k, q in zip(classes, quota, strict=True)]
    return np.sort(np.concatenate(picked))
