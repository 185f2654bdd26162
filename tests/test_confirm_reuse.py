"""The arms share compiled models (one per traced graph): each arm must train exactly as it
would on a freshly built clone, whichever arm ran on the shared model before it."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from scripts.tiny import digits  # noqa: E402

from gapdoctor.callback.confirm.arms import Recipe, train_arm  # noqa: E402
from gapdoctor.callback.confirm.reuse import ArmModels  # noqa: E402


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="TensorFlow shuffles alike on a built model; JAX draws once less")
def test_shared_models_train_every_arm_as_a_fresh_clone_would():
    x_tr, x_va, y_tr, y_va = digits(n_train=200)
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dropout(0.3), keras.layers.BatchNormalization(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(x_tr, y_tr, epochs=1, verbose=0)
    train, val = (x_tr, y_tr, None), (x_va, y_va, None)
    # the lr arm after the control (an optimizer state to reset), the control after the others
    recipes = [Recipe("control", 0, 2, 32), Recipe("lr", 0, 2, 32, lr_factor=0.1),
               Recipe("l2", 0, 2, 32, l2=1e-3),
               Recipe("weights", 1, 2, 32, rows=np.arange(150),
                      class_weight={k: 1.0 + k for k in range(10)}),
               Recipe("control", 0, 2, 32)]
    models = ArmModels(model, None, (x_tr[:1], y_tr[:1]))
    for recipe in recipes:
        shared = train_arm(model, None, recipe, train, val, models).val_probs
        own = train_arm(model, None, recipe, train, val).val_probs
        np.testing.assert_allclose(shared, own, atol=1e-6, err_msg=recipe.name)
    assert models.reusing and len(models.compiled) == 2   # plain and L2
