"""A model that learns and then loses it on its own training rows is an optimiser's fault, not
wrong labels: an L2 penalty far too large (the fresh15 benchmark's per-row coefficient
multiplied by the row count) first lets a digits MLP reach half the way above chance, then
pins its weights until it predicts one class."""

from __future__ import annotations

import keras
import pytest
from scripts.tiny import doctored_digits_fit

from gapdoctor import GapDoctor


def _train(tmp_path, l2: float) -> GapDoctor:
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    penalty = keras.regularizers.L2(l2)
    model = keras.Sequential([keras.Input((64,)),
                              keras.layers.Dense(32, activation="relu", kernel_regularizer=penalty),
                              keras.layers.Dense(10, activation="softmax", kernel_regularizer=penalty)])
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return doctored_digits_fit(model, tmp_path, epochs=15)


def _unlearned(finding):
    return [e for e in finding.evidence if e.rule and e.rule["key"].endswith(".unlearned")]


def test_a_penalty_that_unlearns_the_training_rows_is_the_optimiser(tmp_path):
    d = _train(tmp_path, l2=0.2).diagnosis
    opt = _unlearned(d.finding("optimization"))
    assert opt and opt[0].supports and opt[0].value == pytest.approx(0.0, abs=0.05)
    noise = _unlearned(d.finding("label_noise"))
    assert noise and not noise[0].supports and noise[0].weight < 0
    assert d.verdict == "optimization"


def test_a_penalty_the_model_lives_with_unlearns_nothing(tmp_path):
    d = _train(tmp_path, l2=0.05).diagnosis  # plateaus near 0.79 training accuracy
    assert not _unlearned(d.finding("optimization"))
    assert not _unlearned(d.finding("label_noise"))
