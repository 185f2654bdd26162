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
        # the gap fit logged is the stuck layer's: overfitting hears the check too
        order = [e for e in doctor.diagnosis.finding("overfitting").evidence
                 if (e.rule or {}).get("key") == "overfitting.eval_order"]
        assert order and not order[0].supports
        assert doctor.diagnosis.finding("overfitting").score < 0.5
    else:
        assert check["mechanism"] is None and check["outcome"] == "refuted"
        assert not batch_order
        assert doctor.diagnosis.verdict != "pipeline_bug"


class AlwaysDropout(keras.layers.Dropout):
    """Monte-Carlo dropout as Keras 3 needs it: in a functional model an outer
    ``training=False`` overrides ``Dropout()(x, training=True)``, a subclass is not."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


def test_dropout_left_on_at_inference_is_measured_by_averaging_predictions(tmp_path):
    """Dropout active at inference in a model validated once per epoch: the same batches
    give other outputs, and the mean of five predictions scores better than one."""
    x_tr, x_va, y_tr, y_va = digits()
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    inputs = keras.Input((64,))
    hidden = keras.layers.Dense(64, activation="relu")(inputs)
    hidden = AlwaysDropout(0.7, name="always_on")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden))
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=10, batch_size=32,
              callbacks=[doctor], verbose=0)
    check = doctor.record.meta["batch_order"]
    assert check["mechanism"] == "randomness" and check["repeat_change"] > 1e-3
    averaged = check["averaged"]
    assert averaged["passes"] == 5
    assert averaged["low"] <= averaged["effect"] <= averaged["high"]
    assert averaged["accuracy_averaged"] > averaged["accuracy_single"]
    finding = doctor.diagnosis.finding("pipeline_bug")
    random = _evidence(doctor.diagnosis, "pipeline_bug.random_inference")
    if averaged["low"] > 0:
        assert random and random[0].supports
        assert any("follow `training`" in f.title for f in finding.fixes)
    else:
        assert not random


def test_the_rule_counts_a_measured_effect_as_the_confirmations_do():
    from gapdoctor.confirm.outcome import MIN_EFFECT
    from gapdoctor.rules import pipeline_bug

    assert pipeline_bug.MIN_EFFECT == MIN_EFFECT
    assert pipeline_bug.BATCH_ORDER.hi == pipeline_bug.RANDOM_INFERENCE.hi == MIN_EFFECT


def test_a_model_without_layers_that_change_at_inference_is_not_checked(tmp_path):
    doctor = _fit(tmp_path, "none")
    check = doctor.record.meta["batch_order"]
    assert check == {"checked": False, "reason": "no layer can act differently at inference"}
    assert not _evidence(doctor.diagnosis, "pipeline_bug.batch_order")


CHILD = r'''
import json, os, sys
os.environ["KERAS_BACKEND"] = sys.argv[1]
sys.path[:0] = [sys.argv[3], sys.argv[4]]
import numpy as np
import keras
from scripts.tiny import digits
from test_confirm_evalmode import StuckBatchNorm
from gapdoctor import GapDoctor
x_tr, x_va, y_tr, y_va = digits()
order = np.argsort(y_va, kind="stable")
x_va, y_va = x_va[order], y_va[order]
keras.utils.set_random_seed(0)
inputs = keras.Input((64,))
hidden = keras.layers.Activation("relu")(StuckBatchNorm(name="stuck")(keras.layers.Dense(64)(inputs)))
model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden))
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr), output_dir=sys.argv[2],
                   verbose=0, report=False, background=False)
model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=6, batch_size=32, callbacks=[doctor],
          verbose=0)
json.dump({"check": doctor.record.meta["batch_order"], "failures": doctor.record.failures,
           "verdict": doctor.diagnosis.verdict}, open(os.path.join(sys.argv[2], "out.json"), "w"))
'''


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_the_batch_order_check_runs_on_other_backends(tmp_path, backend):
    import importlib.util
    import json
    import subprocess
    import sys
    from pathlib import Path

    if importlib.util.find_spec(backend) is None:  # CI installs both: .[backends]
        pytest.skip(f"{backend} is not installed")
    tests = Path(__file__).parent
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    proc = subprocess.run([sys.executable, str(script), backend, str(tmp_path), str(tests),
                           str(tests.parent)], env=env, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads((tmp_path / "out.json").read_text())
    assert not out["failures"]
    assert out["check"]["mechanism"] == "batch statistics" and out["check"]["low"] > 0.2
    assert out["verdict"] == "pipeline_bug"


def test_a_stateful_model_is_not_reordered():
    """A stateful RNN's outputs follow the order by design, and every call moves its state:
    the check leaves it alone and says why."""
    from gapdoctor.callback.data_sampling import Sample
    from gapdoctor.callback.probes.batch_order import BatchOrderProbe
    from gapdoctor.callback.state import RunState
    from gapdoctor.record.schema import RunRecord

    keras.backend.clear_session()
    inputs = keras.Input(batch_shape=(4, 5, 3))
    hidden = keras.layers.GRU(8, stateful=True)(inputs)
    hidden = keras.layers.Dropout(0.2)(hidden)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    x = np.zeros((8, 5, 3), "float32")
    state = RunState(model=model, record=RunRecord.empty(source="test"), run_dir=None,
                     settings={}, val=Sample(x, np.zeros(8, int), np.arange(8), "numpy"))
    state.meta["task"] = "multiclass"
    state.arrays["val_labels"] = np.zeros(8, int)
    BatchOrderProbe().on_train_end(state)
    assert state.meta["batch_order"] == {"checked": False, "reason": "a stateful layer carries "
                                         "state across batches"}
