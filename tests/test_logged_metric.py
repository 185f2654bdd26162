"""A metric logged as validation accuracy that is not the share of rows the model gets right
(``metric_mismatch.logged_differs``): gapdoctor scores the same weights on the same rows at
each epoch's end, so the two must agree. Here a hand-written accuracy forgets the arg-max of
one-hot labels and compares the predicted class with every column of the label."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scripts.tiny import digits, fit, mlp, onehot

from gapdoctor import GapDoctor, diagnose, load_run


def accuracy(y_true, y_pred):
    """The bug: y_true is one-hot, so the predicted class is compared with each of its 10
    entries (broadcast), not with the true class."""
    predicted = keras.ops.cast(keras.ops.argmax(y_pred, axis=-1), y_true.dtype)
    return keras.ops.mean(keras.ops.cast(keras.ops.equal(y_true, predicted[:, None]), "float32"))


def _logged_differs(finding) -> list:
    return [e for e in finding.evidence
            if (e.rule or {}).get("key") == "metric_mismatch.logged_differs"]


@pytest.mark.parametrize("metric", [accuracy, "accuracy"])
def test_a_logged_accuracy_that_is_not_the_measured_one(tmp_path, metric):
    x_tr, x_va, y_tr, y_va = digits()
    y_tr, y_va = onehot(y_tr), onehot(y_va)
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr), output_dir=tmp_path,
                       report=False, verbose=0, background=False)
    model = mlp(metrics=(metric,), loss="categorical_crossentropy")
    fit(model, (x_tr, x_va, y_tr, y_va), doctor, epochs=4)
    mismatch = next(f for f in doctor.diagnosis.findings if f.cause == "metric_mismatch")
    if metric == "accuracy":  # Keras's own: it is the measured accuracy
        assert not _logged_differs(mismatch)
        assert mismatch.score < 0.5
        return
    assert doctor.record.curves["val_accuracy"].iloc[-1] < 0.2  # what fit printed
    assert _logged_differs(mismatch), mismatch.evidence
    assert doctor.diagnosis.verdict == "metric_mismatch"
    assert "is not the share of validation rows the model gets right" in mismatch.summary

    # the same record with fit's validation loss three times the measured one: fit scored
    # another model or other rows (an evaluation path), not a metric that differs
    run = load_run(doctor.run_dir)
    run.curves["val_loss"] = run.curves["val_loss"] * 3.0
    moved = next(f for f in diagnose(run).findings if f.cause == "metric_mismatch")
    assert not _logged_differs(moved)
    assert np.isfinite(moved.score)


def test_the_close_call_is_told_with_the_measured_accuracy():
    from gapdoctor.lookalikes import tell_apart

    told = tell_apart("small_validation_set", "metric_mismatch", facts={"own_last": 0.64})
    assert told.startswith("gapdoctor measured validation accuracy 0.640")
    assert "Count the validation positives" in tell_apart("small_validation_set", "metric_mismatch")
