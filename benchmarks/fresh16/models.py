"""Keras models of the sixteenth fresh set: fresh2's models (``benchmarks/fresh2/models.py``),
changed where some fresh16 implementations need what the corpus's ``Spec`` has no field for
(imports Keras).

``spec.extra`` (set by ``benchmarks/fresh16/faults*.py``) may hold:

- ``optimizer``: ``(name, kwargs)``, the optimiser class (``adam``, ``sgd``) and its extra
  keyword arguments (e.g. ``global_clipnorm``), with the learning rate ``spec.lr`` (or
  ``lr_schedule``);
- ``lr_schedule``: ``("halving", lr0, steps)`` (Keras's ``ExponentialDecay`` with rate 0.5
  every ``steps``, staircase);
- ``activation``: fresh2's hidden activation (here ``softsign``, ``squareplus``);
- ``output_bias``: the output layer's initial bias (one value per output unit).

Metric names go to fresh2's ``_metric``, except ``second_choice_accuracy`` (an accuracy
whose predicted class is the runner-up, ``argsort(p)[:, -2]``) and ``batch_axis_accuracy``
(``argmax`` over the batch axis compared with the batch's first k labels).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2 import models as fresh2_models
from benchmarks.fresh12.models import _probabilities

OPTIMIZERS = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}


def _second_choice(y_true: Any, y_pred: Any) -> Any:
    """Accuracy of the runner-up class (the second column of the descending sort)."""
    scores, true = _probabilities(y_true, y_pred)
    pred = keras.ops.cast(keras.ops.argsort(scores, axis=-1)[:, -2], "int32")
    return keras.ops.cast(keras.ops.equal(pred, true), "float32")


def _batch_axis(y_true: Any, y_pred: Any) -> Any:
    """``argmax`` over the batch axis (k row indices) against the batch's first k labels."""
    scores, true = _probabilities(y_true, y_pred)
    k = keras.ops.shape(scores)[-1]
    pred = keras.ops.cast(keras.ops.argmax(scores, axis=0), "int32")
    n = keras.ops.minimum(k, keras.ops.shape(true)[0])
    return keras.ops.cast(keras.ops.equal(pred[:n], true[:n]), "float32")


def _metric(name: str, spec: Spec, n_classes: int) -> Any:
    if name == "second_choice_accuracy":
        return keras.metrics.MeanMetricWrapper(_second_choice, name="accuracy")
    if name == "batch_axis_accuracy":
        return keras.metrics.MeanMetricWrapper(_batch_axis, name="accuracy")
    return fresh2_models._metric(name, spec, n_classes)


def _schedule(spec: Spec, extra: dict) -> Any:
    kind, *args = extra["lr_schedule"]
    if kind == "halving":
        lr0, steps = args
        return keras.optimizers.schedules.ExponentialDecay(lr0, max(1, int(steps)), 0.5,
                                                           staircase=True)
    raise ValueError(kind)


def _optimizer(spec: Spec, extra: dict) -> keras.optimizers.Optimizer:
    if "optimizer" not in extra and "lr_schedule" not in extra:
        return corpus_models._optimizer(spec)
    lr: Any = _schedule(spec, extra) if "lr_schedule" in extra else spec.lr
    name, kwargs = extra.get("optimizer", (spec.optimizer, {}))
    if name == "sgd":
        kwargs = {"momentum": spec.momentum, **kwargs}
    return OPTIMIZERS[name](lr, **kwargs)


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec``: fresh2's model, changed and compiled as
    ``spec.extra`` asks (without any extra key: fresh2's model and compilation)."""
    extra = getattr(spec, "extra", {}) or {}
    plain = dataclasses.replace(spec, metrics=["accuracy"])
    plain.extra = extra  # type: ignore[attr-defined]
    model = fresh2_models.build_model(plain, input_shape, n_classes, vocab, seed)
    if extra.get("output_bias") is not None:
        model.layers[-1].bias.assign(np.asarray(extra["output_bias"], "float32"))
    model.compile(optimizer=_optimizer(spec, extra), loss=corpus_models._loss(spec),
                  metrics=[_metric(m, spec, n_classes) for m in spec.metrics])
    return model
