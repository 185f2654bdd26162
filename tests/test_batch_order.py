"""The batch-order check GapDoctor runs at the end of every fit, on real Keras trainings:
a BatchNormalization stuck in training mode, validated on a set stored sorted by class,
reads as a pipeline bug without any confirmation experiment; the same model with a normal
BatchNormalization is checked and cleared; a model without such layers is not checked."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from scripts.tiny import digits  # noqa: E402
from test_confirm_evalmode import StuckBatchNorm  # noqa: E402

from gapdoctor import GapDoctor, load_run  # noqa: E402


def _model(norm: str) -> keras.Model:
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    inputs = keras.Input((64,))
    hidden = keras.layers.Dense(64)(inputs)
    if norm == "stuck":
        hidden = StuckBatchNorm(name="stuck")(hidden)
    elif norm == "normal":
        hidden = keras.layers.BatchNormalization()(hidden)
    hidden = keras.layers.Activation("relu")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden))
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _fit(tmp_path, norm: str):
    x_tr, x_va, y_tr, y_va = digits()
    order = np.argsort(y_va, kind="stable")        # the validation set as stored: by class
    x_va, y_va = x_va[order], y_va[order]
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    model = _model(norm)
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=10, batch_size=32,
              callbacks=[doctor], verbose=0)
    return doctor


def _evidence(diagnosis, key: str):
    finding = diagnosis.finding("pipeline_bug")
    return [e for e in finding.evidence if (e.rule or {}).get("key") == key]


@pytest.mark.parametrize("norm", ["stuck", "normal"])
def test_batch_statistics_at_inference_are_caught_without_an_experiment(tmp_path, norm):
    doctor = _fit(tmp_path, norm)
    check = load_run(doctor.run_dir).meta["batch_order"]  # on disk, as analyze reads it
    assert check["checked"] and check["batch_size"] == 32
    assert check["low"] <= check["effect"] <= check["high"]
    batch_order = _evidence(doctor.diagnosis, "pipeline_bug.batch_order")
    if norm == "stuck":
        assert check["mechanism"] == "batch statistics" and check["low"] > 0.2
        assert "stuck" in check["layers"]
        assert batch_order and batch_order[0].supports
        assert doctor.diagnosis.verdict == "pipeline_bug"
        summary = doctor.diagnosis.finding("pipeline_bug").summary
        assert "random batches" in summary and "stored order" in summary
    else:
        assert check["mechanism"] is None and check["outcome"] == "refuted"
        assert not batch_order
        assert doctor.diagnosis.verdict != "pipeline_bug"


def test_a_model_without_layers_that_change_at_inference_is_not_checked(tmp_path):
    doctor = _fit(tmp_path, "none")
    check = doctor.record.meta["batch_order"]
    assert check == {"checked": False, "reason": "no layer can act differently at inference"}
    assert not _evidence(doctor.diagnosis, "pipeline_bug.batch_order")
