"""At the end of training: does a validation sample's prediction depend on its batch-mates?

A model in evaluation mode predicts each sample alike in any batch. A normalisation layer
stuck in training mode (``BatchNormalization()(x, training=True)``, a custom layer that
ignores ``training``) normalises every batch by its own statistics instead; dropout left on
at inference makes outputs random. Both break validation without showing in any curve: on
a validation set stored in class order, every batch is unlike the population and accuracy
collapses in ``fit``'s evaluation while training looks fine.

The probe predicts the validation sample three ways (stored order at ``fit``'s batch size,
random batches, the first batches twice) and records the paired difference in accuracy in
``meta["batch_order"]``; when the same batches give other outputs twice (dropout or noise
active at inference) it also records what averaging five predictions gains over one
(``averaged``). The pipeline_bug rule reads both. It runs only on models with a layer
that can act differently at inference (batch normalisation, dropout, noise, or a layer class
defined outside Keras): the others cannot have this bug and pay nothing.

Example of the record (a BatchNormalization stuck in training mode, validation sorted)::

    {"checked": True, "accuracy_stored": 0.31, "accuracy_shuffled": 0.93, "effect": 0.62,
     "low": 0.58, "high": 0.66, "mechanism": "batch statistics", ...}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gapdoctor.callback.mode_layers import all_layers, mode_layers
from gapdoctor.callback.probes.base import Probe
from gapdoctor.callback.state import RunState

# Keras's default evaluation batch size: fit validates arrays at its own batch size or this.
KERAS_DEFAULT_BATCH = 32
# Predictions averaged when outputs are random at inference: enough to move one draw's
# accuracy toward that of the expected output, few enough to cost little.
AVERAGED_PASSES = 5


def eager_predict(model: Any, position: int = 0) -> Callable[[Any, int], np.ndarray] | None:
    """``predict(x, batch_size)`` of the output at ``position`` (the followed one) by calling
    the model on each batch in evaluation mode, or None (use ``model.predict``) under JAX.
    Used where :func:`compiled_predict` is not (torch; TensorFlow without the shared forward
    pass): for a few thousand rows at the end of a fit eager calls match ``model.predict``
    on torch and beat its tracing on TensorFlow for a small model (0.07 s against 0.19 s
    for 360 digits rows); JAX compiles every eager op per shape (1.7 s against 0.5 s)."""
    import keras

    if keras.backend.backend() == "jax":
        return None

    from gapdoctor.callback.confirm.data import n_rows, take

    def predict(x: Any, batch_size: int) -> np.ndarray:
        n, parts = n_rows(x), []
        for start in range(0, n, batch_size):
            out = model(take(x, np.arange(start, min(n, start + batch_size))), training=False)
            parts.append(keras.ops.convert_to_numpy(keras.tree.flatten(out)[position]))
        return np.concatenate(parts)

    return predict


def compiled_predict(state: RunState) -> Callable[[Any, int], np.ndarray] | None:
    """``predict(x, batch_size)`` through the fit's shared forward pass, or None. On
    TensorFlow that function is traced once for any number of rows and already warm from
    the predictions, so a batch costs one graph call: for a deep model many times less than
    eager layer-by-layer calls (MobileNetV2: 0.1 s against 1.0-1.4 s a pass over 200 rows)
    or ``model.predict``'s own tracing (1.9 s). Elsewhere it is compiled per shape (JAX) or
    eager (torch), so it is not used."""
    import keras

    shared = state.compiled.get("features")
    if keras.backend.backend() != "tensorflow" or shared is None or not shared.has_embedding:
        return None
    from gapdoctor.callback.confirm.data import n_rows, take

    def predict(x: Any, batch_size: int) -> np.ndarray:
        n = n_rows(x)
        batches = (take(x, np.arange(s, min(n, s + batch_size))) for s in range(0, n, batch_size))
        return np.concatenate([np.asarray(shared.fn(rows)[1]) for rows in batches])

    return predict


def _stateful(model: Any) -> bool:
    return any(getattr(layer, "stateful", False) for layer in all_layers(model))


def _batch_size(state: RunState) -> int:
    fit = state.meta.get("fit") or {}
    for key in ("validation_batch_size", "batch_size"):
        value = fit.get(key)
        if isinstance(value, int) and value > 0:
            return value
    return KERAS_DEFAULT_BATCH


class BatchOrderProbe(Probe):
    """Records ``meta["batch_order"]``: validation accuracy in the stored order against
    random batches (see the module docstring)."""

    name = "batch_order"

    def on_train_end(self, state: RunState) -> None:
        meta, val = state.meta, state.val
        if val is None or meta.get("task") not in ("binary", "multiclass"):
            return
        sensitive = [name for names in mode_layers(state.model).values() for name in names]
        if not sensitive:
            meta["batch_order"] = {"checked": False,
                                   "reason": "no layer can act differently at inference"}
            return
        if _stateful(state.model):  # its outputs follow the order by design; calls move its state
            meta["batch_order"] = {"checked": False,
                                   "reason": "a stateful layer carries state across batches"}
            return
        from gapdoctor.callback.confirm.data import take
        from gapdoctor.callback.confirm.evalmode import predictions
        from gapdoctor.callback.metrics import to_probabilities
        from gapdoctor.confirm.evalmode import evaluation_mode

        model, batch = state.model, _batch_size(state)
        head = state.head
        predict = compiled_predict(state) or eager_predict(model, head.position) or (
            lambda rows, size: head.pick(model.predict(rows, batch_size=size, verbose=0)))
        order = np.argsort(np.asarray(val.index), kind="stable")  # the source's own order
        labels = np.asarray(state.arrays["val_labels"])[order]
        x = take(val.x, order)
        p = predictions(model, x, batch, predict=predict)
        output = str(meta.get("output", "probabilities"))  # classes, not raw scores
        p.in_order = to_probabilities(p.in_order, output)
        p.shuffled = to_probabilities(p.shuffled, output)
        c = evaluation_mode(p, labels)
        d = c.details
        meta["batch_order"] = check = {
            "checked": True, "n": int(labels.size), "batch_size": d["batch_size"],
            "shuffled_batch_size": d["shuffled_batch_size"],
            "accuracy_stored": c.before, "accuracy_shuffled": c.after, "effect": c.effect,
            "low": c.interval[0], "high": c.interval[1], "output_change": d["output_change"],
            "repeat_change": d["repeat_change"], "mechanism": d["mechanism"],
            "outcome": c.outcome, "layers": sensitive[:8]}
        if d["mechanism"] == "randomness":
            draws = [p.in_order] + [to_probabilities(predict(x, batch), output)
                                    for _ in range(AVERAGED_PASSES - 1)]
            check["averaged"] = averaged_gain(draws, labels)


def averaged_gain(draws: list[np.ndarray], labels: np.ndarray) -> dict[str, Any]:
    """Accuracy of the mean of several random predictions against the first one alone
    (paired interval over samples): what one random draw at inference costs."""
    from gapdoctor.confirm.checks import predicted_class
    from gapdoctor.confirm.outcome import paired_effect

    single = (predicted_class(draws[0]) == labels).astype(float)
    mean = (predicted_class(np.mean(draws, axis=0)) == labels).astype(float)
    e = paired_effect(mean[None], single[None])
    return {"passes": len(draws), "accuracy_single": float(single.mean()),
            "accuracy_averaged": float(mean.mean()), "effect": e.effect, "low": e.low,
            "high": e.high}
