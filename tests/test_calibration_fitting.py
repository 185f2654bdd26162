"""The shrunk Platt map that the held-out benchmark can choose for calibration.json."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from benchmarks.diagnosis.fitting import fit_platt_shrunk
from gapdoctor.diagnosis import CAUSES


def _table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Runs whose overfitting logit is informative but noisy; other causes at -3."""
    rng = np.random.default_rng(seed)
    present = rng.random(n) < 0.3
    logit = np.where(present, 1.5, -1.5) + rng.normal(0, 2.0, n)
    table = pd.DataFrame({"cause": np.where(present, "overfitting", "healthy"),
                          "acceptable": "", "n_val": 500, "best_value": 0.8,
                          "diagnosed_monitor": "val_accuracy"})
    for cause in CAUSES:
        table[f"logit_{cause}"] = logit if cause == "overfitting" else -3.0
    return table


def test_without_a_pull_it_is_plain_maximum_likelihood() -> None:
    table = _table()
    fitted = fit_platt_shrunk(table, strength=1e-6)["overfitting"]
    x = table[["logit_overfitting"]].to_numpy()
    ml = LogisticRegression(C=1e9, max_iter=1000).fit(x, table["cause"] == "overfitting")
    assert fitted["a"] == pytest.approx(ml.coef_[0, 0], abs=0.01)
    assert fitted["b"] == pytest.approx(ml.intercept_[0], abs=0.01)


def test_the_pull_moves_the_map_toward_the_declared_scale() -> None:
    table = _table()
    free = fit_platt_shrunk(table, strength=1e-6)["overfitting"]
    pulled = fit_platt_shrunk(table, strength=100.0)["overfitting"]
    held = fit_platt_shrunk(table, strength=1e9)["overfitting"]
    assert held == pytest.approx({"a": 1.0, "b": 0.0}, abs=1e-3)
    # the evidence says a < 1 and b < 0 here; a pull leaves the map between the two
    assert free["a"] < pulled["a"] < 1.0 and free["b"] < pulled["b"] < 0.0


def test_a_cause_without_positives_keeps_a_finite_map() -> None:
    table = _table().assign(cause="healthy")
    fitted = fit_platt_shrunk(table, strength=1.0)["label_noise"]
    assert np.isfinite(fitted["a"]) and np.isfinite(fitted["b"])
    assert fitted["b"] < 0  # no run has the cause: the map lowers its score


def test_a_run_whose_own_training_diverged_accepts_an_optimisation_verdict() -> None:
    from benchmarks.diagnosis.scoring import _acceptable

    rows = pd.DataFrame([
        # a permuted-columns bug whose SGD recipe also blew up: 3.0 -> 2.6 -> 33.6
        {"cause": "pipeline_bug", "acceptable": "pipeline_bug", "loss_first": 3.05,
         "loss_min": 2.62, "loss_last": 33.6, "nan_loss": 0},
        {"cause": "label_noise", "acceptable": "label_noise", "loss_first": 1.0,
         "loss_min": 0.5, "loss_last": 0.6, "nan_loss": 1},
        # a loss that falls near zero and wobbles 10x there has not diverged
        {"cause": "distribution_shift", "acceptable": "distribution_shift", "loss_first": 0.5,
         "loss_min": 0.0009, "loss_last": 0.0098, "nan_loss": 0},
    ])
    accept = _acceptable(rows)
    assert accept[0] == {"pipeline_bug", "optimization"}
    assert accept[1] == {"label_noise", "optimization"}
    assert accept[2] == {"distribution_shift"}
