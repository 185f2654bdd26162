"""Models with several outputs: the probes follow one (``GapDoctor(output=...)``, or the only
output with a classification loss), take its labels from a dict or list of labels, and
record its predictions, per-class metrics, margins and gradient statistics. Real tiny
trainings (digits, 4 epochs) with a classification head beside a regression head."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from scripts.tiny import digits, two_head_labels, two_heads  # noqa: E402

from gapdoctor import load_run  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402
from gapdoctor.record.schema import META_DOC  # noqa: E402

QUIET = {"report": False, "verbose": 0, "background": False}


def fit(tmp_path, kind: str, output=None, name: str | None = None, dropout: float = 0.0,
        epochs: int = 4):
    """(doctor, model, data, GapDoctor's warnings) of a short fit."""
    x_tr, x_va, y_tr, y_va = digits(n_train=600)
    model = two_heads(kind, dropout)
    y_train, y_val = two_head_labels(kind, x_tr, y_tr), two_head_labels(kind, x_va, y_va)
    doctor = GapDoctor(validation_data=(x_va, y_val), train_data=(x_tr, y_train),
                       output_dir=tmp_path, run_name=name or kind, output=output, **QUIET)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x_tr, y_train, validation_data=(x_va, y_val), epochs=epochs, batch_size=64,
                  verbose=0, callbacks=[doctor])
    said = [str(w.message) for w in caught if "GapDoctor" in str(w.message)]
    return doctor, model, (x_tr, x_va, y_tr, y_va), said


@pytest.fixture(scope="module")
def dict_run(tmp_path_factory):
    return fit(tmp_path_factory.mktemp("multi"), "dict")


@pytest.mark.parametrize("kind, output", [("dict", None), ("list", "digit")])
def test_the_classification_head_is_followed(tmp_path, dict_run, kind, output):
    doctor, model, (x_tr, _, y_tr, _), said = (dict_run if kind == "dict" else
                                                fit(tmp_path, kind, output))
    assert said == []
    run = load_run(doctor.run_dir)
    assert run.failures == []
    assert set(run.meta) <= set(META_DOC)
    followed = run.meta["followed_output"]
    assert followed["name"] == "digit" and followed["n_outputs"] == 2
    assert followed["key"] == ("digit" if kind == "dict" else 1)
    assert run.meta["n_classes"] == 10 and run.meta["task"] == "multiclass"
    assert run.meta["loss"]["name"] == "sparse_categorical_crossentropy"
    assert run.meta["monitor"] == "val_digit_accuracy"  # not the total over both heads
    assert set(run.per_class["class_index"]) == set(range(10))
    # the recorded probabilities are the digit head's, on the recorded probe rows
    rows = run.arrays["probe_index"]
    out = model.predict(x_tr[rows], verbose=0)
    digit = out["digit"] if kind == "dict" else out[1]
    np.testing.assert_allclose(run.arrays["probe_proba_last"], digit, atol=1e-5)
    np.testing.assert_array_equal(run.arrays["probe_labels"], y_tr[rows])
    # gradients of the digit loss reach the shared layer and the digit head, not `ink`
    assert set(run.layers["layer"]) == {"shared", "digit"}
    assert np.isfinite(run.layers["grad_norm"]).all() and (run.layers["grad_norm"] > 0).all()
    assert (run.layers["nonfinite"] == 0).all()
    assert run.arrays["dyn_margin"].shape[1] == len(x_tr)
    assert doctor.diagnosis.verdict not in ("optimization", "pipeline_bug")


def test_two_classification_heads_need_output_and_training_goes_on(tmp_path):
    doctor, _, _, said = fit(tmp_path, "even", name="ambiguous", epochs=2)
    assert len(said) == 1
    assert "2 outputs (digit, even)" in said[0] and "GapDoctor(output=...)" in said[0]
    assert doctor.record.meta["epochs_completed"] == 2  # the curves are still recorded

    chosen, _, (_, _, _, y_va), said = fit(tmp_path, "even", output="even", name="even")
    assert said == []
    run = load_run(chosen.run_dir)
    assert run.meta["n_classes"] == 2 and run.meta["followed_output"]["key"] == "even"
    assert run.meta["monitor"] == "val_even_loss"  # no metric was compiled for it
    np.testing.assert_array_equal(run.arrays["val_labels"], y_va[run.arrays["val_index"]] % 2)


