"""The predictions behind the train/eval-mode check of pipeline_bug: the validation set in
its stored order and ``fit``'s batch size, in random batches, and the same batches twice.

The mechanism is told apart without calling the model with ``training=True``: that call
would update a healthy BatchNormalization's moving statistics, changing the user's model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from gapdoctor.callback.confirm.data import n_rows, take
from gapdoctor.callback.data_sampling import source_kind
from gapdoctor.callback.mode_layers import mode_layers
from gapdoctor.confirm.evalmode import EvalPredictions, evaluation_mode
from gapdoctor.confirm.outcome import Confirmation

# Random batches at least this large: a batch of a few samples is unlike the population
# whatever its order, and the check asks about the order.
MIN_SHUFFLED_BATCH = 32
# The stored-order batches predicted a second time to see whether outputs are random.
REPEAT_BATCHES = 4
ACCURACY_CURVES = ("val_accuracy", "val_acc", "val_sparse_categorical_accuracy",
                   "val_categorical_accuracy", "val_binary_accuracy")


def user_batch_size(data: Any, fallback: int) -> int:
    """The batch size ``fit`` evaluated ``data`` with: a dataset's own first batch, else
    ``fallback`` (fit's training batch size, Keras's default for validation arrays)."""
    kind = source_kind(data)
    if kind not in ("tf.data", "PyDataset"):
        return max(1, int(fallback))
    try:
        first = data[0] if kind == "PyDataset" else next(iter(data.take(1)))
        return max(1, n_rows(first[1] if isinstance(first, (tuple, list)) else first))
    except Exception:  # noqa: BLE001 - an unreadable first batch: Keras's default
        return max(1, int(fallback))


def predictions(model: keras.Model, x: Any, batch_size: int, seed: int = 0,
                predict: Callable[[Any, int], np.ndarray] | None = None) -> EvalPredictions:
    """Validation outputs in the stored order, in random batches and the first stored-order
    batches again, all in the stored row order. ``predict(x, batch_size)`` defaults to
    ``model.predict``."""
    if predict is None:
        def predict(rows: Any, size: int) -> np.ndarray:
            return model.predict(rows, batch_size=size, verbose=0)
    n = n_rows(x)
    in_order = np.asarray(predict(x, batch_size), float)
    order = np.random.default_rng(seed).permutation(n)
    size = max(batch_size, MIN_SHUFFLED_BATCH)
    again = np.asarray(predict(take(x, order), size), float)
    shuffled = np.empty_like(again)
    shuffled[order] = again
    head = np.arange(min(n, REPEAT_BATCHES * batch_size))
    first = np.asarray(predict(take(x, head), batch_size), float)
    second = np.asarray(predict(take(x, head), batch_size), float)
    return EvalPredictions(in_order, shuffled, batch_size, size,
                           repeat_change=float(np.mean(np.abs(first - second))),
                           layers=mode_layers(model))


def logged_accuracy(record: Any, n_val: int) -> tuple[list[float] | None, list[int]]:
    """fit's logged validation accuracy per epoch (the followed output's, for a model with
    several) and the epochs a restore-best callback may have returned to (best validation
    loss, best accuracy). None when the record's
    validation set is not this one, or no plain accuracy was logged."""
    if record is None or record.meta.get("task") in ("multilabel", "regression"):
        return None, []
    recorded_n = (record.meta.get("data") or {}).get("n_val")
    if recorded_n is not None and int(recorded_n) != n_val:
        return None, []
    curves = record.curves
    followed = record.meta.get("followed_output")
    candidates = ACCURACY_CURVES if not followed else tuple(
        f"val_{n}_{c[4:]}" for n in (followed.get("key"), followed.get("name"))
        if isinstance(n, str) for c in ACCURACY_CURVES)
    name = next((c for c in candidates if record.has(f"curve:{c}")), None)
    if name is None:
        return None, []
    values = np.asarray(curves[name], float)
    restorable = [int(np.nanargmax(values))]
    if record.has("curve:val_loss"):
        restorable.append(int(np.nanargmin(np.asarray(curves["val_loss"], float))))
    return values.tolist(), restorable


def evaluation_mode_check(model: keras.Model, val: tuple[Any, np.ndarray, Any],
                          labels: np.ndarray, validation_data: Any, record: Any,
                          fallback_batch_size: int) -> tuple[Confirmation, EvalPredictions]:
    """The check, and its predictions (the random-batch ones are the model's best estimate
    for the other pipeline checks when the stored order misleads)."""
    batch_size = user_batch_size(validation_data, fallback_batch_size)
    p = predictions(model, val[0], batch_size)
    # a weighted validation set logs a weighted accuracy: not comparable per sample
    logged, restorable = (None, []) if val[2] is not None else logged_accuracy(
        record, len(labels))
    return evaluation_mode(p, labels, logged, restorable), p
