"""A monitored metric of one class (Keras ``class_id``) that most validation rows belong to
sits near 1 from the first epoch: it reads as a metric mismatch, not as saturation. On
balanced classes the same metric carries no such evidence."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras")

from gapdoctor import load_run  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402
from gapdoctor.engine import diagnose  # noqa: E402

QUIET = {"report": False, "verbose": 0, "background": False}


def _train(tmp_path, positive_share: float):
    rng = np.random.default_rng(0)
    n = 1600
    y = (rng.random(n) < positive_share).astype(int)       # class 1: the share given
    x = rng.normal(size=(n, 10)).astype("float32")
    x[:, :3] += 1.2 * y[:, None]
    onehot = np.eye(2, dtype="float32")[y]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "categorical_crossentropy",
                  metrics=[keras.metrics.Recall(class_id=0, name="recall")])
    xv, yv = x[1200:], onehot[1200:]
    doctor = GapDoctor(validation_data=(xv, yv), train_data=(x[:1200], onehot[:1200]),
                       output_dir=tmp_path, diagnose=False, monitor="val_recall", **QUIET)
    model.fit(x[:1200], onehot[:1200], validation_data=(xv, yv), epochs=12, batch_size=64,
              verbose=0, callbacks=[doctor])
    return diagnose(load_run(doctor.run_dir))


def _weight(d, key: str) -> float:
    cause = key.split(".")[0]
    return sum(e.weight for e in d.finding(cause).evidence if e.key == key)


def test_recall_of_the_majority_class_is_a_mismatch_not_saturation(tmp_path) -> None:
    d = _train(tmp_path, positive_share=0.08)               # class 0 holds 92 % of the rows
    assert _weight(d, "metric_mismatch.majority_class") > 2.0
    assert _weight(d, "metric_saturation.majority_class") < -2.0
    mismatch = d.finding("metric_mismatch")
    assert mismatch.score > d.finding("metric_saturation").score
    assert "reads one class only (class_id 0)" in mismatch.summary


def test_the_same_metric_on_balanced_classes_carries_no_such_evidence(tmp_path) -> None:
    d = _train(tmp_path, positive_share=0.5)
    assert _weight(d, "metric_mismatch.majority_class") == 0
    assert _weight(d, "metric_saturation.majority_class") == 0