def test_an_unknown_output_is_named_in_the_warning(tmp_path):
    _, _, _, said = fit(tmp_path, "dict", output="box", epochs=2)
    assert len(said) == 1 and "output='box' is none of the model's outputs (digit, ink)" in said[0]


def test_output_argument_is_checked_at_construction():
    with pytest.raises(TypeError, match="output"):
        GapDoctor(output=["digit"])
    with pytest.raises(TypeError, match="output"):
        GapDoctor(output=True)


def test_cheap_confirmation_checks_score_the_followed_output(dict_run):
    doctor, model, (_, x_va, _, y_va), _ = dict_run
    weights = [w.copy() for w in model.get_weights()]
    d = doctor.confirm(causes=["small_validation_set", "metric_mismatch"], seeds=1,
                       max_seconds=math.inf, verbose=0)
    by_cause = {c["cause"]: c for c in d.confirmations}
    assert {c["outcome"] for c in by_cause.values()} <= {"confirmed", "refuted", "inconclusive"}
    # the bootstrap is of the digit head's own validation accuracy
    accuracy = float(np.mean(model.predict(x_va, verbose=0)["digit"].argmax(1) == y_va))
    assert by_cause["small_validation_set"]["before"] == pytest.approx(accuracy, abs=1e-4)
    assert "'digit'" in d.summary["confirmation_scope"]
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)   # the user's model is not touched


def test_retraining_experiments_train_the_followed_output(dict_run):
    # the learning-rate arms clone the one-output view and train it on the digit labels
    doctor = dict_run[0]
    doctor.report = True
    try:
        d = doctor.confirm(causes=["optimization"], seeds=1, epochs=3, max_seconds=math.inf,
                           verbose=0)
    finally:
        doctor.report = False
    (result,) = [c for c in d.confirmations if c["cause"] == "optimization"]
    assert result["outcome"] in ("confirmed", "refuted", "inconclusive"), result["text"]
    assert result["interval"][0] <= result["effect"] <= result["interval"][1]
    text = "".join(p.extract_text() for p in PdfReader(doctor.run_dir / "report.pdf").pages)
    assert "What we tested" in text and "retraining it alone" in " ".join(text.split())


def test_the_batch_order_check_scores_the_followed_output(tmp_path):
    doctor, _, _, said = fit(tmp_path, "list", name="dropout", dropout=0.3)
    assert said == []
    run = load_run(doctor.run_dir)
    check = run.meta["batch_order"]
    assert check["checked"] and check["layers"] == ["dropout"]
    last = run.split_metrics[(run.split_metrics.split == "val")].iloc[-1]
    assert check["accuracy_stored"] == pytest.approx(last["accuracy"], abs=1e-9)


def test_output_of_a_subclassed_model_is_refused_in_the_warning(tmp_path):
    class TwoHeads(keras.Model):
        def __init__(self):
            super().__init__()
            self.shared = keras.layers.Dense(16, activation="relu")
            self.digit = keras.layers.Dense(10, activation="softmax")
            self.ink = keras.layers.Dense(1)

        def call(self, x):
            h = self.shared(x)
            return {"digit": self.digit(h), "ink": self.ink(h)}

    x_tr, x_va, y_tr, y_va = digits(n_train=200)
    keras.utils.set_random_seed(0)
    model = TwoHeads()
    model.compile("adam", {"digit": "sparse_categorical_crossentropy", "ink": "mse"})
    y_train, y_val = two_head_labels("dict", x_tr, y_tr), two_head_labels("dict", x_va, y_va)
    doctor = GapDoctor(validation_data=(x_va, y_val), train_data=(x_tr, y_train),
                       output_dir=tmp_path, output="digit", **QUIET)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x_tr, y_train, validation_data=(x_va, y_val), epochs=1, verbose=0,
                  callbacks=[doctor])
    said = [str(w.message) for w in caught if "GapDoctor" in str(w.message)]
    assert len(said) == 1 and "output='digit' needs a model whose outputs are known" in said[0]
