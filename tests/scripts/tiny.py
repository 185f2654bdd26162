"""Tiny Keras trainings for the callback tests: sklearn digits, a few epochs, seconds each."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402


def digits(n_train: int | None = None, image: bool = False, seed: int = 0):
    """(x_train, x_val, y_train, y_val) of scikit-learn digits scaled to [0, 1]."""
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    if image:
        x = x.reshape(-1, 8, 8, 1)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.2, random_state=seed,
                                              stratify=y)
    if n_train is not None:
        x_tr, y_tr = x_tr[:n_train], y_tr[:n_train]
    return x_tr, x_va, y_tr.astype("int64"), y_va.astype("int64")


def mlp(n_out: int = 10, activation: str | None = "softmax", loss: object = None,
        input_shape: tuple[int, ...] | None = (64,), metrics: tuple = ("accuracy",),
        lr: float = 0.01) -> keras.Model:
    """A one-hidden-layer ReLU MLP; ``input_shape=None`` leaves it unbuilt until fit.

    Keras's name counters are reset first, so its layers are always ``dense`` and
    ``dense_1`` whichever tests ran before."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    layers = [keras.Input(input_shape)] if input_shape is not None else []
    if input_shape is not None and len(input_shape) > 1:
        layers.append(keras.layers.Flatten())
    layers += [keras.layers.Dense(32, activation="relu"),
               keras.layers.Dense(n_out, activation=activation)]
    model = keras.Sequential(layers)
    model.compile(keras.optimizers.Adam(lr), loss or "sparse_categorical_crossentropy",
                  metrics=list(metrics))
    return model


def fit(model: keras.Model, data, doctor, epochs: int = 3, **kwargs):
    x_tr, x_va, y_tr, y_va = data
    kwargs.setdefault("validation_data", (x_va, y_va))
    return model.fit(x_tr, y_tr, epochs=epochs, batch_size=64, verbose=0,
                     callbacks=[doctor], **kwargs)


def doctored_digits_fit(model: keras.Model, tmp_path, epochs: int, **doctor_kwargs):
    """Fit a compiled digits model with a foreground GapDoctor (no report) watching the
    training and validation rows; returns the doctor."""
    from gapdoctor import GapDoctor

    data = digits()
    x_tr, x_va, y_tr, y_va = data
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr), output_dir=tmp_path,
                       verbose=0, background=False, report=False, **doctor_kwargs)
    fit(model, data, doctor, epochs=epochs)
    return doctor


def onehot(y: np.ndarray, n: int = 10) -> np.ndarray:
    return np.eye(n, dtype="float32")[y]


def dense_net(n_in: int, n_out: int, width: int = 256, lr: float = 3e-3) -> keras.Model:
    """Two ReLU layers of ``width`` units and a softmax, Adam, sparse cross-entropy, seed 0:
    a model big enough to memorise the small sets the confirmation tests train on."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((n_in,)), keras.layers.Dense(width, activation="relu"),
                              keras.layers.Dense(width, activation="relu"),
                              keras.layers.Dense(n_out, activation="softmax")])
    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def two_heads(kind: str, dropout: float = 0.0) -> keras.Model:
    """A shared hidden layer (with ``dropout`` after it, if any), a 10-class head ``digit``
    and a second head: ``ink`` (the image's mean intensity, mse) or ``even`` (2 classes)."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    x = keras.Input((64,))
    h = keras.layers.Dense(32, activation="relu", name="shared")(x)
    if dropout:
        h = keras.layers.Dropout(dropout)(h)
    digit = keras.layers.Dense(10, activation="softmax", name="digit")(h)
    if kind == "even":
        even = keras.layers.Dense(2, activation="softmax", name="even")(h)
        model = keras.Model(x, {"digit": digit, "even": even})
        model.compile(keras.optimizers.Adam(0.01), {"digit": "sparse_categorical_crossentropy",
                                                    "even": "sparse_categorical_crossentropy"})
        return model
    ink = keras.layers.Dense(1, name="ink")(h)
    if kind == "dict":
        model = keras.Model(x, {"digit": digit, "ink": ink})
        model.compile(keras.optimizers.Adam(0.01),
                      {"digit": "sparse_categorical_crossentropy", "ink": "mse"},
                      metrics={"digit": ["accuracy"]})
    else:  # a list, the regression head first
        model = keras.Model(x, [ink, digit])
        model.compile(keras.optimizers.Adam(0.01), ["mse", "sparse_categorical_crossentropy"],
                      metrics=[[], ["accuracy"]])
    return model


def two_head_labels(kind: str, x: np.ndarray, y: np.ndarray):
    """The labels of :func:`two_heads` (a dict, or a list for ``kind="list"``)."""
    if kind == "even":
        return {"digit": y, "even": y % 2}
    ink = x.mean(axis=1, keepdims=True)
    return {"digit": y, "ink": ink} if kind == "dict" else [ink, y]
