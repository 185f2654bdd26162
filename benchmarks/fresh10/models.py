"""Keras models of the tenth fresh set: fresh2's models (``benchmarks/fresh2/models.py``),
changed where some fresh10 implementations need what the corpus's ``Spec`` has no field for
(imports Keras).

``spec.extra`` (set by ``benchmarks/fresh10/faults*.py``) may hold:

- ``optimizer``: ``(name, kwargs)``, the optimiser class (``adam``, ``ftrl``, ``rmsprop``)
  and its extra keyword arguments (e.g. ``use_ema``), with the learning rate ``spec.lr``;
- ``dropout_inactive``: the model is built without its dropout layers although
  ``spec.dropout`` (recorded in the manifest) says otherwise (dropout called with
  ``training=False``);
- ``reinit``: every Dense/Conv kernel re-drawn from ``lecun_normal`` or ``orthogonal``;
- ``activation``: fresh2's hidden activation (e.g. ``selu``);
- ``focal``: the focal cross-entropy (``gamma``), binary or categorical (one-hot labels).

Metric names go to fresh2's ``_metric``, except ``positive_rate`` (the mean predicted
probability of the positive class, labels unused) and ``class_distance`` (the mean absolute
difference between the predicted and the true class id).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2 import models as fresh2_models

OPTIMIZERS = {"adam": keras.optimizers.Adam, "ftrl": keras.optimizers.Ftrl,
              "rmsprop": keras.optimizers.RMSprop}


def _positive_rate(y_true: Any, y_pred: Any) -> Any:
    p = y_pred[:, -1] if y_pred.shape[-1] and y_pred.shape[-1] > 1 else y_pred[:, 0]
    return keras.ops.mean(p)


def _class_distance(y_true: Any, y_pred: Any) -> Any:
    pred = keras.ops.cast(keras.ops.argmax(y_pred, axis=-1), "float32")
    true = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "float32")
    return keras.ops.abs(pred - true)


def _metric(name: str, spec: Spec, n_classes: int) -> Any:
    if name == "positive_rate":
        return keras.metrics.MeanMetricWrapper(_positive_rate, name="positive_rate")
    if name == "class_distance":
        return keras.metrics.MeanMetricWrapper(_class_distance, name="class_distance")
    return fresh2_models._metric(name, spec, n_classes)


def _optimizer(spec: Spec, extra: dict) -> keras.optimizers.Optimizer:
    if "optimizer" not in extra:
        return corpus_models._optimizer(spec)
    name, kwargs = extra["optimizer"]
    return OPTIMIZERS[name](spec.lr, **kwargs)


def _loss(spec: Spec, extra: dict) -> Any:
    if extra.get("focal") is not None:
        gamma = float(extra["focal"])
        if spec.labels == "binary":
            return keras.losses.BinaryFocalCrossentropy(gamma=gamma)
        return keras.losses.CategoricalFocalCrossentropy(gamma=gamma)
    return corpus_models._loss(spec)


def _kernels(model: keras.Model) -> list[Any]:
    kinds = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec``: fresh2's model, changed and compiled as
    ``spec.extra`` asks (without any extra key: fresh2's model and compilation)."""
    extra = getattr(spec, "extra", {}) or {}
    plain = dataclasses.replace(spec, metrics=["accuracy"])
    if extra.get("dropout_inactive"):
        plain = dataclasses.replace(plain, dropout=0.0)
    plain.extra = extra  # type: ignore[attr-defined]
    model = fresh2_models.build_model(plain, input_shape, n_classes, vocab, seed)
    if extra.get("reinit"):
        init = {"lecun_normal": keras.initializers.LecunNormal,
                "orthogonal": keras.initializers.Orthogonal}[extra["reinit"]](seed=seed)
        for layer in _kernels(model):
            layer.kernel.assign(init(layer.kernel.shape))
    model.compile(optimizer=_optimizer(spec, extra), loss=_loss(spec, extra),
                  metrics=[_metric(m, spec, n_classes) for m in spec.metrics])
    return model
