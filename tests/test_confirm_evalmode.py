"""The train/eval-mode check of pipeline_bug on real Keras trainings: a BatchNormalization
forced into training mode, evaluated on a validation set stored sorted by class, is
confirmed; the same model with a normal BatchNormalization is refuted."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from scripts.tiny import digits  # noqa: E402

from gapdoctor import GapDoctor  # noqa: E402


class StuckBatchNorm(keras.layers.Layer):
    """The bug: a custom layer that always normalises with the batch's own statistics."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bn = keras.layers.BatchNormalization(name="inner_bn")

    def call(self, x, training=None):
        return self.bn(x, training=True)


def _model(stuck: bool) -> keras.Model:
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    norm = StuckBatchNorm(name="stuck") if stuck else keras.layers.BatchNormalization()
    inputs = keras.Input((64,))
    hidden = keras.layers.Dense(64)(inputs)
    hidden = keras.layers.Activation("relu")(norm(hidden))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden))
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.mark.parametrize("stuck, expected", [(True, "confirmed"), (False, "refuted")])
def test_batchnorm_stuck_in_training_mode_is_confirmed_on_a_class_sorted_validation_set(
        tmp_path, stuck, expected):
    x_tr, x_va, y_tr, y_va = digits()
    order = np.argsort(y_va, kind="stable")        # the validation set as stored: by class
    x_va, y_va = x_va[order], y_va[order]
    model = _model(stuck)
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=12, batch_size=32,
              callbacks=[doctor], verbose=0)
    d = doctor.confirm(causes=["pipeline_bug"], seeds=1, verbose=0)
    result = d.finding("pipeline_bug").confirmation[0]
    mode = next(c for c in result["details"]["checks"] if c["experiment"] == "evaluation_mode")
    assert mode["outcome"] == expected, mode["text"]
    assert result["outcome"] == expected, result["text"]
    assert mode["details"]["batch_size"] == 32
    low, high = mode["interval"]
    assert low <= mode["effect"] <= high
    logged = mode["details"]["logged"]
    # fit's own evaluation (stored order, batches of 32) is what the check reproduced
    assert logged is not None and not logged["clear"]
    assert abs(logged["logged"] - mode["before"]) < 0.01
    if stuck:
        assert result["experiment"] == "evaluation_mode" and low > 0.2
        assert mode["details"]["mechanism"] == "batch statistics"
        assert "inner_bn" in mode["details"]["layers"]["batch_norm"]
        assert "shuffled batches" in mode["text"] and "batch statistics" in mode["text"]
    else:
        assert mode["details"]["mechanism"] is None and high < 0.02
