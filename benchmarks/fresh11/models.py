"""Keras models of the eleventh fresh set: fresh2's models (``benchmarks/fresh2/models.py``),
changed where some fresh11 implementations need what the corpus's ``Spec`` has no field for
(imports Keras).

``spec.extra`` (set by ``benchmarks/fresh11/faults*.py``) may hold:

- ``optimizer``: ``(name, kwargs)``, the optimiser class (``adam``, ``sgd``) and its extra
  keyword arguments (e.g. ``gradient_accumulation_steps``, ``beta_1``), with the learning
  rate ``spec.lr``;
- ``temperature``: the logits divided by this before the output activation;
- ``reinit``: every Dense/Conv kernel re-drawn from ``he_uniform``;
- ``activation``: fresh2's hidden activation (e.g. ``silu``);
- ``prior_bias``: the class prior; the output bias set to its log (softmax) or log-odds
  (sigmoid).

Metric names go to fresh2's ``_metric``, except ``flag_accuracy`` (do the predicted and the
true class agree on class 0 vs the rest?) and ``last_batch_accuracy`` (a stateful accuracy
whose update assigns instead of adding: the last batch's accuracy).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2 import models as fresh2_models

OPTIMIZERS = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}


def _predicted(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """(predicted class, true class) as float vectors (sparse, one-hot or binary labels)."""
    if y_pred.shape[-1] == 1:
        pred = keras.ops.cast(y_pred[:, 0] > 0.5, "float32")
        true = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "float32")
        return pred, true
    pred = keras.ops.cast(keras.ops.argmax(y_pred, axis=-1), "float32")
    if len(y_true.shape) == 2 and y_true.shape[-1] == y_pred.shape[-1]:
        true = keras.ops.cast(keras.ops.argmax(y_true, axis=-1), "float32")
    else:
        true = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "float32")
    return pred, true


def _flag_accuracy(y_true: Any, y_pred: Any) -> Any:
    pred, true = _predicted(y_true, y_pred)
    return keras.ops.cast(keras.ops.equal(pred > 0, true > 0), "float32")


class LastBatchAccuracy(keras.metrics.Metric):
    """A hand-written accuracy with the classic slip: ``assign`` where ``assign_add`` was
    meant, so it reports the last batch only."""

    def __init__(self, name: str = "last_batch_accuracy", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.seen = self.add_variable(shape=(), initializer="zeros", name="seen")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        pred, true = _predicted(y_true, y_pred)
        hit = keras.ops.cast(keras.ops.equal(pred, true), "float32")
        self.correct.assign(keras.ops.sum(hit))
        self.seen.assign(keras.ops.cast(keras.ops.shape(hit)[0], "float32"))

    def result(self) -> Any:
        return self.correct / keras.ops.maximum(self.seen, 1.0)

    def reset_state(self) -> None:
        self.correct.assign(0.0)
        self.seen.assign(0.0)


def _metric(name: str, spec: Spec, n_classes: int) -> Any:
    if name == "flag_accuracy":
        return keras.metrics.MeanMetricWrapper(_flag_accuracy, name="flag_accuracy")
    if name == "last_batch_accuracy":
        return LastBatchAccuracy()
    return fresh2_models._metric(name, spec, n_classes)


def _optimizer(spec: Spec, extra: dict) -> keras.optimizers.Optimizer:
    if "optimizer" not in extra:
        return corpus_models._optimizer(spec)
    name, kwargs = extra["optimizer"]
    return OPTIMIZERS[name](spec.lr, **kwargs)


def _kernels(model: keras.Model) -> list[Any]:
    kinds = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def _with_temperature(model: keras.Model, spec: Spec, temperature: float) -> keras.Model:
    """The same network with its logits divided by ``temperature`` before the output
    activation (the output Dense layer is rebuilt linear with the same weights)."""
    last = model.layers[-1]
    dense = keras.layers.Dense(last.units, activation=None, name="logits")
    h = last.input
    logits = dense(h)
    dense.set_weights(last.get_weights())
    scaled = keras.layers.Rescaling(1.0 / temperature, name="temperature")(logits)
    out = keras.layers.Activation(spec.output)(scaled) if spec.output != "linear" else scaled
    return keras.Model(model.inputs, out, name=model.name)


def _prior_bias(model: keras.Model, spec: Spec, prior: list[float]) -> None:
    last = model.layers[-1]
    kernel, bias = last.get_weights()
    p = np.asarray(prior, "float64")
    if spec.labels == "binary":
        value = np.log(p[1] / p[0]) * np.ones_like(bias)
    else:
        value = np.log(p / p.sum())
    last.set_weights([kernel, value.astype(bias.dtype)])


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec``: fresh2's model, changed and compiled as
    ``spec.extra`` asks (without any extra key: fresh2's model and compilation)."""
    extra = getattr(spec, "extra", {}) or {}
    plain = dataclasses.replace(spec, metrics=["accuracy"])
    plain.extra = extra  # type: ignore[attr-defined]
    model = fresh2_models.build_model(plain, input_shape, n_classes, vocab, seed)
    if extra.get("reinit"):
        init = {"he_uniform": keras.initializers.HeUniform}[extra["reinit"]](seed=seed)
        for layer in _kernels(model)[:-1]:
            layer.kernel.assign(init(layer.kernel.shape))
    if extra.get("temperature"):
        model = _with_temperature(model, spec, float(extra["temperature"]))
    if extra.get("prior_bias"):
        _prior_bias(model, spec, extra["prior_bias"])
    model.compile(optimizer=_optimizer(spec, extra), loss=corpus_models._loss(spec),
                  metrics=[_metric(m, spec, n_classes) for m in spec.metrics])
    return model
