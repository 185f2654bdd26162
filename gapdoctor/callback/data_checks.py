"""Checks of the data handed to GapDoctor, with messages that say what was received and what
is expected, and the detection of a stream that repeats its samples (``.repeat()``).

Example:
    >>> labels_array(np.array(["cat", "dog"]), "validation_data")   # doctest: +SKIP
    TypeError: validation_data: the labels are strings (e.g. 'cat'); expected ...
"""

from __future__ import annotations

import hashlib
from typing import Any

import keras
import numpy as np

EXPECTED_LABELS = ("one label per sample: integer class indices, one-hot rows or 0/1 values "
                   "(the labels the model is trained on)")


def labels_array(y: Any, what: str, batched: bool = False) -> np.ndarray:
    """``y`` as a numeric array with one row per sample.

    Raises:
        TypeError: ``y`` is a dict or a tuple of arrays (several outputs), a single value,
            or holds strings.
    """
    if isinstance(y, dict):
        raise TypeError(f"{what}: the labels are a dict with keys {sorted(map(str, y))[:5]} "
                        f"(a model with several outputs?); expected {EXPECTED_LABELS}. "
                        "For a model with several outputs, GapDoctor(output=...) names the "
                        "one to follow.")
    if isinstance(y, tuple) and len(y) > 1 and \
            all(isinstance(v, np.ndarray) and v.ndim >= 1 for v in y):
        raise TypeError(f"{what}: the labels are a {type(y).__name__} of {len(y)} arrays (a "
                        f"model with several outputs?); expected {EXPECTED_LABELS}.")
    array = np.asarray(y)
    if array.ndim == 0:
        if batched:
            raise TypeError(f"{what} yields single samples (a label of shape () per "
                            "element), not batches: an unbatched tf.data.Dataset? Pass it "
                            "batched, e.g. dataset.batch(64).")
        raise TypeError(f"{what}: y is a single value ({array.item()!r}); expected "
                        f"{EXPECTED_LABELS}.")
    if array.dtype.kind in "USO":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            example = next(iter(array.reshape(-1).tolist()), None)
            raise TypeError(f"{what}: the labels are strings or objects (e.g. {example!r}); "
                            f"expected {EXPECTED_LABELS}. Encode them first, e.g. with "
                            "sklearn.preprocessing.LabelEncoder.") from None
    return array


def check_batch(x: Any, y: np.ndarray, what: str) -> None:
    """One label per input row in a batch of a dataset."""
    first = keras.tree.flatten(x)[0]
    n_x = len(first) if np.ndim(first) else 0
    if n_x != len(y):
        raise ValueError(f"{what} yields batches of {n_x} inputs with {len(y)} labels; "
                         "expected (x, y) batches with one label per input row. An unbatched "
                         "tf.data.Dataset? Pass it batched, e.g. dataset.batch(64).")


def _by_content(a: Any) -> np.ndarray:
    """``a`` as an array whose bytes are its values: text from tf.data arrives as an object
    array, whose bytes would be pointers (every row distinct)."""
    a = np.asarray(a)
    return a.astype(str) if a.dtype.kind == "O" else a


def row_keys(x: Any, y: np.ndarray) -> list[bytes]:
    """A digest of every sample (its inputs and label), equal for equal samples."""
    leaves = [np.ascontiguousarray(_by_content(a)).reshape(len(y), -1)
              for a in keras.tree.flatten(x)] + [np.ascontiguousarray(y).reshape(len(y), -1)]
    keys = []
    for i in range(len(y)):
        digest = hashlib.blake2b(digest_size=16)
        for leaf in leaves:
            digest.update(leaf[i].tobytes())
        keys.append(digest.digest())
    return keys


def stream_period(keys: list[bytes]) -> int | None:
    """The smallest p such that the stream is row p-periodic (sample i equals sample i + p
    for every i read), or None. Needs the first sample to reappear."""
    n = len(keys)
    for p in range(1, n):
        if keys[p] == keys[0] and keys[p:] == keys[:n - p]:
            return p
    return None


def repeated_rows(keys: list[bytes], what: str) -> tuple[np.ndarray, bool, str] | None:
    """When a stream repeats its samples: the rows to keep (each sample once), whether they
    are the whole dataset, and a note saying so. None when the samples do not repeat.

    An exact cycle (``.repeat()`` without reshuffling) is cut at its period: those rows are
    the whole dataset. Otherwise, when at least half the rows read are repeats (a reshuffled
    repeat), the first occurrence of each sample is kept. A few exact duplicates are left
    alone: they are a property of the data, and the duplicate checks report them.
    """
    n = len(keys)
    period = stream_period(keys)
    if period is not None:
        return (np.arange(period, dtype=np.int64), True,
                f"The {what} repeats after {period} samples (an endless dataset, e.g. "
                f".repeat()): its {period} distinct samples were used, each once, instead of "
                f"the {n} read.")
    first: dict[bytes, int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    if len(first) > n // 2:
        return None
    rows = np.sort(np.fromiter(first.values(), dtype=np.int64))
    return (rows, False,
            f"The {what} repeats samples: of the {n} samples read, only {len(rows)} are "
            "distinct (a repeated, reshuffled dataset?). Each distinct sample was used once.")
