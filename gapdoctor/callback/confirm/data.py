"""The training and validation data as arrays, for retraining: ``(x, y)`` tuples, a finite
``tf.data.Dataset`` or a ``keras.utils.PyDataset`` of batches.

Example:
    >>> import numpy as np
    >>> x, y, w = as_arrays((np.zeros((4, 2)), np.arange(4)), "train_data")
    >>> x.shape, w is None
    ((4, 2), True)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from gapdoctor.errors import GapDoctorError

# Retraining on more than this many samples would cost more than the budget allows anyway;
# a larger data set is subsampled (and the report says so).
MAX_SAMPLES = 200_000


def _concat(batches: list[Any]) -> Any:
    return keras.tree.map_structure(lambda *parts: np.concatenate(parts), *batches)


def as_arrays(data: Any, what: str) -> tuple[Any, np.ndarray, np.ndarray | None]:
    """``(x, y, sample_weight or None)`` as numpy arrays (x may be a dict/list of arrays).

    Raises:
        GapDoctorError: the data is missing, infinite or of an unsupported kind.
    """
    if data is None:
        raise GapDoctorError(f"confirmation needs `{what}`: pass it to GapDoctor(...) or to "
                             "doctor.confirm(...), as (x, y) arrays, a tf.data.Dataset or a "
                             "PyDataset")
    if isinstance(data, (tuple, list)) and len(data) in (2, 3):
        parts = [keras.tree.map_structure(np.asarray, p) for p in data]
        return parts[0], np.asarray(parts[1]), (np.asarray(parts[2]) if len(parts) == 3 else None)
    batches: list[Any] = []
    if isinstance(data, keras.utils.PyDataset):
        n = len(data)
        batches = [data[i] for i in range(n)]
    elif type(data).__module__.startswith("tensorflow"):
        import tensorflow as tf

        if data.cardinality() == tf.data.INFINITE_CARDINALITY:
            raise GapDoctorError(f"`{what}` is an infinite tf.data.Dataset (repeat()?): "
                                 "confirmation needs one pass over it; pass it without repeat()")
        total = 0
        for batch in data.as_numpy_iterator():
            batches.append(batch)
            total += len(keras.tree.flatten(batch[0] if isinstance(batch, tuple) else batch)[0])
            if total >= MAX_SAMPLES:
                break
    else:
        raise GapDoctorError(f"`{what}` must be (x, y) arrays, a tf.data.Dataset or a "
                             f"PyDataset for confirmation; received {type(data).__name__}")
    if not batches or not isinstance(batches[0], (tuple, list)) or len(batches[0]) < 2:
        raise GapDoctorError(f"`{what}` must yield (x, y) or (x, y, sample_weight) batches "
                             "for confirmation")
    whole = _concat([tuple(b) for b in batches])
    return whole[0], np.asarray(whole[1]), (np.asarray(whole[2]) if len(whole) > 2 else None)


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
