"""Keras models of the fifteenth fresh set: fresh2's models (``benchmarks/fresh2/models.py``),
changed where some fresh15 implementations need what the corpus's ``Spec`` has no field for
(imports Keras).

``spec.extra`` (set by ``benchmarks/fresh15/faults*.py``) may hold:

- ``optimizer``: ``(name, kwargs)``, the optimiser class (``adam``, ``adagrad``,
  ``adadelta``) and its extra keyword arguments, with the learning rate ``spec.lr`` (or
  ``lr_schedule``);
- ``lr_schedule``: ``("linear", lr0, lr1, steps)`` (Keras's ``PolynomialDecay`` with power
  1 from ``lr0`` to ``lr1``);
- ``activation``: fresh2's hidden activation (here ``relu6``, ``celu``);
- ``l2``: an L2 kernel penalty of that coefficient on every Dense / Conv / Embedding layer
  (the model cloned with ``kernel_regularizer`` / ``embeddings_regularizer`` set).

Metric names go to fresh2's ``_metric``, except ``reversed_order_accuracy`` (an accuracy
whose predicted class is ``k - 1 - argmax``) and ``previous_row_accuracy`` (an accuracy
against the label of the previous row of the batch, ``roll(y_true, 1)``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2 import models as fresh2_models
from benchmarks.fresh12.models import _probabilities

OPTIMIZERS = {"adam": keras.optimizers.Adam, "adagrad": keras.optimizers.Adagrad,
              "adadelta": keras.optimizers.Adadelta}


def _reversed_order(y_true: Any, y_pred: Any) -> Any:
    """Accuracy through a reversed class list: predicted class ``k - 1 - argmax``."""
    scores, true = _probabilities(y_true, y_pred)
    k = keras.ops.shape(scores)[-1]
    pred = keras.ops.cast(k - 1 - keras.ops.argmax(scores, axis=-1), "int32")
    return keras.ops.cast(keras.ops.equal(pred, true), "float32")


def _previous_row(y_true: Any, y_pred: Any) -> Any:
    """Accuracy against the previous row's label (``roll(y_true, 1)``)."""
    scores, true = _probabilities(y_true, y_pred)
    pred = keras.ops.cast(keras.ops.argmax(scores, axis=-1), "int32")
    return keras.ops.cast(keras.ops.equal(pred, keras.ops.roll(true, 1, axis=0)), "float32")


def _metric(name: str, spec: Spec, n_classes: int) -> Any:
    if name == "reversed_order_accuracy":
        return keras.metrics.MeanMetricWrapper(_reversed_order, name="accuracy")
    if name == "previous_row_accuracy":
        return keras.metrics.MeanMetricWrapper(_previous_row, name="accuracy")
    return fresh2_models._metric(name, spec, n_classes)


def _schedule(spec: Spec, extra: dict) -> Any:
    kind, *args = extra["lr_schedule"]
    if kind == "linear":
        lr0, lr1, steps = args
        return keras.optimizers.schedules.PolynomialDecay(lr0, max(1, int(steps)), lr1, power=1.0)
    raise ValueError(kind)


def _optimizer(spec: Spec, extra: dict) -> keras.optimizers.Optimizer:
    if "optimizer" not in extra and "lr_schedule" not in extra:
        return corpus_models._optimizer(spec)
    lr: Any = _schedule(spec, extra) if "lr_schedule" in extra else spec.lr
    name, kwargs = extra.get("optimizer", (spec.optimizer, {}))
    return OPTIMIZERS[name](lr, **kwargs)


def _with_l2(model: keras.Model, l2: float) -> keras.Model:
    def swap(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        reg = keras.regularizers.L2(l2)
        if "kernel_regularizer" in config:
            config["kernel_regularizer"] = keras.regularizers.serialize(reg)
        if "embeddings_regularizer" in config:
            config["embeddings_regularizer"] = keras.regularizers.serialize(reg)
        return layer.__class__.from_config(config)
    return keras.models.clone_model(model, clone_function=swap)


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec``: fresh2's model, changed and compiled as
    ``spec.extra`` asks (without any extra key: fresh2's model and compilation)."""
    extra = getattr(spec, "extra", {}) or {}
    plain = dataclasses.replace(spec, metrics=["accuracy"])
    plain.extra = extra  # type: ignore[attr-defined]
    model = fresh2_models.build_model(plain, input_shape, n_classes, vocab, seed)
    if extra.get("l2"):
        model = _with_l2(model, float(extra["l2"]))
    model.compile(optimizer=_optimizer(spec, extra), loss=corpus_models._loss(spec),
                  metrics=[_metric(m, spec, n_classes) for m in spec.metrics])
    return model
