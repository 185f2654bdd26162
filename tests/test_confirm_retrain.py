"""The re-split (distribution_shift) and half-data (overfitting) retrainings on real Keras
trainings: a validation set from a region training barely covers is confirmed as a shift,
the same data split at random is refuted; the half-data arm's numbers reach the record."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from scripts.tiny import dense_net  # noqa: E402

from gapdoctor import GapDoctor  # noqa: E402


def _xor_data(shifted: bool, n_train: int = 4000, n_val: int = 2000, seed: int = 0):
    """Labels follow one rule everywhere: (x1 > 0) XOR (x0 > 0). Training rows sit at
    x0 < 0 but for 2 %; a shifted validation set comes from x0 > 0 only (covariate shift:
    p(y|x) is the same, p(x) is not), an unshifted one from the training distribution."""
    rng = np.random.default_rng(seed)

    def draw(n: int, share_right: float) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-3, 3, size=(n, 8)).astype("float32")
        right = rng.random(n) < share_right
        x[:, 0] = np.abs(x[:, 0]) * np.where(right, 1, -1)
        return x, ((x[:, 1] > 0) ^ (x[:, 0] > 0)).astype("int64")

    x_tr, y_tr = draw(n_train, 0.02)
    x_va, y_va = draw(n_val, 1.0 if shifted else 0.02)
    return x_tr, x_va, y_tr, y_va


def _mlp() -> keras.Model:
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.mark.parametrize("shifted, expected", [(True, "confirmed"), (False, "refuted")])
def test_resplit_confirms_a_covariate_shift_and_refutes_a_random_split(tmp_path, shifted,
                                                                      expected):
    # 8,000 and 4,000 rows, two seeds: a refutation needs an interval under the 2-point
    # effect that matters, with the retraining noise of null retrainings in it
    x_tr, x_va, y_tr, y_va = _xor_data(shifted, n_train=8000, n_val=4000)
    model = _mlp()
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=12, batch_size=64,
              callbacks=[doctor], verbose=0)
    # the report is written only after confirm(): the PDF checked below is that rewrite, and
    # rendering it at the end of fit too cost seconds (it is overwritten unread)
    doctor.report = shifted
    # no time budget: on a busy machine a budget in seconds left the re-split untested
    d = doctor.confirm(causes=["distribution_shift"], seeds=2, max_seconds=math.inf, verbose=0)
    tested = {c["experiment"]: c for c in d.finding("distribution_shift").confirmation}
    assert set(tested) == {"domain_classifier", "resplit_training"}
    result = tested["resplit_training"]
    assert result["outcome"] == expected, result["text"]
    low, high = result["interval"]
    assert low <= result["effect"] <= high and result["metric"] == "accuracy gap"
    assert result["details"]["mixed_in"] == 2000 and result["details"]["training_rows"] == 6000
    if shifted:   # the control shows the gap, the re-split closes most of it
        assert result["before"] > 0.1 and result["after"] < result["before"] / 2
        assert "pipeline bug" in result["text"]
        pages = PdfReader(doctor.run_dir / "report.pdf").pages
        assert "resplit training" in "".join(p.extract_text() for p in pages)


def _memorising_run(tmp_path) -> GapDoctor:
    """A 128-unit MLP on 200 noisy linear samples in 40 dimensions: it fits every training
    sample and validation sits near 0.8, where more data still helps."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=40)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(size=(n, 40)).astype("float32")
        return x, (x @ w + rng.normal(scale=2.0, size=n) > 0).astype("int64")

    (x_tr, y_tr), (x_va, y_va) = draw(200), draw(2000)
    model = dense_net(40, 2, width=128, lr=1e-3)
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=25, batch_size=32,
              callbacks=[doctor], verbose=0)
    return doctor


def test_half_data_arm_is_recorded_with_the_overfitting_outcome(tmp_path):
    # no time budget: the outcome must not depend on how busy the machine is
    # two seeds: with the retraining noise of null retrainings in the interval, one seed on
    # 2,000 validation samples cannot tell a 3-point move from noise
    d = _memorising_run(tmp_path).confirm(causes=["overfitting"], seeds=2,
                                          max_seconds=math.inf, verbose=0)
    result = d.finding("overfitting").confirmation[0]
    half = result["details"]["half_data"]
    assert half["rows"] == 100 and half["seeds"] == 2
    for key in ("validation_before", "validation_after", "gap_before", "gap_after"):
        assert 0 <= abs(half[key]) <= 1
    low, high = half["gap_interval"]
    assert low <= half["gap_widening"] <= high
    assert "With half the training data" in result["text"]
    # a memorising model: half the data, a lower validation score and a wider gap
    assert half["verdict"] == "corroborates", result["text"]
    assert half["validation_after"] < half["validation_before"]
    assert half["gap_after"] > half["gap_before"]
    # the verdict is the regularisation arm's unless the two disagree
    if result["outcome"] == "inconclusive" and "withdrawn" in result["text"]:
        assert "'refuted'" in result["text"]
