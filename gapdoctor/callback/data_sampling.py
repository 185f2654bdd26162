"""Turn user data (numpy arrays, ``tf.data.Dataset``, ``keras.utils.PyDataset``) into bounded
numpy samples.

A dataset is read batch by batch and reading stops once enough samples were seen, so an
infinite (``.repeat()``) dataset is never iterated forever. Positions recorded for a dataset
are positions in its stream (the order of its first pass), which only map back to stored
data when the dataset is not reshuffled between passes.

Example:
    >>> s = read_source((np.zeros((10, 3)), np.arange(10) % 2), limit=4)   # doctest: +SKIP
    >>> s.n_rows, s.exhausted                                            # doctest: +SKIP
    (10, True)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
from sklearn.model_selection import train_test_split

from gapdoctor.callback.data_checks import check_batch, labels_array, repeated_rows, row_keys


@dataclass
class Sample:
    """Rows of a data source held in memory.

    ``x`` is an array (or a nest of arrays) with one row per sample, ``y`` the labels as
    given, ``index`` the position of each row in the source. ``n_total`` is the size of the
    whole source when known; ``exhausted`` says whether every sample of it was read.
    """

    x: Any
    y: np.ndarray
    index: np.ndarray
    kind: str
    n_total: int | None = None
    exhausted: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return int(len(self.y))

    def subset(self, rows: np.ndarray) -> Sample:
        """The sample restricted to ``rows`` (positions in this sample)."""
        rows = np.asarray(rows, dtype=np.int64)
        return Sample(x=take_rows(self.x, rows), y=self.y[rows], index=self.index[rows],
                      kind=self.kind, n_total=self.n_total, exhausted=self.exhausted,
                      notes=list(self.notes))


def _tensorflow() -> Any:
    """TensorFlow if this process already imported it, else None: a ``tf.data.Dataset`` can
    only exist once it was, so other backends never pay for (or need) TensorFlow."""
    return sys.modules.get("tensorflow")


def source_kind(data: Any) -> str | None:
    """'numpy', 'tf.data' or 'PyDataset' for a supported data source, else None."""
    tf = _tensorflow()
    if tf is not None and isinstance(data, tf.data.Dataset):
        return "tf.data"
    if isinstance(data, keras.utils.PyDataset):
        return "PyDataset"
    if isinstance(data, (tuple, list)) and len(data) in (2, 3):
        return "numpy"
    return None


def take_rows(x: Any, rows: np.ndarray) -> Any:
    """Rows of an array or of every array in a nest."""
    return keras.tree.map_structure(lambda a: np.asarray(a)[rows], x)


def n_rows_of(x: Any) -> int:
    return int(len(keras.tree.flatten(x)[0]))


def _split_element(element: Any, where: str) -> tuple[Any, Any]:
    if isinstance(element, (tuple, list)) and len(element) in (2, 3):
        return element[0], element[1]
    raise ValueError(f"{where} must yield (x, y) or (x, y, sample_weight) batches; "
                     f"received an element of type {type(element).__name__}")


def _to_numpy(value: Any) -> Any:
    return keras.tree.map_structure(lambda a: np.asarray(a), value)


def _concat(parts: list[Any]) -> Any:
    return keras.tree.map_structure(lambda *a: np.concatenate(a, axis=0), *parts)


def read_source(data: Any, limit: int, what: str = "data",
                labels: Callable[[Any], Any] | None = None) -> Sample:
    """All rows of numpy ``(x, y[, w])`` data, or the first ``limit`` samples of a dataset.

    A dataset read only in part (``.repeat()``, or longer than ``limit``) is checked for
    repeating samples: each distinct sample is kept once and a note says so. ``labels``
    picks the followed output's labels from a model's several (see ``Head.labels``).

    Raises:
        TypeError: ``data`` is none of the supported kinds, or its labels are not one
            numeric label per sample (a dict, strings, an unbatched dataset).
        ValueError: a dataset yields elements without labels.
    """
    kind = source_kind(data)
    pick = labels if labels is not None else (lambda y: y)
    if kind is None:
        raise TypeError(f"{what} must be a tuple (x, y), a tf.data.Dataset or a "
                        f"keras.utils.PyDataset. Received: {type(data).__name__}")
    if kind == "numpy":
        x, y = _to_numpy(data[0]), labels_array(pick(data[1]), what)
        n = n_rows_of(x)
        if len(y) != n:
            raise ValueError(f"{what}: x has {n} rows but y has {len(y)}")
        return Sample(x=x, y=y, index=np.arange(n, dtype=np.int64), kind=kind, n_total=n)
    if kind == "tf.data":
        cardinality = int(data.cardinality())
        batches: Any = data.as_numpy_iterator()
        total_batches = cardinality if cardinality >= 0 else None
    else:
        try:
            total_batches = data.num_batches
        except NotImplementedError:
            total_batches = None
        batches = (data[i] for i in (range(total_batches) if total_batches is not None
                                     else _count()))
    xs, ys, seen, exhausted = [], [], 0, True
    for element in batches:
        x, y = _split_element(element, what)
        x, y = _to_numpy(x), labels_array(_to_numpy(pick(y)), what, batched=True)
        check_batch(x, y, what)
        xs.append(x)
        ys.append(y)
        seen += len(y)
        if seen >= limit:
            exhausted = False
            break
    if not ys:
        raise ValueError(f"{what} yielded no batches")
    x, y = _concat(xs), np.concatenate(ys, axis=0)
    if not exhausted and total_batches is not None and len(xs) == total_batches:
        exhausted = True
    notes = []
    index = np.arange(len(y), dtype=np.int64)
    repeats = None if exhausted else repeated_rows(row_keys(x, y), what)
    if repeats is not None:
        rows, exhausted, note = repeats
        x, y, index = take_rows(x, rows), y[rows], index[rows]
        notes.append(note)
    elif not exhausted:
        infinite = kind == "tf.data" and cardinality == _tensorflow().data.INFINITE_CARDINALITY
        notes.append(f"Only the first {len(y)} samples of the {what} "
                     f"({'an infinite dataset' if infinite else kind}) were read.")
    n_total = len(y) if exhausted else None
    return Sample(x=x, y=y, index=index, kind=kind, n_total=n_total, exhausted=exhausted,
                  notes=notes)


def _count() -> Any:
    i = 0
    while True:
        yield i
        i += 1


def label_ints(y: np.ndarray) -> np.ndarray:
    """Integer class labels from sparse, one-hot (argmax) or binary 0/1 labels."""
    y = np.asarray(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        return np.argmax(y.reshape(len(y), -1), axis=-1).astype(np.int64)
    flat = y.reshape(len(y)).astype(np.float64)
    return np.rint(np.nan_to_num(flat)).astype(np.int64)


def stratified_rows(labels: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, bool]:
    """Sorted positions of ``n`` rows drawn so class proportions are kept (when possible).

    Returns the positions and whether the draw was stratified (a class with a single
    member makes scikit-learn refuse; then the draw is uniform).
    """
    total = len(labels)
    if n >= total:
        return np.arange(total, dtype=np.int64), False
    positions = np.arange(total)
    try:
        rows, _ = train_test_split(positions, train_size=n, stratify=labels, random_state=seed)
        stratified = True
    except ValueError:
        rows = np.random.default_rng(seed).choice(total, size=n, replace=False)
        stratified = False
    return np.sort(np.asarray(rows, dtype=np.int64)), stratified


def bounded_sample(data: Any, n: int, what: str, pool: int | None = None, seed: int = 0,
                   labels: Callable[[Any], Any] | None = None) -> tuple[Sample, Sample, bool]:
    """Read ``data`` (up to ``pool`` samples of a dataset) and draw a stratified ``n`` rows.

    Returns ``(sample, source, stratified)``: the drawn rows and everything that was read
    (used for label counts and duplicate checks).
    """
    source = read_source(data, limit=pool if pool is not None else max(4 * n, 2048), what=what,
                         labels=labels)
    if source.n_rows <= n:
        return source, source, False
    rows, stratified = stratified_rows(label_ints(source.y), n, seed=seed)
    return source.subset(rows), source, stratified
