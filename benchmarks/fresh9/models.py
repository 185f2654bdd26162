"""Keras models of the ninth fresh set: fresh2's models (``benchmarks/fresh2/models.py``,
the corpus's plus ``kernel_init``/``activation``), changed where some fresh9 implementations
need what the corpus's ``Spec`` has no field for (imports Keras).

``spec.extra`` (set by ``benchmarks/fresh9/faults*.py``) may hold:

- ``optimizer``: ``(name, kwargs)``, the optimiser class (``adam``, ``adagrad``, ``muon``)
  and its extra keyword arguments, with the learning rate ``spec.lr``;
- ``max_norm``: a ``MaxNorm(c)`` constraint on every Dense/Conv kernel (output layer too),
  applied by the optimiser after each update;
- ``l2``: an L2 penalty (``kernel_regularizer``) on every Dense/Conv kernel;
- ``focal``: the categorical focal cross-entropy (``gamma``) on one-hot labels;
- ``flatten_embed``: an embedding model whose sequence of embeddings is flattened into a
  wide Dense layer (one weight per position) instead of pooled;
- ``sample_weight``: per-row training weights, passed to ``model.fit(sample_weight=...)``
  (done by wrapping the model's ``fit``).

Every model is compiled here (without any of these keys: fresh2's optimiser, loss and
metrics, so it is fresh2's model unchanged).

Metric names go to fresh2's ``_metric``, except ``mae_column`` and ``cosine_column``:
Keras's mean absolute error and cosine similarity with the integer labels as a column
vector ``(n, 1)`` (what ``df[['label']].to_numpy()`` gives), broadcast against the
``(n, K)`` probabilities.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2 import models as fresh2_models

OPTIMIZERS = {"adam": keras.optimizers.Adam, "adagrad": keras.optimizers.Adagrad,
              "muon": keras.optimizers.Muon}


def _column(fn: Any) -> Any:
    """``fn`` (a Keras metric function) with the labels as a column vector ``(n, 1)``."""
    def on_column(y_true: Any, y_pred: Any) -> Any:
        return fn(keras.ops.reshape(keras.ops.cast(y_true, y_pred.dtype), (-1, 1)), y_pred)
    return on_column


def _cosine(y_true: Any, y_pred: Any) -> Any:
    """Keras's ``cosine_similarity`` metric (l2-normalised along the last axis, summed)."""
    return keras.ops.sum(keras.ops.normalize(y_true, axis=-1)
                         * keras.ops.normalize(y_pred, axis=-1), axis=-1)


def _metric(name: str, spec: Spec, n_classes: int) -> Any:
    if name == "mae_column":
        return keras.metrics.MeanMetricWrapper(_column(keras.metrics.mean_absolute_error),
                                               name="mae")
    if name == "cosine_column":
        return keras.metrics.MeanMetricWrapper(_column(_cosine),
                                               name="cosine_similarity")
    return fresh2_models._metric(name, spec, n_classes)


def _optimizer(spec: Spec, extra: dict) -> keras.optimizers.Optimizer:
    if "optimizer" not in extra:   # the recipe's own optimiser and schedule
        return corpus_models._optimizer(spec)
    name, kwargs = extra["optimizer"]
    clip = {"clipnorm": spec.clipnorm} if spec.clipnorm else {}
    return OPTIMIZERS[name](spec.lr, **kwargs, **clip)


def _loss(spec: Spec, extra: dict) -> Any:
    if extra.get("focal") is not None:
        return keras.losses.CategoricalFocalCrossentropy(gamma=float(extra["focal"]))
    return corpus_models._loss(spec)


def _flatten_embed(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                   seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=input_shape, dtype="int32")
    h = keras.layers.Flatten()(keras.layers.Embedding(vocab, 16 * spec.width)(inputs))
    h = keras.layers.Dense(64 * spec.width, activation="relu")(h)
    units = 1 if spec.labels == "binary" else n_classes
    return keras.Model(inputs, keras.layers.Dense(units, activation=spec.output)(h),
                       name=spec.family)


def _kernels(model: keras.Model) -> list[Any]:
    """The Dense and Conv layers, in order (the output layer last)."""
    kinds = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def _weighted(model: keras.Model, weights: np.ndarray) -> None:
    fit = model.fit

    def fit_weighted(*args: Any, **kwargs: Any) -> Any:
        return fit(*args, **{**kwargs, "sample_weight": weights})

    model.fit = fit_weighted  # type: ignore[method-assign]


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec``: fresh2's model (compiled with fresh2's optimiser,
    loss and metrics when ``spec.extra`` asks for nothing else), changed and compiled as
    ``spec.extra`` asks, fitted with sample weights when ``sample_weight`` is set."""
    extra = getattr(spec, "extra", {}) or {}
    if extra.get("flatten_embed"):
        model = _flatten_embed(spec, input_shape, n_classes, vocab, seed)
    else:
        plain = dataclasses.replace(spec, metrics=["accuracy"])   # compiled again below
        plain.extra = extra  # type: ignore[attr-defined]
        model = fresh2_models.build_model(plain, input_shape, n_classes, vocab, seed)
    layers = _kernels(model)
    if extra.get("max_norm") is not None:
        for layer in layers:
            layer.kernel.constraint = keras.constraints.MaxNorm(float(extra["max_norm"]))
    if extra.get("l2") is not None:
        for layer in layers:
            layer.kernel.regularizer = keras.regularizers.L2(float(extra["l2"]))
    model.compile(optimizer=_optimizer(spec, extra), loss=_loss(spec, extra),
                  metrics=[_metric(m, spec, n_classes) for m in spec.metrics])
    if extra.get("sample_weight") is not None:
        _weighted(model, np.asarray(extra["sample_weight"], "float32"))
    return model
