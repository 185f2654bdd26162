"""Keras models of the fifth fresh set: fresh2's models (``benchmarks/fresh2/models.py``,
itself the corpus's plus ``kernel_init``/``activation``/``topk:K``/``recall@T``), plus what
some fresh5 implementations need and the corpus's ``Spec`` has no field for (imports Keras).

``spec.extra`` (set by ``benchmarks/fresh5/faults.py``) may hold:

- ``init_std`` (with ``activation``): an MLP whose every kernel (output layer too) is drawn
  from N(0, init_std) with that hidden activation (saturating initialisation);
- ``weight_decay``: AdamW with this decoupled weight decay;
- ``nesterov``: SGD with Nesterov momentum;
- ``warmup``: ``(peak_lr, warmup_steps, decay)``: the learning rate ramps linearly from
  ``spec.lr`` to ``peak_lr`` over ``warmup_steps`` steps, then stays (``decay`` False) or
  follows a cosine decay to 2 % over the remaining steps (``decay`` True);
- ``exp_decay``: per-epoch multiplicative decay of the learning rate (ExponentialDecay);
- ``label_smoothing``: label smoothing of the cross-entropy;
- ``reduction``: the loss reduction (``"sum"``: summed over the batch, not averaged).

Extra metric name: ``rap@P`` (``keras.metrics.RecallAtPrecision(P)``). Anything else goes to
fresh2's ``_metric``. Models without any of these are fresh2's, unchanged.
"""

from __future__ import annotations

import math
from typing import Any

import keras

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2 import models as fresh2_models

OPTIMIZER_KEYS = ("weight_decay", "nesterov", "warmup", "exp_decay")
LOSS_KEYS = ("label_smoothing", "reduction")


@keras.saving.register_keras_serializable(package="fresh5")
class Warmup(keras.optimizers.schedules.LearningRateSchedule):
    """Linear ramp from ``start`` to ``peak`` over ``warmup`` steps, then constant or a
    cosine decay to 2 % of ``peak`` at ``total`` steps."""

    def __init__(self, start: float, peak: float, warmup: int, total: int, decay: bool) -> None:
        self.start, self.peak, self.warmup = float(start), float(peak), int(warmup)
        self.total, self.decay = int(total), bool(decay)

    def __call__(self, step: Any) -> Any:
        from keras import ops

        step = ops.cast(step, "float32")
        ramp = self.start + (self.peak - self.start) * ops.minimum(step / max(self.warmup, 1), 1.0)
        if not self.decay:
            return ramp
        frac = ops.clip((step - self.warmup) / max(self.total - self.warmup, 1), 0.0, 1.0)
        cosine = self.peak * (0.02 + 0.98 * 0.5 * (1 + ops.cos(math.pi * frac)))
        return ops.where(step < self.warmup, ramp, cosine)

    def get_config(self) -> dict[str, Any]:
        return {"start": self.start, "peak": self.peak, "warmup": self.warmup,
                "total": self.total, "decay": self.decay}


def _optimizer(spec: Spec, extra: dict) -> keras.optimizers.Optimizer:
    if not any(k in extra for k in OPTIMIZER_KEYS):
        return corpus_models._optimizer(spec)
    lr: Any = spec.lr
    if "warmup" in extra:
        peak, steps, decay = extra["warmup"]
        lr = Warmup(spec.lr, peak, steps, spec.decay_steps, decay)
    elif "exp_decay" in extra:
        steps_per_epoch = max(1, spec.decay_steps // max(spec.epochs, 1))
        lr = keras.optimizers.schedules.ExponentialDecay(spec.lr, steps_per_epoch,
                                                         extra["exp_decay"])
    elif spec.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(spec.lr, spec.decay_steps, alpha=0.02)
    clip = {"clipnorm": spec.clipnorm} if spec.clipnorm else {}
    if "weight_decay" in extra:
        return keras.optimizers.AdamW(lr, weight_decay=extra["weight_decay"], **clip)
    if spec.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=spec.momentum,
                                    nesterov=bool(extra.get("nesterov")), **clip)
    if spec.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr, **clip)
    return keras.optimizers.Adam(lr, **clip)


def _loss(spec: Spec, extra: dict) -> Any:
    if not any(k in extra for k in LOSS_KEYS):
        return corpus_models._loss(spec)
    kw: dict[str, Any] = {"from_logits": spec.from_logits}
    if "reduction" in extra:
        kw["reduction"] = extra["reduction"]
    if spec.labels == "binary":
        return keras.losses.BinaryCrossentropy(label_smoothing=extra.get("label_smoothing", 0.0), **kw)
    if spec.labels == "onehot":
        return keras.losses.CategoricalCrossentropy(
            label_smoothing=extra.get("label_smoothing", 0.0), **kw)
    return keras.losses.SparseCategoricalCrossentropy(**kw)


def _metric(name: str, spec: Spec, n_classes: int) -> Any:
    if name.startswith("rap@"):
        return keras.metrics.RecallAtPrecision(float(name.split("@")[1]),
                                               name="recall_at_precision")
    return fresh2_models._metric(name, spec, n_classes)


def _saturating_mlp(spec: Spec, input_shape: tuple[int, ...], n_classes: int, extra: dict,
                    seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    init = keras.initializers.RandomNormal(0.0, extra["init_std"], seed=seed)
    inputs = keras.Input(shape=input_shape, dtype="float32")
    h = keras.layers.Flatten()(inputs) if len(input_shape) > 1 else inputs
    for _ in range(spec.depth):
        h = keras.layers.Dense(32 * spec.width, activation=extra.get("activation", "tanh"),
                               kernel_initializer=init)(h)
    units = 1 if spec.labels == "binary" else n_classes
    out = keras.layers.Dense(units, activation=spec.output, kernel_initializer=init)(h)
    return keras.Model(inputs, out, name=spec.family)


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec``: fresh2's model, or the saturating MLP, compiled with
    fresh5's optimiser, loss and metrics when ``spec.extra`` asks for them."""
    extra = getattr(spec, "extra", {}) or {}
    if "init_std" in extra:
        model = _saturating_mlp(spec, input_shape, n_classes, extra, seed)
    else:
        model = fresh2_models.build_model(spec, input_shape, n_classes, vocab, seed)
        if not any(k in extra for k in OPTIMIZER_KEYS + LOSS_KEYS) and not any(
                m.startswith("rap@") for m in spec.metrics):
            return model
    model.compile(optimizer=_optimizer(spec, extra), loss=_loss(spec, extra),
                  metrics=[_metric(m, spec, n_classes) for m in spec.metrics])
    return model
