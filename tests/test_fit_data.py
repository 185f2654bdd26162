"""``callbacks=[GapDoctor()]`` with no data given: GapDoctor reads fit's own validation and
training data (arrays, tf.data, the rows a ``validation_split`` keeps), says so in a note,
and confirm() retrains on them; a Python generator, which cannot be read twice, gets a note
asking for the data instead of a failure. Real tiny trainings (digits, 4 epochs)."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from scripts.tiny import dense_net, digits  # noqa: E402

from gapdoctor import load_run  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402

X_TR, X_VA, Y_TR, Y_VA = digits()


def _batches(x, y):
    while True:
        for i in range(0, len(x), 64):
            yield x[i:i + 64], y[i:i + 64]


FITS = {
    "arrays": lambda: dict(x=X_TR, y=Y_TR, validation_data=(X_VA, Y_VA), batch_size=64),
    "split": lambda: dict(x=X_TR, y=Y_TR, validation_split=0.2, batch_size=64),
    "tf.data": lambda: dict(
        x=tf.data.Dataset.from_tensor_slices((X_TR, Y_TR)).shuffle(2000, seed=0).batch(64),
        validation_data=tf.data.Dataset.from_tensor_slices((X_VA, Y_VA)).batch(64)),
    "generator": lambda: dict(x=_batches(X_TR, Y_TR), steps_per_epoch=23,
                              validation_data=_batches(X_VA, Y_VA), validation_steps=6),
}


def _fit(tmp_path, kind):
    model = dense_net(64, 10, width=64)
    doctor = GapDoctor(output_dir=tmp_path, run_name=kind, report=False, background=False,
                       verbose=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(epochs=4, verbose=0, callbacks=[doctor], **FITS[kind]())
    said = [str(w.message) for w in caught if "GapDoctor" in str(w.message)]
    return doctor, load_run(doctor.run_dir), said


@pytest.mark.parametrize("kind, n_train, n_val", [("arrays", len(X_TR), len(X_VA)),
                                                  ("split", math.floor(len(X_TR) * 0.8),
                                                   len(X_TR) - math.floor(len(X_TR) * 0.8)),
                                                  ("tf.data", len(X_TR), len(X_VA))])
def test_fits_own_data_is_read_when_none_is_given(tmp_path, kind, n_train, n_val):
    doctor, run, said = _fit(tmp_path, kind)
    assert said == [] and run.failures == []
    assert any("so it reads fit's own" in n for n in run.meta["notes"])
    data = run.meta["data"]
    assert (data["n_train"], data["n_val"]) == (n_train, n_val)
    assert data["n_train_probe"] == 512
    assert set(run.per_class["class_index"]) == set(range(10)) and run.has("layers")
    # validation predictions are of the rows fit validated on: their accuracy is fit's own
    last = run.split_metrics[run.split_metrics.split == "val"].iloc[-1]["accuracy"]
    assert last == pytest.approx(float(run.curves["val_accuracy"].iloc[-1]), abs=1e-6)
    if kind == "arrays":   # confirm() retrains on the same data
        d = doctor.confirm(causes=["small_validation_set"], seeds=1, verbose=0)
        assert d.confirmations[0]["outcome"] in ("confirmed", "refuted", "inconclusive")


def test_a_generator_gets_a_note_not_a_failure(tmp_path):
    doctor, run, said = _fit(tmp_path, "generator")
    assert said == [] and run.failures == []
    (note,) = [n for n in run.meta["notes"] if "cannot read fit's" in n]
    assert "generator" in note and "GapDoctor(validation_data=" in note
    assert len(run.curves) == 4 and doctor.diagnosis is not None
    assert np.isfinite(run.curves["val_loss"]).all()
