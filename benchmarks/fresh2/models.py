"""Keras models of the second fresh set: the corpus's models (``benchmarks/corpus/models.py``)
plus what some fresh2 faults need and the corpus's ``Spec`` has no field for (imports Keras).

``spec.extra`` (set by ``benchmarks/fresh2/faults.py``) may hold:

- ``kernel_init``: a constant for every hidden Dense/Conv kernel (0: all zeros), biases 0;
- ``activation``: the hidden activation (e.g. ``"sigmoid"``) of an MLP.

Extra metric names: ``topk:K`` (top-K accuracy, sparse or one-hot labels) and ``recall@T``
(recall at threshold T). Anything else goes to the corpus's ``_metric``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec


def _metric(name: str, spec: Spec, n_classes: int) -> Any:
    if name.startswith("topk:"):
        k = int(name.split(":")[1])
        if spec.labels == "onehot":
            return keras.metrics.TopKCategoricalAccuracy(k=k, name="top_k_accuracy")
        return keras.metrics.SparseTopKCategoricalAccuracy(k=k, name="top_k_accuracy")
    if name.startswith("recall@"):
        return keras.metrics.Recall(thresholds=float(name.split("@")[1]), name="recall")
    return corpus_models._metric(name, n_classes)


def _custom_body(spec: Spec, inputs: Any, extra: dict) -> Any:
    """Hidden layers with the extra initialiser / activation (mlp, cnn2d, cnn1d, linear)."""
    value = extra.get("kernel_init")
    init = (keras.initializers.Constant(value) if value is not None else "he_uniform")
    act = extra.get("activation", "relu")
    if act != "relu" and value is None:
        init = "glorot_uniform"
    w, fam, h = spec.width, spec.family, inputs
    if fam == "linear":
        return keras.layers.Flatten()(h) if len(inputs.shape) > 2 else h
    if fam in ("cnn2d", "cnn1d"):
        conv = keras.layers.Conv2D if fam == "cnn2d" else keras.layers.Conv1D
        pool = keras.layers.MaxPooling2D if fam == "cnn2d" else keras.layers.MaxPooling1D
        for filters in (8 * w, 16 * w):
            h = conv(filters, 3 if fam == "cnn2d" else 5, padding="same", activation=act,
                     kernel_initializer=init, bias_initializer="zeros")(h)
            h = pool(2)(h)
        h = keras.layers.Flatten()(h)
        depth = 1
    else:
        if len(inputs.shape) > 2:
            h = keras.layers.Flatten()(h)
        depth = spec.depth
    for _ in range(depth):
        h = keras.layers.Dense(32 * w, activation=act, kernel_initializer=init,
                               bias_initializer="zeros")(h)
        if spec.dropout:
            h = keras.layers.Dropout(spec.dropout)(h)
    return h


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec`` (the corpus's model unless ``spec.extra`` asks for
    another initialiser or activation), compiled with the fresh2 metric names."""
    extra = getattr(spec, "extra", {}) or {}
    if extra.get("kernel_init") is not None or extra.get("activation"):
        keras.utils.set_random_seed(seed)
        inputs = keras.Input(shape=input_shape, dtype="float32")
        h = _custom_body(spec, inputs, extra)
        units = 1 if spec.labels == "binary" else n_classes
        model = keras.Model(inputs, keras.layers.Dense(units, activation=spec.output)(h),
                            name=spec.family)
    else:
        plain = dataclasses.replace(spec, metrics=["accuracy"])
        model = corpus_models.build_model(plain, input_shape, n_classes, vocab, seed)
    model.compile(optimizer=corpus_models._optimizer(spec), loss=corpus_models._loss(spec),
                  metrics=[_metric(m, spec, n_classes) for m in spec.metrics])
    return model
