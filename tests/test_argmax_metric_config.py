"""Arg-max accuracies that cannot see what the model learns, read from the recorded Keras
configuration: ``sparse_categorical_accuracy`` on one sigmoid output (the arg-max of one score
is always class 0) and ``categorical_accuracy`` on integer labels (the arg-max of a one-number
label is always 0). The same metrics configured right carry no such evidence."""

from __future__ import annotations

import numpy as np
import pytest
from scripts.tiny import digits, fit, mlp, onehot

from gapdoctor import GapDoctor

QUIET = {"report": False, "verbose": 0, "background": False}


def _frozen(doctor) -> str:
    return doctor.diagnosis.finding("metric_mismatch").details.get("frozen_reason", "")


@pytest.mark.parametrize("metric, right", [("categorical_accuracy", False),
                                           ("sparse_categorical_accuracy", True)])
def test_categorical_accuracy_on_integer_labels(tmp_path, metric, right):
    x_tr, x_va, y_tr, y_va = digits()
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, monitor=f"val_{metric}", **QUIET)
    fit(mlp(metrics=(metric,)), (x_tr, x_va, y_tr, y_va), doctor, epochs=4)
    if right:
        assert not _frozen(doctor) and doctor.diagnosis.verdict != "metric_mismatch"
    else:
        assert _frozen(doctor).startswith("CategoricalAccuracy expects one-hot labels")
        assert doctor.diagnosis.verdict == "metric_mismatch"


@pytest.mark.parametrize("metric, right", [("sparse_categorical_accuracy", False),
                                           ("binary_accuracy", True)])
def test_an_arg_max_accuracy_on_one_sigmoid_output(tmp_path, metric, right):
    x_tr, x_va, y_tr, y_va = digits()
    y_tr, y_va = (y_tr == 3).astype("float32"), (y_va == 3).astype("float32")
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, monitor=f"val_{metric}", **QUIET)
    model = mlp(n_out=1, activation="sigmoid", loss="binary_crossentropy", metrics=(metric,))
    history = fit(model, (x_tr, x_va, y_tr, y_va), doctor, epochs=4)
    if right:
        assert not _frozen(doctor) and doctor.diagnosis.verdict != "metric_mismatch"
    else:
        # the metric is the share of class 0 from the first epoch to the last
        assert np.ptp(history.history[f"val_{metric}"]) == 0
        assert _frozen(doctor).startswith("SparseCategoricalAccuracy on a single (sigmoid) output")
        assert doctor.diagnosis.verdict == "metric_mismatch"


@pytest.mark.parametrize("labels", ["column", "onehot"])
def test_a_regression_metric_on_class_probabilities(tmp_path, labels):
    """``metrics=["mae"]`` kept from a regression notebook: with class ids as a column
    (``df[["label"]]``) Keras broadcasts each id against all ten probabilities; on one-hot
    labels the same metric reads the probability of the right class (no evidence)."""
    x_tr, x_va, y_tr, y_va = digits()
    if labels == "column":
        y_tr, y_va, loss = y_tr.reshape(-1, 1), y_va.reshape(-1, 1), None
    else:
        y_tr, y_va, loss = onehot(y_tr), onehot(y_va), "categorical_crossentropy"
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, monitor="val_mae", **QUIET)
    fit(mlp(metrics=("mae",), loss=loss), (x_tr, x_va, y_tr, y_va), doctor, epochs=4)
    if labels == "onehot":
        assert not _frozen(doctor)
    else:
        assert _frozen(doctor).startswith("mae on integer class labels compares each class id")
        assert doctor.diagnosis.verdict == "metric_mismatch"


@pytest.mark.parametrize("name, task, labels, frozen", [
    ("cosine_similarity", "binary", "binary", True),    # 1 on positives, 0 on negatives
    ("mse", "binary", "binary", False),                 # the Brier score
    ("mean_squared_error", "multiclass", "onehot", False),
    ("mae", "multiclass", "sparse", True),
    (None, "multiclass", "sparse", False),              # a malformed entry is no finding
])
def test_regression_metrics_read_from_the_configuration(name, task, labels, frozen):
    from gapdoctor.record.schema import RunRecord
    from gapdoctor.rules.metric_mismatch import frozen_metric_config

    run = RunRecord.empty(source="test")
    run.meta.update(task=task, label_format=labels, n_classes=2 if task == "binary" else 3,
                    metrics=[{"name": name, "class_name": "MeanMetricWrapper",
                              "config": {"fn": {"config": name}}}])
    assert bool(frozen_metric_config(run, f"val_{name}")) is frozen
