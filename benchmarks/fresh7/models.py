"""Keras models of the seventh fresh set: fresh2's models (``benchmarks/fresh2/models.py``,
itself the corpus's plus ``kernel_init``/``activation``/``topk:K``/``recall@T``), compiled
again with what some fresh7 implementations need and the corpus's ``Spec`` has no field for
(imports Keras).

``spec.extra`` (set by ``benchmarks/fresh7/faults*.py``) may hold:

- ``optimizer``: ``(name, kwargs)``, the optimiser class (``adam``, ``nadam``, ``rmsprop``,
  ``sgd``) and its extra keyword arguments (e.g. ``use_ema``, ``centered``, ``momentum``,
  ``gradient_accumulation_steps``), with the learning rate ``spec.lr`` (or the schedule
  below) and ``spec.clipnorm``;
- ``schedule``: ``("restarts", first_decay_steps, t_mul, m_mul)`` (cosine decay with warm
  restarts, ``CosineDecayRestarts`` from ``spec.lr``);
- ``grad_divisor``: SGD whose every gradient is divided by this number before the update
  (a loss scale undone that was never applied; the logged loss is the true one);
- ``frozen``: every layer but the output layer set ``trainable = False`` before compiling.

Extra metric names: ``exact_accuracy`` (``keras.metrics.Accuracy()``, exact equality of
predictions and labels) and ``miou2`` (``keras.metrics.MeanIoU(num_classes=2)``). Anything
else goes to fresh2's ``_metric``. Models without any of these are fresh2's, unchanged.
"""

from __future__ import annotations

from typing import Any

import keras

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2 import models as fresh2_models

OPTIMIZERS = {"adam": keras.optimizers.Adam, "nadam": keras.optimizers.Nadam,
              "rmsprop": keras.optimizers.RMSprop, "sgd": keras.optimizers.SGD}
KEYS = ("optimizer", "schedule", "grad_divisor", "frozen")
METRICS = ("exact_accuracy", "miou2")


@keras.saving.register_keras_serializable(package="fresh7")
class UnscalingSGD(keras.optimizers.SGD):
    """SGD that divides every gradient by ``divisor`` before applying it (a mixed-precision
    loop's unscaling step without the matching loss scaling)."""

    def __init__(self, divisor: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.divisor = float(divisor)

    def apply(self, grads: Any, trainable_variables: Any = None) -> Any:
        grads = [g if g is None else g / self.divisor for g in grads]
        return super().apply(grads, trainable_variables)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "divisor": self.divisor}


def _learning_rate(spec: Spec, extra: dict) -> Any:
    kind = extra.get("schedule")
    if kind is None:
        if spec.schedule == "cosine":
            return keras.optimizers.schedules.CosineDecay(spec.lr, spec.decay_steps, alpha=0.02)
        return spec.lr
    if kind[0] == "restarts":
        return keras.optimizers.schedules.CosineDecayRestarts(
            spec.lr, int(kind[1]), t_mul=float(kind[2]), m_mul=float(kind[3]), alpha=0.01)
    raise ValueError(f"unknown schedule {kind!r}")


def _optimizer(spec: Spec, extra: dict) -> keras.optimizers.Optimizer:
    if extra.get("grad_divisor"):
        clip = {"clipnorm": spec.clipnorm} if spec.clipnorm else {}
        return UnscalingSGD(extra["grad_divisor"], learning_rate=spec.lr,
                            momentum=spec.momentum, **clip)
    if "optimizer" not in extra and "schedule" not in extra:
        return corpus_models._optimizer(spec)
    name, kwargs = extra.get("optimizer", (spec.optimizer, {}))
    clip = {"clipnorm": spec.clipnorm} if spec.clipnorm else {}
    return OPTIMIZERS[name](_learning_rate(spec, extra), **kwargs, **clip)


def _metric(name: str, spec: Spec, n_classes: int) -> Any:
    if name == "exact_accuracy":
        return keras.metrics.Accuracy(name="accuracy")
    if name == "miou2":
        return keras.metrics.MeanIoU(num_classes=2, name="mean_io_u")
    return fresh2_models._metric(name, spec, n_classes)


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec``: fresh2's model, compiled again with fresh7's
    optimiser, schedule, frozen layers and metrics when ``spec.extra`` or the metric
    names ask for them."""
    extra = getattr(spec, "extra", {}) or {}
    model = fresh2_models.build_model(spec, input_shape, n_classes, vocab, seed)
    if not any(k in extra for k in KEYS) and not any(m in METRICS for m in spec.metrics):
        return model
    if extra.get("frozen"):
        for layer in model.layers[:-1]:
            layer.trainable = False
    model.compile(optimizer=_optimizer(spec, extra), loss=corpus_models._loss(spec),
                  metrics=[_metric(m, spec, n_classes) for m in spec.metrics])
    return model
