"""Per-layer statistics every epoch: weight norm, update ratio, gradient norm on a fixed probe
batch, dead-unit fraction of ReLU-like layers, and a non-finite flag.

Keras details (every backend):
    - Everything runs in one compiled function per epoch (see
      :mod:`gapdoctor.callback.backends`): a forward pass in eval mode (``training=False``:
      dropout off and, importantly, no BatchNormalization statistics updated, so the user's
      model is not changed), the loss via ``model.compute_loss``, the gradient, the norms, and
      the copy of the weights kept for the next update ratio. The gradient is therefore the
      eval-mode gradient of the compiled loss on a fixed batch.
    - Activations of ReLU-like layers come from a functional view of the model
      (``keras.Model(model.inputs, [layer.output, ...])``), which shares the layers and
      variables; models without symbolic inputs (subclassed) get no dead fraction.
    - Under ``tf.distribute`` the function runs outside the replica context on the
      callback's single copy of the variables; the loss is not scaled by replicas there.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from gapdoctor.callback import backends
from gapdoctor.callback.data_sampling import label_ints, stratified_rows, take_rows
from gapdoctor.callback.probes.base import Probe
from gapdoctor.callback.state import RunState

GRAD_BATCH = 64
_RELU_NAMES = ("relu", "relu6")


def leaf_layers(model: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(name, layer) of every layer without sublayers, nested models flattened."""
    out = []
    for layer in getattr(model, "layers", []):
        name = f"{prefix}{layer.name}"
        if getattr(layer, "layers", None):
            out.extend(leaf_layers(layer, prefix=f"{name}/"))
        else:
            out.append((name, layer))
    return out


def is_relu_like(layer: Any) -> bool:
    """Whether the layer outputs exact zeros for inactive units (ReLU, ReLU6)."""
    if isinstance(layer, keras.layers.ReLU):
        return not getattr(layer, "negative_slope", 0.0)
    name = getattr(getattr(layer, "activation", None), "__name__", "")
    return str(name).lower() in _RELU_NAMES


def _feeding_followed(model: Any, position: int) -> list[Any]:
    """The trainable variables the followed output depends on (another output's own layers
    get no gradient from its loss, which would read as a non-finite one); all of them when
    the model has no graph to follow (subclassed)."""
    try:
        path = keras.Model(model.inputs, model.outputs[position])
    except (AttributeError, IndexError, TypeError, ValueError):
        return list(model.trainable_variables)
    on_path = {id(v) for v in path.trainable_variables}
    return [v for v in model.trainable_variables if id(v) in on_path]


class LayersProbe(Probe):
    """Fills the ``layers`` table (one row per layer with trainable weights per epoch)."""

    name = "layers"

    def __init__(self) -> None:
        self.fn: Any = None
        self.skip = False

    def _setup(self, state: RunState) -> None:
        model = state.model
        source = state.train if state.train is not None else state.val
        if source is None:
            self.skip = True
            state.note("Without usable train_data or validation_data, per-layer statistics "
                       "(weight norms, update ratios, gradient norms, dead units) were not "
                       "recorded.")
            return
        if state.train is None:
            state.note("Gradient norms were computed on validation samples (no train_data).")
        rows, _ = stratified_rows(label_ints(source.y), min(GRAD_BATCH, source.n_rows))
        x = take_rows(source.x, rows)
        y = np.asarray(source.y)[rows]
        y = y.astype(np.float32) if y.dtype.kind == "f" else y
        state.meta["gradient_batch"] = {"n": int(len(rows)),
                                        "split": "train" if state.train is not None else "val"}
        owner = {}
        for name, layer in leaf_layers(model):
            for v in layer.trainable_weights:
                owner.setdefault(id(v), name)
        variables = _feeding_followed(model, state.head.position) if not state.head.single \
            else list(model.trainable_variables)
        self.names = [owner.get(id(v), "model") for v in variables]
        sizes = [int(np.prod(tuple(v.shape), dtype=np.int64)) for v in variables]
        segments = np.repeat(np.arange(len(variables)), sizes)
        relu = [(n, lay) for n, lay in leaf_layers(model) if is_relu_like(lay)
                and lay in getattr(model, "layers", [])]
        extractor = None
        if relu:
            try:
                extractor = keras.Model(model.inputs, [lay.output for _, lay in relu]
                                        + [model.outputs[state.head.position]])
            except (AttributeError, ValueError, TypeError):
                state.note("Dead-unit fractions were not recorded: the model has no symbolic "
                           "inputs (subclassed model).")
        self.relu_names = [n for n, _ in relu] if extractor is not None else []

        self.fn = backends.layer_stats(model, extractor, variables, x, y, segments, state.head)
        backends.warm(self.fn)

    def on_train_begin(self, state: RunState) -> None:
        if state.model_built():
            self._setup(state)

    def deferrable(self, state: RunState) -> bool:
        return self.skip or self.fn is not None

    def on_epoch_end(self, state: RunState, epoch: int, logs: dict[str, Any]) -> None:
        first_setup = self.fn is None
        if first_setup:
            if self.skip or not state.model_built():
                return
            self._setup(state)
            if self.skip:
                return
        per_var, dead = self.fn(state.values)
        dead_of = dict(zip(self.relu_names, dead.tolist(), strict=True))
        sums: dict[str, np.ndarray] = {}
        for name, values in zip(self.names, per_var, strict=True):
            sums[name] = sums.get(name, 0.0) + values
        for name, (w_sq, d_sq, g_sq) in sums.items():
            norm = float(np.sqrt(w_sq))
            ratio = float(np.sqrt(d_sq)) / norm if norm > 0 else np.nan
            state.rows["layers"].append({
                "epoch": epoch, "layer": name, "weight_norm": norm,
                "update_ratio": np.nan if first_setup else ratio,
                "grad_norm": float(np.sqrt(g_sq)), "dead_fraction": dead_of.get(name, np.nan),
                "nonfinite": float(not np.isfinite([w_sq, d_sq, g_sq]).all())})
