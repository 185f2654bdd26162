"""Keras models of the thirteenth fresh set: fresh2's models (``benchmarks/fresh2/models.py``),
changed where some fresh13 implementations need what the corpus's ``Spec`` has no field for
(imports Keras).

``spec.extra`` (set by ``benchmarks/fresh13/faults*.py``) may hold:

- ``optimizer``: ``(name, kwargs)``, the optimiser class (``adam``, ``rmsprop``, ``sgd``)
  and its extra keyword arguments, with the learning rate ``spec.lr``;
- ``warmup``: ``(steps, peak)``, a linear warm-up of the learning rate from ``peak / steps``
  to ``peak`` over ``steps`` steps, then constant at ``peak`` (replaces ``spec.lr``);
- ``activation``: fresh2's hidden activation (here ``leaky_relu``, ``mish``);
- ``layer_norm``: every BatchNormalization layer replaced by a LayerNormalization;
- ``full_kernel``: the first convolution's kernel as long as the input (256 samples,
  16 x 16 pixels).

Metric names go to fresh2's ``_metric``, except ``one_based_accuracy`` (an accuracy that
compares the predicted class with ``label - 1``) and ``pairwise_accuracy`` (an accuracy whose
label column ``(n, 1)`` broadcasts against the predicted classes ``(n,)``: the share of all
(row, row) pairs whose label and prediction agree).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2 import models as fresh2_models
from benchmarks.fresh12.models import _probabilities

OPTIMIZERS = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
              "rmsprop": keras.optimizers.RMSprop}


def _one_based_accuracy(y_true: Any, y_pred: Any) -> Any:
    """Accuracy from a code base whose label files were 1-based: the predicted class (0-based
    argmax) is compared with ``label - 1``."""
    scores, true = _probabilities(y_true, y_pred)
    pred = keras.ops.cast(keras.ops.argmax(scores, axis=-1), "int32")
    return keras.ops.cast(keras.ops.equal(pred, true - 1), "float32")


def _pairwise_accuracy(y_true: Any, y_pred: Any) -> Any:
    """A hand-written accuracy that takes the labels as a column ``(n, 1)`` (``df[['label']]``)
    and the predicted classes as ``(n,)``: ``equal`` broadcasts to ``(n, n)``, so each row's
    figure is the share of the batch's predictions that equal its label."""
    scores, true = _probabilities(y_true, y_pred)
    column = keras.ops.reshape(true, (-1, 1))
    pred = keras.ops.cast(keras.ops.argmax(scores, axis=-1), "int32")
    return keras.ops.mean(keras.ops.cast(keras.ops.equal(column, pred), "float32"), axis=-1)


@keras.saving.register_keras_serializable(package="fresh13")
class WarmupToPeak(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``steps`` steps, then constant."""

    def __init__(self, peak: float, steps: int) -> None:
        self.peak, self.steps = float(peak), int(steps)

    def __call__(self, step: Any) -> Any:
        s = keras.ops.cast(step, "float32") + 1.0
        return self.peak * keras.ops.minimum(1.0, s / float(self.steps))

    def get_config(self) -> dict:
        return {"peak": self.peak, "steps": self.steps}


def _metric(name: str, spec: Spec, n_classes: int) -> Any:
    if name == "one_based_accuracy":
        return keras.metrics.MeanMetricWrapper(_one_based_accuracy, name="accuracy")
    if name == "pairwise_accuracy":
        return keras.metrics.MeanMetricWrapper(_pairwise_accuracy, name="acc")
    return fresh2_models._metric(name, spec, n_classes)


def _optimizer(spec: Spec, extra: dict) -> keras.optimizers.Optimizer:
    if "optimizer" not in extra and "warmup" not in extra:
        return corpus_models._optimizer(spec)
    lr: Any = spec.lr
    if "warmup" in extra:
        steps, peak = extra["warmup"]
        lr = WarmupToPeak(peak, steps)
    name, kwargs = extra.get("optimizer", (spec.optimizer, {}))
    return OPTIMIZERS[name](lr, **kwargs)


@keras.saving.register_keras_serializable(package="fresh13")
class LayerNorm(keras.layers.LayerNormalization):
    """LayerNormalization that accepts (and ignores) the ``mask`` / ``training`` arguments a
    cloned BatchNormalization call passes."""

    def call(self, inputs: Any, mask: Any = None, training: Any = None) -> Any:
        return super().call(inputs)


def _layer_norm(model: keras.Model) -> keras.Model:
    def swap(layer: keras.layers.Layer) -> keras.layers.Layer:
        if isinstance(layer, keras.layers.BatchNormalization):
            return LayerNorm()
        return layer.__class__.from_config(layer.get_config())
    return keras.models.clone_model(model, clone_function=swap)


def _full_kernel_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int,
                       seed: int) -> keras.Model:
    """The corpus's CNN with the first convolution's kernel as long as the input."""
    keras.utils.set_random_seed(seed)
    two_d = len(input_shape) == 3
    conv = keras.layers.Conv2D if two_d else keras.layers.Conv1D
    pool = keras.layers.MaxPooling2D if two_d else keras.layers.MaxPooling1D
    inputs = keras.Input(shape=input_shape, dtype="float32")
    w = spec.width
    h = conv(8 * w, input_shape[0], padding="same", activation="relu")(inputs)
    h = pool(2)(h)
    h = conv(16 * w, 3 if two_d else 5, padding="same", activation="relu")(h)
    h = pool(2)(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(32 * w, activation="relu")(h)
    units = 1 if spec.labels == "binary" else n_classes
    return keras.Model(inputs, keras.layers.Dense(units, activation=spec.output)(h),
                       name=spec.family)


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec``: fresh2's model, changed and compiled as
    ``spec.extra`` asks (without any extra key: fresh2's model and compilation)."""
    extra = getattr(spec, "extra", {}) or {}
    if extra.get("full_kernel"):
        model = _full_kernel_model(spec, input_shape, n_classes, seed)
    else:
        plain = dataclasses.replace(spec, metrics=["accuracy"])
        plain.extra = extra  # type: ignore[attr-defined]
        model = fresh2_models.build_model(plain, input_shape, n_classes, vocab, seed)
    if extra.get("layer_norm"):
        model = _layer_norm(model)
    model.compile(optimizer=_optimizer(spec, extra), loss=corpus_models._loss(spec),
                  metrics=[_metric(m, spec, n_classes) for m in spec.metrics])
    return model
