"""A network whose outputs start far from uniform spends its first epochs undoing that: an
output bias set from raw class counts (the fresh16 benchmark's fault) makes the first epoch's
loss many times ln K. The same network with Keras's zero bias starts near ln K."""

from __future__ import annotations

import keras
import numpy as np
from scripts.tiny import doctored_digits_fit

from gapdoctor import GapDoctor


def _train(tmp_path, bias: np.ndarray | None) -> GapDoctor:
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    init = "zeros" if bias is None else keras.initializers.Constant(bias)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax", bias_initializer=init)])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return doctored_digits_fit(model, tmp_path, epochs=8)


def _start(finding):
    return [e for e in finding.evidence if e.rule and e.rule["key"] == "optimization.start_loss"]


def test_an_output_bias_from_raw_counts_starts_far_from_uniform(tmp_path):
    # raw counts of an imbalanced label set where log-frequencies were meant: the classes'
    # output biases differ by tens (count / 10 here, from 0 to 45)
    d = _train(tmp_path, bias=np.arange(10, dtype="float32") * 5).diagnosis
    start = _start(d.finding("optimization"))
    assert start and start[0].supports and start[0].rule["measured"] > 4.0
    assert d.verdict == "optimization"
    assert "uniform guess" in d.finding("optimization").summary


def test_a_zero_bias_starts_near_ln_k(tmp_path):
    d = _train(tmp_path, bias=None).diagnosis
    assert not _start(d.finding("optimization"))
    assert d.verdict != "optimization"
