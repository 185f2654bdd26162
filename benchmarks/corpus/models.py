"""Keras models, optimisers, schedules and metrics of the corpus (imports Keras).

A case carries a plain ``Spec`` (no Keras objects) so that the design can be listed without
TensorFlow; ``build`` turns it into a compiled model and the ``fit`` keyword arguments.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from benchmarks.corpus.spec import Spec

# Runs here last a few hundred steps: with Keras's default momentum (0.99) the moving
# statistics would stay near their initial values and every BN run would look broken in
# evaluation mode.
BN_MOMENTUM = 0.9


class AlwaysTrainingBN(keras.layers.BatchNormalization):
    """BatchNormalization that ignores ``training``: eval uses the batch's own statistics."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(momentum=BN_MOMENTUM, **kwargs)

    def call(self, inputs: Any, training: Any = None) -> Any:
        return super().call(inputs, training=True)


def _dense(units: int, spec: Spec, h: Any) -> Any:
    init = (keras.initializers.VarianceScaling(spec.init_scale ** 2, "fan_in", "normal")
            if spec.init_scale != 1.0 else "he_uniform")
    bias = keras.initializers.Constant(spec.hidden_bias)
    h = keras.layers.Dense(units, kernel_initializer=init, bias_initializer=bias,
                           use_bias=True)(h)
    if spec.batchnorm:
        h = (AlwaysTrainingBN() if spec.bn_always_training else
             keras.layers.BatchNormalization(momentum=BN_MOMENTUM))(h)
    h = keras.layers.Activation("relu")(h)
    if spec.dropout:
        h = keras.layers.Dropout(spec.dropout)(h)
    return h


def _body(spec: Spec, inputs: Any, vocab: int) -> Any:
    w, fam = spec.width, spec.family
    h = inputs
    if fam == "linear":
        return keras.layers.Flatten()(h) if len(inputs.shape) > 2 else h
    if fam == "cnn2d":
        for filters in (8 * w, 16 * w):
            h = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(h)
            if spec.batchnorm:
                h = (AlwaysTrainingBN() if spec.bn_always_training else
                     keras.layers.BatchNormalization(momentum=BN_MOMENTUM))(h)
            h = keras.layers.MaxPooling2D(2)(h)
        h = keras.layers.Flatten()(h)
    elif fam == "cnn1d":
        for filters in (8 * w, 16 * w):
            h = keras.layers.Conv1D(filters, 5, padding="same", activation="relu")(h)
            if spec.batchnorm:
                h = (AlwaysTrainingBN() if spec.bn_always_training else
                     keras.layers.BatchNormalization(momentum=BN_MOMENTUM))(h)
            h = keras.layers.MaxPooling1D(2)(h)
        h = keras.layers.GlobalAveragePooling1D()(h) if spec.depth < 2 else keras.layers.Flatten()(h)
    elif fam == "embed":
        h = keras.layers.Embedding(vocab, 16 * w)(h)
        h = keras.layers.GlobalAveragePooling1D()(h)
    elif fam == "gru":
        h = keras.layers.Embedding(vocab, 8 * w)(h)
        h = keras.layers.GRU(12 * w)(h)
    elif len(inputs.shape) > 2:
        h = keras.layers.Flatten()(h)
    for _ in range(spec.depth if fam == "mlp" else 1):
        h = _dense(32 * w, spec, h)
    return h


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec``."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=input_shape, dtype="int32" if spec.family in ("embed", "gru")
                         else "float32")
    # augmentation: noise on the training inputs only (Keras turns it off in evaluation)
    noisy = keras.layers.GaussianNoise(spec.input_noise)(inputs) if spec.input_noise else inputs
    h = _body(spec, noisy, vocab)
    if spec.always_dropout:  # a dropout that stays on in evaluation (a train-mode layer)
        h = keras.layers.Dropout(spec.always_dropout)(h, training=True)
    units = 1 if spec.labels == "binary" else n_classes
    outputs = keras.layers.Dense(units, activation=spec.output)(h)
    model = keras.Model(inputs, outputs, name=f"{spec.family}")
    model.compile(optimizer=_optimizer(spec), loss=_loss(spec),
                  metrics=[_metric(m, n_classes) for m in spec.metrics])
    return model


def _loss(spec: Spec) -> Any:
    if spec.labels == "binary":
        return keras.losses.BinaryCrossentropy(from_logits=spec.from_logits)
    if spec.labels == "onehot":
        return keras.losses.CategoricalCrossentropy(from_logits=spec.from_logits)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=spec.from_logits)


def _optimizer(spec: Spec) -> keras.optimizers.Optimizer:
    lr: Any = spec.lr
    if spec.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(spec.lr, spec.decay_steps, alpha=0.02)
    elif spec.schedule == "step":
        lr = keras.optimizers.schedules.PiecewiseConstantDecay(
            [max(1, 2 * spec.decay_steps // 3)], [spec.lr, spec.lr * 0.1])
    clip = {"clipnorm": spec.clipnorm} if spec.clipnorm else {}
    if spec.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=spec.momentum, **clip)
    if spec.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr, **clip)
    if spec.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=1e-3, **clip)
    return keras.optimizers.Adam(lr, **clip)


def _metric(name: str, n_classes: int) -> Any:
    """A metric from its corpus name: 'accuracy', 'f1@0.5', 'recall@0.5', 'f1_none',
    'binary_accuracy', 'auc', 'recall_class:K', 'precision_class:K'."""
    if name == "f1@0.5":
        return keras.metrics.F1Score(threshold=0.5, average="micro", name="f1_score")
    if name == "f1_none":
        return keras.metrics.F1Score(threshold=None, average="micro", name="f1_score")
    if name == "recall@0.5":
        return keras.metrics.Recall(thresholds=0.5, name="recall")
    if name == "precision@0.5":
        return keras.metrics.Precision(thresholds=0.5, name="precision")
    if name == "binary_accuracy":
        return keras.metrics.BinaryAccuracy(name="binary_accuracy")
    if name == "auc":
        return keras.metrics.AUC(name="auc")
    if name.startswith("recall_class:"):
        return keras.metrics.Recall(class_id=int(name.split(":")[1]), name="recall")
    if name.startswith("precision_class:"):
        return keras.metrics.Precision(class_id=int(name.split(":")[1]), name="precision")
    return name


def targets(spec: Spec, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Labels in the form the loss expects."""
    if spec.labels == "binary":
        return y.reshape(-1, 1).astype("float32")
    if spec.labels == "onehot":
        return np.eye(n_classes, dtype="float32")[y]
    return y


def fit_kwargs(spec: Spec, y_train: np.ndarray, n_classes: int) -> dict[str, Any]:
    """epochs, batch size, callbacks and class weights of ``spec``."""
    callbacks: list[Any] = []
    if spec.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=spec.patience, restore_best_weights=True))
    if spec.schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=2, min_lr=1e-6))
    kwargs: dict[str, Any] = {"epochs": spec.epochs, "batch_size": spec.batch_size,
                              "callbacks": callbacks, "shuffle": True, "verbose": 0}
    if spec.class_weight:
        counts = np.bincount(y_train, minlength=n_classes).astype(float)
        weights = len(y_train) / (n_classes * np.maximum(counts, 1))
        kwargs["class_weight"] = {i: float(w) for i, w in enumerate(weights)}
    return kwargs
