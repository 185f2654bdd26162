"""Model information, once per ``fit``: layers, parameter counts, output activation, loss and
its ``from_logits``, metrics and optimizer with their configurations.

TF/Keras details:
    - A ``Sequential`` model without an ``Input`` is not built yet in ``on_train_begin``
      (Keras 3 builds it in the first train step): parameter counts are then taken at the end
      of the first epoch.
    - ``model.get_compile_config()`` holds the serialized ``compile`` arguments (loss,
      metrics with their configs, optimizer); the compiled metric objects themselves only
      exist once the model was built.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from gapdoctor.callback.followed_output import Head, output_layer
from gapdoctor.callback.mode_layers import mode_layers
from gapdoctor.callback.probes.base import Probe
from gapdoctor.callback.state import RunState

_PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid", "log_softmax")


def _activation_name(fn: Any) -> str | None:
    if fn is None:
        return None
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return str(name).lower()


def output_activation(model: Any, position: int = 0) -> str | None:
    """Name of the activation of the output layer ('softmax', 'sigmoid', 'linear', ...)."""
    layer = output_layer(model, position)
    if layer is None:
        return None
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    if hasattr(layer, "activation"):
        return _activation_name(layer.activation)
    if isinstance(layer, (keras.Model,)) and getattr(layer, "layers", None):
        return output_activation(layer)
    return None


def _loss_object(model: Any, head: Head | None = None) -> Any:
    if head is not None and not head.single:
        return head.loss
    loss = getattr(model, "loss", None)
    if isinstance(loss, (list, tuple)) and loss:
        return loss[0]
    if isinstance(loss, dict) and loss:
        return next(iter(loss.values()))
    return loss


def loss_info(model: Any, head: Head | None = None) -> dict[str, Any]:
    """``{name, from_logits, config}`` of the compiled loss (of the followed output)."""
    loss = _loss_object(model, head)
    if loss is None:
        return {"name": None, "from_logits": None, "config": {}}
    if isinstance(loss, str):
        return {"name": loss, "from_logits": False, "config": {}}
    config: dict[str, Any] = {}
    if hasattr(loss, "get_config"):
        try:
            config = dict(loss.get_config() or {})
        except (NotImplementedError, TypeError, ValueError):
            config = {}
    from_logits = config.get("from_logits", getattr(loss, "from_logits", False))
    name = config.get("name") or getattr(loss, "name", None) or getattr(loss, "__name__", None)
    return {"name": name, "class_name": type(loss).__name__,
            "from_logits": bool(from_logits), "config": config}


def _layer_rows(model: Any) -> list[dict[str, Any]]:
    rows = []
    for layer in getattr(model, "layers", []):
        try:
            shape = getattr(layer, "output", None)
            shape = list(shape.shape) if shape is not None else None
        except (AttributeError, ValueError):
            shape = None
        rows.append({"name": layer.name, "class_name": type(layer).__name__,
                     "n_params": int(layer.count_params()) if layer.built else None,
                     "activation": _activation_name(getattr(layer, "activation", None)),
                     "output_shape": shape})
    return rows


def _size(variable: Any) -> int:
    return int(np.prod(tuple(variable.shape), dtype=np.int64))


def model_summary(model: Any, position: int = 0) -> dict[str, Any]:
    """The ``meta["model"]`` entry (``position``: the followed output's)."""
    built = bool(getattr(model, "built", False)) and bool(model.weights)
    trainable = sum(_size(v) for v in model.trainable_weights) if built else None
    total = sum(_size(v) for v in model.weights) if built else None
    return {"name": model.name, "class_name": type(model).__name__, "n_params": total,
            "trainable_params": trainable,
            "output_activation": output_activation(model, position),
            "layers": _layer_rows(model), "mode_layers": _mode_layers(model)}


def _mode_layers(model: Any) -> dict[str, list[str]] | None:
    try:
        return mode_layers(model)
    except Exception:  # noqa: BLE001 - a model Keras cannot walk: unknown, not "none"
        return None


def metric_entries(model: Any, compile_config: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{name, class_name, config}]`` of the compiled metrics.

    Prefers the built metric objects (they show what a string such as ``"accuracy"``
    resolved to, e.g. ``BinaryAccuracy``); before the first batch builds them, reads the
    serialized compile config, whose dict entries must not be flattened into leaves.
    """
    compiled = getattr(getattr(model, "_compile_metrics", None), "metrics", None) or []
    entries = []
    for metric in compiled:
        try:
            config = metric.get_config()
        except (NotImplementedError, TypeError, ValueError, AttributeError):
            config = {}
        entries.append({"name": metric.name, "class_name": type(metric).__name__, "config": config})
    if entries:
        return entries
    raw = compile_config.get("metrics") or []
    items = list(raw.values()) if isinstance(raw, dict) else list(raw) if isinstance(raw, (list, tuple)) else [raw]
    for entry in items:
        if isinstance(entry, (list, tuple)):
            items.extend(entry)
        elif isinstance(entry, dict) and "class_name" in entry:
            config = entry.get("config") or {}
            if not isinstance(config, dict):
                # a plain function (``metrics=[my_f1]``): its name only, resolved to the
                # compiled metric at the first epoch's end (class_name None)
                entries.append({"name": str(config), "class_name": None, "config": {}})
                continue
            entries.append({"name": config.get("name"), "class_name": entry.get("class_name"),
                            "config": config})
        elif entry is not None:
            entries.append({"name": str(entry), "class_name": None, "config": {}})
    return entries


class ModelInfoProbe(Probe):
    """Fills ``meta`` keys ``model``, ``loss``, ``metrics``, ``optimizer``."""

    name = "model_info"

    def __init__(self) -> None:
        self._pending = False

    def on_train_begin(self, state: RunState) -> None:
        model = state.model
        compile_config: dict[str, Any] = {}
        try:
            compile_config = model.get_compile_config() or {}
        except (AttributeError, NotImplementedError, TypeError, ValueError):
            compile_config = {}
        state.meta["loss"] = loss_info(model, state.head)
        metrics = metric_entries(model, compile_config)
        state.meta["metrics"] = metrics
        optimizer = getattr(model, "optimizer", None)
        state.meta["optimizer"] = (None if optimizer is None else
                                   {"class_name": type(optimizer).__name__,
                                    "config": optimizer.get_config()})
        state.meta["model"] = model_summary(model, state.head.position)
        self._pending = not state.model_built()

    def deferrable(self, state: RunState) -> bool:
        # what is left to read from the model is read on the training thread
        return not self._pending and all(m.get("class_name") is not None
                                         for m in state.meta.get("metrics") or [])

    def on_epoch_end(self, state: RunState, epoch: int, logs: dict[str, Any]) -> None:
        if any(m.get("class_name") is None for m in state.meta.get("metrics") or []):
            built = metric_entries(state.model, {})  # strings like "accuracy" now resolved
            if built:
                state.meta["metrics"] = built
        if self._pending and state.model_built():
            state.meta["model"] = model_summary(state.model, state.head.position)
            self._pending = False
