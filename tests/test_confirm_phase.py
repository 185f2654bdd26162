"""A retraining too short to reach the memorisation phase does not refute label noise or
overfitting: the unit rules, and a real label-noise run confirmed in too few epochs."""

from __future__ import annotations

import math
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from scripts.tiny import dense_net  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from gapdoctor import GapDoctor  # noqa: E402
from gapdoctor.callback.confirm import experiments as exp  # noqa: E402
from gapdoctor.callback.confirm.arms import ArmResult, Recipe  # noqa: E402
from gapdoctor.confirm.outcome import Confirmation  # noqa: E402
from gapdoctor.confirm.phase import memorisation_phase, withhold_refutation  # noqa: E402


def test_either_symptom_of_memorisation_counts():
    falling = [0.9, 0.7, 0.6, 0.55, 0.52]
    assert not memorisation_phase(0.70, 0.92, falling).reached   # early learning
    assert memorisation_phase(0.99, 0.95, falling).reached       # fits beyond validation
    # validation loss past its best for the early-stopping patience (3 epochs here)
    assert memorisation_phase(0.70, 0.85, [0.9, 0.5, 0.6, 0.7, 0.8]).reached
    assert not memorisation_phase(0.70, 0.85, [0.9, 0.6, 0.5, 0.6, 0.7]).reached


def test_only_a_refutation_is_withheld():
    short = memorisation_phase(0.70, 0.92, [0.9, 0.7, 0.6])
    refuted = Confirmation("label_noise", "drop_flagged_samples", "refuted", text="x.")
    out = withhold_refutation(refuted, short, epochs=3, original_epochs=10)
    assert out.outcome == "inconclusive" and "memorisation phase in 3 epochs" in out.text
    assert "epochs=10" in out.text and out.details["memorisation_reached"] is False
    confirmed = Confirmation("label_noise", "drop_flagged_samples", "confirmed", text="x.")
    assert withhold_refutation(confirmed, short, 3, 10).outcome == "confirmed"
    done = memorisation_phase(0.99, 0.92, [0.5, 0.4, 0.45, 0.5, 0.55])
    refuted = Confirmation("overfitting", "regularise", "refuted", text="x.")
    assert withhold_refutation(refuted, done, 5, 5).outcome == "refuted"


def _arm(correct: np.ndarray, labels: np.ndarray, val_loss: list[float]) -> ArmResult:
    probs = np.zeros((len(labels), 2))
    probs[np.arange(len(labels)), np.where(correct, labels, 1 - labels)] = 1.0
    return ArmResult(Recipe("arm", 0, len(val_loss), 32), probs, {"val_loss": val_loss}, 1.0)


def test_half_data_contradiction_counts_for_nothing_before_memorisation():
    labels = np.arange(2000) % 2
    same = np.ones(2000, bool)
    same[1000:1200] = False   # the control misses 20 % of the scored half
    control = [_arm(same, labels, [0.9, 0.7, 0.6])]
    half = {"verdict": "contradicts", "text": "the gap barely moved.", "seconds": 1.0}
    cols = np.arange(1000, 2000)
    confirmed = [_arm(np.ones(2000, bool), labels, [0.9, 0.7, 0.6])]
    short = memorisation_phase(0.80, 0.90, [0.9, 0.7, 0.6])
    c = exp.overfitting(confirmed, control, labels, cols, dict(half), short)
    assert c.outcome == "confirmed" and c.details["half_data"]["verdict"] == "neither"
    c = exp.overfitting(confirmed, control, labels, cols, dict(half),
                        memorisation_phase(0.99, 0.90, [0.5, 0.4, 0.5, 0.6, 0.7]))
    assert c.outcome == "inconclusive" and "withdrawn" in c.text   # the arms disagree


def _noisy_digits_run(tmp_path) -> GapDoctor:
    """30 % of the training labels flipped, a 256x256 MLP, 10 epochs, half of digits held out
    for validation (900 rows: an interval narrow enough to refute)."""
    x, y = load_digits(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split((x / 16).astype("float32"), y, test_size=0.5,
                                              random_state=0, stratify=y)
    rng = np.random.default_rng(0)
    y_tr = y_tr.copy()
    flip = rng.random(len(y_tr)) < 0.3
    y_tr[flip] = (y_tr[flip] + rng.integers(1, 10, flip.sum())) % 10
    model = dense_net(64, 10)
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=10, batch_size=64,
              callbacks=[doctor], verbose=0)
    return doctor


def test_a_short_retraining_leaves_label_noise_inconclusive_not_refuted(tmp_path):
    doctor = _noisy_digits_run(tmp_path)
    # 6 epochs: the control fits about 4 % of the flagged labels, its training accuracy
    # (70 %) sits far below validation (91 %) and its validation loss still falls
    d = doctor.confirm(causes=["label_noise"], seeds=1, max_seconds=math.inf, epochs=6,
                       verbose=0)
    result = d.finding("label_noise").confirmation[0]
    # the control never reached the phase where wrong labels cost accuracy ...
    assert result["outcome"] != "refuted", result["text"]
    assert result["details"]["memorisation_reached"] is False
    # ... so even an effect that reads as a refutation is withheld (with one seed and the
    # retraining noise of null retrainings in the interval, this run's effect alone no longer
    # reads as one: the read is checked on its refuted twin)
    twin = Confirmation("label_noise", result["experiment"], "refuted", effect=0.0,
                        interval=(-0.01, 0.01), text="moved +0.0 points.")
    phase = memorisation_phase(result["details"]["control_train_accuracy"],
                               result["details"]["control_val_accuracy"], None)
    held = withhold_refutation(twin, phase, 6, 10)
    assert held.outcome == "inconclusive"
    assert "memorisation phase in 6 epochs" in held.text and "epochs=10" in held.text


def test_a_remedy_that_costs_accuracy_is_not_a_refutation():
    """Strong L2 that costs 15 points overshot for the model (a dose it cannot take); one
    that changes nothing refutes overfitting."""
    labels = np.arange(4000) % 2
    right = np.ones(4000, bool)
    right[:400] = False                      # the control misses 10 %
    control = [_arm(right, labels, [0.9, 0.7, 0.6])]
    worse = right.copy()
    worse[400:1000] = False                  # the regularised arm misses 25 %
    cols = np.arange(4000)
    c = exp.overfitting([_arm(worse, labels, [0.9, 0.8])], control, labels, cols)
    assert c.outcome == "inconclusive" and "overshot" in c.text and c.effect < -0.1
    c = exp.overfitting([_arm(right, labels, [0.9, 0.8])], control, labels, cols)
    assert c.outcome == "refuted" and abs(c.effect) < 1e-9
