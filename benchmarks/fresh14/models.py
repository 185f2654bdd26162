"""Keras models of the fourteenth fresh set: fresh2's models (``benchmarks/fresh2/models.py``),
changed where some fresh14 implementations need what the corpus's ``Spec`` has no field for
(imports Keras).

``spec.extra`` (set by ``benchmarks/fresh14/faults*.py``) may hold:

- ``optimizer``: ``(name, kwargs)``, the optimiser class (``adam``, ``sgd``) and its extra
  keyword arguments, with the learning rate ``spec.lr`` (or ``lr_schedule``);
- ``lr_schedule``: ``("triangular", low, high, half_cycle_steps)`` (a triangular cyclical
  rate), ``("exponential", lr0, steps, rate)`` (Keras's ``ExponentialDecay`` with
  ``staircase=True``; a rate above 1 grows) or ``("one_cycle", peak, total_steps)`` (a
  linear rise from ``peak / 25`` over 30 % of the steps, then a cosine fall to
  ``peak / 1e4``);
- ``activation``: fresh2's hidden activation (here ``hard_silu``);
- ``group_norm``: every BatchNormalization layer replaced by a GroupNormalization of 4
  groups.

Metric names go to fresh2's ``_metric``, except ``max_for_argmax_accuracy`` (an accuracy
whose predicted class is ``cast(reduce_max(y_pred), 'int32')``, i.e. always 0) and
``argmin_accuracy`` (an accuracy with ``argmin`` for ``argmax``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import keras

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2 import models as fresh2_models
from benchmarks.fresh12.models import _probabilities

OPTIMIZERS = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}


def _max_for_argmax(y_true: Any, y_pred: Any) -> Any:
    """Accuracy with ``reduce_max`` where ``argmax`` was meant: the top probability (below
    1) cast to int is 0, so every row is 'predicted class 0'."""
    scores, true = _probabilities(y_true, y_pred)
    pred = keras.ops.cast(keras.ops.max(scores, axis=-1), "int32")
    return keras.ops.cast(keras.ops.equal(pred, true), "float32")


def _argmin_accuracy(y_true: Any, y_pred: Any) -> Any:
    """Accuracy with ``argmin`` where ``argmax`` was meant."""
    scores, true = _probabilities(y_true, y_pred)
    pred = keras.ops.cast(keras.ops.argmin(scores, axis=-1), "int32")
    return keras.ops.cast(keras.ops.equal(pred, true), "float32")


@keras.saving.register_keras_serializable(package="fresh14")
class Triangular(keras.optimizers.schedules.LearningRateSchedule):
    """A triangular cyclical learning rate between ``low`` and ``high``."""

    def __init__(self, low: float, high: float, half: int) -> None:
        self.low, self.high, self.half = float(low), float(high), int(half)

    def __call__(self, step: Any) -> Any:
        s = keras.ops.cast(step, "float32")
        phase = keras.ops.mod(s, 2.0 * self.half) / float(self.half)
        tri = 1.0 - keras.ops.abs(phase - 1.0)
        return self.low + (self.high - self.low) * tri

    def get_config(self) -> dict:
        return {"low": self.low, "high": self.high, "half": self.half}


@keras.saving.register_keras_serializable(package="fresh14")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """One cycle: linear rise from ``peak / 25`` to ``peak`` over 30 % of ``total`` steps,
    then a cosine fall to ``peak / 1e4``."""

    def __init__(self, peak: float, total: int) -> None:
        self.peak, self.total = float(peak), int(total)

    def __call__(self, step: Any) -> Any:
        s = keras.ops.cast(step, "float32")
        up = max(1.0, 0.3 * self.total)
        rise = self.peak / 25 + (self.peak - self.peak / 25) * keras.ops.minimum(1.0, s / up)
        frac = keras.ops.clip((s - up) / max(1.0, self.total - up), 0.0, 1.0)
        fall = self.peak / 1e4 + (self.peak - self.peak / 1e4) * 0.5 * (
            1.0 + keras.ops.cos(math.pi * frac))
        return keras.ops.where(s < up, rise, fall)

    def get_config(self) -> dict:
        return {"peak": self.peak, "total": self.total}


def _metric(name: str, spec: Spec, n_classes: int) -> Any:
    if name == "max_for_argmax_accuracy":
        return keras.metrics.MeanMetricWrapper(_max_for_argmax, name="accuracy")
    if name == "argmin_accuracy":
        return keras.metrics.MeanMetricWrapper(_argmin_accuracy, name="accuracy")
    return fresh2_models._metric(name, spec, n_classes)


def _schedule(spec: Spec, extra: dict) -> Any:
    kind, *args = extra["lr_schedule"]
    if kind == "triangular":
        return Triangular(*args)
    if kind == "exponential":
        lr0, steps, rate = args
        return keras.optimizers.schedules.ExponentialDecay(lr0, int(steps), rate, staircase=True)
    if kind == "one_cycle":
        return OneCycle(*args)
    raise ValueError(kind)


def _optimizer(spec: Spec, extra: dict) -> keras.optimizers.Optimizer:
    if "optimizer" not in extra and "lr_schedule" not in extra:
        return corpus_models._optimizer(spec)
    lr: Any = _schedule(spec, extra) if "lr_schedule" in extra else spec.lr
    name, kwargs = extra.get("optimizer", (spec.optimizer, {}))
    return OPTIMIZERS[name](lr, **kwargs)


@keras.saving.register_keras_serializable(package="fresh14")
class GroupNorm(keras.layers.GroupNormalization):
    """GroupNormalization (4 groups) that accepts (and ignores) the ``training`` argument a
    cloned BatchNormalization call passes."""

    def call(self, inputs: Any, mask: Any = None, training: Any = None) -> Any:
        return super().call(inputs)


def _group_norm(model: keras.Model) -> keras.Model:
    def swap(layer: keras.layers.Layer) -> keras.layers.Layer:
        if isinstance(layer, keras.layers.BatchNormalization):
            return GroupNorm(groups=4)
        return layer.__class__.from_config(layer.get_config())
    return keras.models.clone_model(model, clone_function=swap)


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec``: fresh2's model, changed and compiled as
    ``spec.extra`` asks (without any extra key: fresh2's model and compilation)."""
    extra = getattr(spec, "extra", {}) or {}
    plain = dataclasses.replace(spec, metrics=["accuracy"])
    plain.extra = extra  # type: ignore[attr-defined]
    model = fresh2_models.build_model(plain, input_shape, n_classes, vocab, seed)
    if extra.get("group_norm"):
        model = _group_norm(model)
    model.compile(optimizer=_optimizer(spec, extra), loss=corpus_models._loss(spec),
                  metrics=[_metric(m, spec, n_classes) for m in spec.metrics])
    return model
