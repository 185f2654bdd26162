"""A training loss that never gets within 4x of a constant prediction's is an optimisation
fault: a loss summed over the batch instead of averaged (every step batch-size times too
large), or saturated units whose outputs stay confidently wrong. The finding tells the two
apart by the model's own cross-entropy on training rows.

Real Keras trainings on a generated 3-class task that a network learns to about 70 %: the
loss summed over batches of 64, a tanh MLP initialised with weights of standard deviation 4,
and the same network with Keras's default mean as the control."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402

from gapdoctor import diagnose, load_run  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402

KEY = "optimization.far_above_prior"


def _data():
    x, y = make_classification(n_samples=1500, n_features=20, n_informative=5, n_classes=3,
                               class_sep=0.8, flip_y=0.1, random_state=0)
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")
    return x[:1200], x[1200:], y[:1200], y[1200:]


def _model(kind: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    if kind == "saturated":
        init = keras.initializers.RandomNormal(stddev=4.0, seed=0)
        hidden = [keras.layers.Dense(64, activation="tanh", kernel_initializer=init) for _ in range(3)]
        out = keras.layers.Dense(3, activation="softmax", kernel_initializer=init)
        optimizer = keras.optimizers.SGD(0.01)
    else:
        hidden = [keras.layers.Dense(64, activation="relu")]
        out = keras.layers.Dense(3, activation="softmax")
        optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    model = keras.Sequential([keras.Input((20,)), *hidden, out])
    reduction = "sum" if kind == "summed" else "sum_over_batch_size"
    model.compile(optimizer=optimizer, metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(reduction=reduction))
    return model


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """The folder holding the three recorded runs (one per kind)."""
    root = tmp_path_factory.mktemp("loss_scale")
    x_tr, x_va, y_tr, y_va = _data()
    for kind in ("summed", "saturated", "mean"):
        doctor = GapDoctor(output_dir=root, run_name=kind, report=False, verbose=0,
                           background=False)
        _model(kind).fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=8, batch_size=64,
                         verbose=0, callbacks=[doctor])
    return root


@pytest.fixture(scope="module")
def runs(records):
    return {kind: diagnose(load_run(records / kind)) for kind in ("summed", "saturated", "mean")}


def _far(d) -> float:
    finding = d.finding("optimization")
    return sum(e.weight for e in finding.evidence if e.rule.get("key") == KEY) if finding else 0.0


def test_a_summed_loss_is_named_as_a_loss_that_is_no_mean(runs):
    d = runs["summed"]
    f = d.finding("optimization")
    assert d.verdict == "optimization" and f.score >= 0.8
    assert _far(d) > 4.0
    assert f.details["loss_multiple"] > 16  # batches of 64: the logged loss is ~64x the mean
    assert "summed over the batch" in f.summary
    assert any("Average the loss" in fix.title for fix in f.fixes[:2])


def test_saturated_units_are_named_as_confidently_wrong_outputs(runs):
    d = runs["saturated"]
    f = d.finding("optimization")
    assert d.verdict == "optimization" and f.score >= 0.8
    assert _far(d) > 4.0
    assert "confidently wrong" in f.summary and "summed" not in f.summary
    assert any("standard scheme" in fix.title for fix in f.fixes[:2])


def test_the_same_network_with_a_mean_loss_is_not_flagged(runs):
    d = runs["mean"]
    assert _far(d) == 0.0
    assert d.verdict != "optimization"
    lowest = float(np.nanmin(d.finding("optimization").details.get("loss_vs_prior", np.nan)))
    assert lowest < 1.0


def test_malformed_losses_and_missing_predictions_give_no_evidence_and_no_error(records):
    """A summed-loss record whose logged losses are NaN or inf in most epochs, and the same
    record without its training-probe predictions: the fact reads only finite losses, and
    without the model's own cross-entropy it cannot call the loss summed."""
    run = load_run(records / "summed")
    run.curves["loss"] = [np.nan, np.inf, -np.inf] + [np.nan] * (len(run.curves) - 3)
    d = diagnose(run)
    assert not d.errors and _far(d) == 0.0
    run = load_run(records / "summed")
    run.arrays.pop("probe_proba_last", None)
    d = diagnose(run)
    f = d.finding("optimization")
    assert not d.errors and _far(d) > 4.0
    assert "summed" not in f.summary and "loss_multiple" not in f.details
