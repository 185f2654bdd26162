"""Small Keras models for fault cases (imports Keras: only the demo and benchmark use it).

``cases.py`` imports this module lazily (inside ``train_case``); this module needs ``Case``
only for type hints, so it never imports ``cases.py`` at run time: no import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras

if TYPE_CHECKING:  # pragma: no cover
    from gapdoctor.faults.cases import Case


def build_model(case: Case) -> keras.Model:
    """A compiled MLP or small CNN sized by ``case.width``, with the case's metric."""
    keras.utils.set_random_seed(case.seed)
    d = case.x_train.shape[1]
    w = case.width
    inputs = keras.Input(shape=(d,))
    if case.arch == "mlp":
        h = keras.layers.Dense(64 * w, activation="relu")(inputs)
        h = keras.layers.Dense(32 * w, activation="relu")(h)
    else:
        side = int(round(d ** 0.5))
        if side * side == d:
            h = keras.layers.Reshape((side, side, 1))(inputs)
            h = keras.layers.Conv2D(8 * w, 3, activation="relu", padding="same")(h)
            h = keras.layers.Conv2D(16 * w, 3, activation="relu")(h)
        else:
            h = keras.layers.Reshape((d, 1))(inputs)
            h = keras.layers.Conv1D(8 * w, 3, activation="relu", padding="same")(h)
            h = keras.layers.Conv1D(16 * w, 3, activation="relu")(h)
        h = keras.layers.Flatten()(h)
        h = keras.layers.Dense(32 * w, activation="relu")(h)
    if case.binary:
        outputs = keras.layers.Dense(1, activation="sigmoid")(h)
        loss = "binary_crossentropy"
    else:
        outputs = keras.layers.Dense(case.n_classes, activation="softmax")(h)
        loss = "sparse_categorical_crossentropy"
    model = keras.Model(inputs, outputs, name=f"{case.arch}_{case.dataset}")
    name, lr = case.optimizer
    optimizer = (keras.optimizers.Adam(lr) if name == "adam"
                 else keras.optimizers.SGD(lr, momentum=0.9))
    model.compile(optimizer=optimizer, loss=loss, metrics=[_metric(case)])
    return model


def _metric(case: Case) -> Any:
    if case.metric == "f1_at_0.5":
        return keras.metrics.F1Score(threshold=0.5, average="micro", name="f1_score")
    if case.metric == "f1_threshold_none":
        return keras.metrics.F1Score(threshold=None, average="micro", name="f1_score")
    return "accuracy"


def fit_case(model: keras.Model, case: Case, callbacks: list[Any] | None = None,
             verbose: int = 0) -> keras.callbacks.History:
    """Fit ``model`` on the case's data with its epochs and batch size."""
    y_train, y_val = case.y_train, case.y_val
    if case.binary:
        y_train = y_train.reshape(-1, 1).astype("float32")
        y_val = y_val.reshape(-1, 1).astype("float32")
    return model.fit(case.x_train, y_train, validation_data=(case.x_val, y_val),
                     epochs=case.epochs, batch_size=case.batch_size, shuffle=True,
                     callbacks=callbacks or [], verbose=verbose)
