"""Keras models of the twelfth fresh set: fresh2's models (``benchmarks/fresh2/models.py``),
changed where some fresh12 implementations need what the corpus's ``Spec`` has no field for
(imports Keras).

``spec.extra`` (set by ``benchmarks/fresh12/faults*.py``) may hold:

- ``optimizer``: ``(name, kwargs)``, the optimiser class (``adam``, ``rmsprop``, ``sgd``)
  and its extra keyword arguments, with the learning rate ``spec.lr``;
- ``activation``: fresh2's hidden activation (here ``tanh``, ``elu``);
- ``reinit``: every hidden Dense/Conv kernel re-drawn from this initializer
  (``glorot_normal``);
- ``gaussian_dropout``: every Dropout layer replaced by a GaussianDropout of the same rate;
- ``l1``: an L1 penalty of this size on every hidden Dense/Conv kernel;
- ``grad_reversal``: a gradient-reversal layer (identity forward, gradient x -lambda
  backward) between the hidden layers and the output layer.

Metric names go to fresh2's ``_metric``, except ``ascending_mrr`` (a mean reciprocal rank
whose ranking sorts the scores ascending) and ``macro_recall_1000`` (a macro-averaged recall
over ``num_classes = 1000``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2 import models as fresh2_models
from benchmarks.fresh11.models import _kernels

OPTIMIZERS = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
              "rmsprop": keras.optimizers.RMSprop}


def _probabilities(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """(class scores (batch, K), true class as int) for sparse, one-hot or binary labels."""
    if y_pred.shape[-1] == 1:
        scores = keras.ops.concatenate([1.0 - y_pred, y_pred], axis=-1)
        true = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        return scores, true
    if len(y_true.shape) == 2 and y_true.shape[-1] == y_pred.shape[-1]:
        true = keras.ops.cast(keras.ops.argmax(y_true, axis=-1), "int32")
    else:
        true = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
    return y_pred, true


def _ascending_mrr(y_true: Any, y_pred: Any) -> Any:
    """Reciprocal rank of the true class, with the ranking taken from ``argsort`` (ascending)
    where a descending sort was meant: rank 1 is the class with the LOWEST score."""
    scores, true = _probabilities(y_true, y_pred)
    order = keras.ops.argsort(scores, axis=-1)               # ascending (the slip)
    hit = keras.ops.cast(keras.ops.equal(order, keras.ops.expand_dims(true, -1)), "float32")
    ranks = keras.ops.arange(1, scores.shape[-1] + 1, dtype="float32")
    rank = keras.ops.sum(hit * ranks, axis=-1)
    return 1.0 / rank


class MacroRecall(keras.metrics.Metric):
    """Macro-averaged recall over ``num_classes`` classes (classes never seen count 0)."""

    def __init__(self, num_classes: int = 1000, name: str = "macro_recall", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes
        self.hits = self.add_variable(shape=(num_classes,), initializer="zeros", name="hits")
        self.seen = self.add_variable(shape=(num_classes,), initializer="zeros", name="seen")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        scores, true = _probabilities(y_true, y_pred)
        pred = keras.ops.cast(keras.ops.argmax(scores, axis=-1), "int32")
        onehot = keras.ops.one_hot(true, self.num_classes)
        correct = keras.ops.cast(keras.ops.equal(pred, true), "float32")
        self.seen.assign_add(keras.ops.sum(onehot, axis=0))
        self.hits.assign_add(keras.ops.sum(onehot * keras.ops.expand_dims(correct, -1), axis=0))

    def result(self) -> Any:
        recall = self.hits / keras.ops.maximum(self.seen, 1.0)
        return keras.ops.sum(recall) / self.num_classes

    def reset_state(self) -> None:
        self.hits.assign(keras.ops.zeros((self.num_classes,)))
        self.seen.assign(keras.ops.zeros((self.num_classes,)))


@keras.saving.register_keras_serializable(package="fresh12")
class GradientReversal(keras.layers.Layer):
    """Identity forward, gradient multiplied by ``-strength`` backward (a domain-adversarial
    training layer)."""

    def __init__(self, strength: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.strength = float(strength)

    def call(self, inputs: Any) -> Any:
        strength = self.strength

        @tf.custom_gradient
        def reverse(x: Any) -> Any:
            def grad(dy: Any) -> Any:
                return -strength * dy
            return tf.identity(x), grad

        return reverse(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "strength": self.strength}


def _metric(name: str, spec: Spec, n_classes: int) -> Any:
    if name == "ascending_mrr":
        return keras.metrics.MeanMetricWrapper(_ascending_mrr, name="mrr")
    if name == "macro_recall_1000":
        return MacroRecall(1000, name="macro_recall")
    return fresh2_models._metric(name, spec, n_classes)


def _optimizer(spec: Spec, extra: dict) -> keras.optimizers.Optimizer:
    if "optimizer" not in extra:
        return corpus_models._optimizer(spec)
    name, kwargs = extra["optimizer"]
    return OPTIMIZERS[name](spec.lr, **kwargs)


def _with_reversal(model: keras.Model, spec: Spec, strength: float) -> keras.Model:
    """The same network with a gradient-reversal layer in front of the output layer."""
    last = model.layers[-1]
    head = keras.layers.Dense(last.units, activation=last.activation, name="head")
    h = GradientReversal(strength, name="grad_reversal")(last.input)
    out = head(h)
    head.set_weights(last.get_weights())
    return keras.Model(model.inputs, out, name=model.name)


def _gaussian_dropout(model: keras.Model) -> keras.Model:
    def swap(layer: keras.layers.Layer) -> keras.layers.Layer:
        if isinstance(layer, keras.layers.Dropout):
            return keras.layers.GaussianDropout(layer.rate)
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
    if extra.get("gaussian_dropout"):
        model = _gaussian_dropout(model)
    if extra.get("reinit"):
        init = {"glorot_normal": keras.initializers.GlorotNormal}[extra["reinit"]](seed=seed)
        for layer in _kernels(model)[:-1]:
            layer.kernel.assign(init(layer.kernel.shape))
    if extra.get("l1"):
        for layer in _kernels(model)[:-1]:
            layer.kernel.regularizer = keras.regularizers.L1(float(extra["l1"]))
    if extra.get("grad_reversal"):
        model = _with_reversal(model, spec, float(extra["grad_reversal"]))
    model.compile(optimizer=_optimizer(spec, extra), loss=corpus_models._loss(spec),
                  metrics=[_metric(m, spec, n_classes) for m in spec.metrics])
    return model


__all__ = ["build_model", "np"]
