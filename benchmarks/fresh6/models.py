"""Keras models of the sixth fresh set: fresh2's models (``benchmarks/fresh2/models.py``,
itself the corpus's plus ``kernel_init``/``activation``/``topk:K``/``recall@T``), compiled
again with what some fresh6 implementations need and the corpus's ``Spec`` has no field for
(imports Keras).

``spec.extra`` (set by ``benchmarks/fresh6/faults*.py``) may hold:

- ``optimizer``: ``(name, kwargs)``, the optimiser class (``adam``, ``adadelta``, ``lion``,
  ``adamax``) and its extra keyword arguments (e.g. ``epsilon``, ``amsgrad``), with the
  learning rate ``spec.lr`` (or the schedule below) and ``spec.clipnorm``;
- ``schedule``: ``("step_exp", r)`` (ExponentialDecay with ``decay_steps=1``),
  ``("cyclic", low, high, half_period_steps)`` (triangular cyclical rate) or
  ``("poly", end, power)`` (PolynomialDecay from ``spec.lr`` to ``end`` over the run).

Extra metric name: ``auc3`` (``keras.metrics.AUC(num_thresholds=3)``). Anything else goes to
fresh2's ``_metric``. Models without any of these are fresh2's, unchanged.
"""

from __future__ import annotations

from typing import Any

import keras

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2 import models as fresh2_models

OPTIMIZERS = {"adam": keras.optimizers.Adam, "adadelta": keras.optimizers.Adadelta,
              "lion": keras.optimizers.Lion, "adamax": keras.optimizers.Adamax}


@keras.saving.register_keras_serializable(package="fresh6")
class Triangular(keras.optimizers.schedules.LearningRateSchedule):
    """A triangular cyclical learning rate between ``low`` and ``high``, half a cycle every
    ``half`` steps."""

    def __init__(self, low: float, high: float, half: int) -> None:
        self.low, self.high, self.half = float(low), float(high), int(half)

    def __call__(self, step: Any) -> Any:
        from keras import ops

        phase = ops.cast(step, "float32") / max(self.half, 1)
        tri = 1.0 - ops.abs(ops.mod(phase, 2.0) - 1.0)
        return self.low + (self.high - self.low) * tri

    def get_config(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "half": self.half}


def _schedule(spec: Spec, extra: dict) -> Any:
    kind = extra.get("schedule")
    if kind is None:
        if spec.schedule == "cosine":
            return keras.optimizers.schedules.CosineDecay(spec.lr, spec.decay_steps, alpha=0.02)
        return spec.lr
    if kind[0] == "step_exp":
        return keras.optimizers.schedules.ExponentialDecay(spec.lr, 1, kind[1])
    if kind[0] == "cyclic":
        return Triangular(kind[1], kind[2], kind[3])
    if kind[0] == "poly":
        return keras.optimizers.schedules.PolynomialDecay(spec.lr, spec.decay_steps, kind[1],
                                                          power=kind[2])
    raise ValueError(f"unknown schedule {kind!r}")


def _optimizer(spec: Spec, extra: dict) -> keras.optimizers.Optimizer:
    name, kwargs = extra.get("optimizer", (spec.optimizer, {}))
    if name not in OPTIMIZERS:
        return corpus_models._optimizer(spec)
    clip = {"clipnorm": spec.clipnorm} if spec.clipnorm else {}
    return OPTIMIZERS[name](_schedule(spec, extra), **kwargs, **clip)


def _metric(name: str, spec: Spec, n_classes: int) -> Any:
    if name == "auc3":
        return keras.metrics.AUC(num_thresholds=3, name="auc")
    return fresh2_models._metric(name, spec, n_classes)


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec``: fresh2's model, compiled again with fresh6's
    optimiser, schedule and metrics when ``spec.extra`` or the metric names ask for them."""
    extra = getattr(spec, "extra", {}) or {}
    model = fresh2_models.build_model(spec, input_shape, n_classes, vocab, seed)
    if not any(k in extra for k in ("optimizer", "schedule")) and "auc3" not in spec.metrics:
        return model
    model.compile(optimizer=_optimizer(spec, extra), loss=corpus_models._loss(spec),
                  metrics=[_metric(m, spec, n_classes) for m in spec.metrics])
    return model
