"""A validation loss that leaps within one epoch while the training loss holds is the
evaluated model jumping (steps too large for the weights or BatchNorm's moving statistics),
not memorisation: it counts for optimisation and against overfitting.

Real Keras trainings (a BatchNorm CNN at Adam 1e-2 against the same model at 1e-3) and a
real public history whose validation loss jumps 573x in one epoch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.real_histories.run import diagnose_file, read_manifest
from gapdoctor import diagnose, load_run
from gapdoctor.analysis.curves import curve_facts

ROOT = Path(__file__).resolve().parents[1]


def _jump(d, cause: str) -> float:
    """The weight the val_jump evidence carries in ``cause``'s finding (0.0 when absent)."""
    return sum(e.weight for e in d.finding(cause).evidence
               if e.rule.get("key") == f"{cause}.val_jump") if d.finding(cause) else 0.0


def _train(lr: float, seed: int, tmp_path: Path) -> Path:
    """A small BatchNorm CNN on digits 0-4 against 5-9, 12 epochs at batch 16."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32").reshape(-1, 8, 8, 1)
    y = (y >= 5).astype("float32")
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((8, 8, 1)), layers.Conv2D(16, 3, padding="same"), layers.BatchNormalization(),
        layers.Activation("relu"), layers.Conv2D(32, 3, padding="same"),
        layers.BatchNormalization(), layers.Activation("relu"), layers.GlobalAveragePooling2D(),
        layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(lr), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:1200], y[:1200], validation_data=(x[1200:], y[1200:]), epochs=12,
                        batch_size=16, verbose=0).history
    path = tmp_path / f"history-{lr}-{seed}.json"
    path.write_text(json.dumps({k: [float(v) for v in vs] for k, vs in history.items()}))
    return path


def test_large_steps_on_batchnorm_make_validation_jump_and_read_as_optimisation(
        tmp_path: Path) -> None:
    unstable = [_train(1e-2, seed, tmp_path) for seed in (1, 2)]
    calm = _train(1e-3, 2, tmp_path)
    runs = {p: load_run(p) for p in [*unstable, calm]}
    jumps = {p: curve_facts(r.curves, "val_accuracy").val_loss_jump for p, r in runs.items()}
    worst = max(unstable, key=jumps.get)
    # the premise: validation leaps to several times its best within one epoch at 1e-2 only
    assert jumps[worst] >= 3.0 and jumps[calm] < 3.0, jumps
    d_unstable, d_calm = diagnose(runs[worst]), diagnose(runs[calm])
    assert _jump(d_unstable, "optimization") > 0 and _jump(d_unstable, "overfitting") < 0
    assert _jump(d_calm, "optimization") == 0 and _jump(d_calm, "overfitting") == 0
    assert d_unstable.score_of("optimization") > d_calm.score_of("optimization") + 0.05


def test_a_real_history_whose_validation_loss_jumps_573x_reads_as_optimisation() -> None:
    """benchmarks/real_histories5/dhruvish_pm_24ep.json: training accuracy 0.95-0.99 while
    validation falls to one class (accuracy 0.50) in 6 of 24 epochs. It read as healthy on
    that set's one look; this fact came after, so here it is a regression guard."""
    folder = ROOT / "benchmarks" / "real_histories5"
    row = next(r for r in read_manifest(folder / "manifest.csv")
               if r["file"] == "dhruvish_pm_24ep.json")
    result = diagnose_file(row, folder / "files")
    assert result["verdict"] == "optimization", result
    d = diagnose(load_run(folder / "files" / "dhruvish_pm_24ep.json"))
    finding = d.finding("optimization")
    assert _jump(d, "optimization") == pytest.approx(5.0)  # full strength: 573x
    assert "jumped to 573x" in finding.summary, finding.summary


def test_memorisation_raises_validation_loss_without_a_jump() -> None:
    """A validation loss that climbs 10 % an epoch doubles over the run but never leaps."""
    epochs = np.arange(20)
    curves = pd.DataFrame({"loss": 1.0 * 0.8 ** epochs,
                           "val_loss": np.r_[1.0 * 0.85 ** epochs[:8], 0.27 * 1.1 ** epochs[1:13]],
                           "val_accuracy": np.linspace(0.5, 0.8, 20)})
    assert curve_facts(curves, "val_accuracy").val_loss_jump == pytest.approx(1.1, abs=0.01)


@pytest.mark.parametrize("name, vloss", [
    # corpus healthy GRU runs: a leap at the ceiling (0.006 -> 0.052 of a 1.07 start) ...
    ("at the ceiling", [0.946, 0.043, 0.022, 0.006, 0.052, 0.008, 0.008]),
    # ... and one while the model still searched (3x before the loss had halved)
    ("still searching", [1.087, 1.037, 3.081, 0.92, 1.993, 0.493, 0.07]),
])
def test_leaps_at_the_ceiling_or_before_learning_do_not_count(name: str, vloss: list[float]) -> None:
    curves = pd.DataFrame({"loss": np.geomspace(1.07, 0.005, len(vloss)), "val_loss": vloss})
    assert curve_facts(curves, None).val_loss_jump < 3.0, name


def test_a_ratio_that_overflows_reads_as_the_largest_leap_not_as_none() -> None:
    """A logged 1e300 after 1e-300 overflows the ratio; the evidence must still count it."""
    from gapdoctor.rules.optimization import VAL_JUMP

    curves = pd.DataFrame({"loss": [1.0, 0.5, 0.4, 0.3], "val_loss": [1.0, 0.1, 1e-300, 1e300]})
    jump = curve_facts(curves, None).val_loss_jump
    assert jump == 1e6 and VAL_JUMP.strength(jump) == 1.0


@pytest.mark.parametrize("vloss, expected", [
    ([1.0, 0.2, float("nan"), 0.1], 1.0),  # a NaN epoch is dropped, as by every curve fact
    ([1.0, 0.2, 0.0, 0.1], float("nan")),  # a zero loss has no ratio
    ([1.0, 0.2], float("nan")),  # too short
    ([float("inf"), 0.2, 5.0], float("nan")),  # inf dropped: two epochs left
])
def test_malformed_or_short_validation_losses_give_no_evidence(vloss: list[float],
                                                               expected: float) -> None:
    from gapdoctor.rules.optimization import VAL_JUMP

    curves = pd.DataFrame({"loss": np.linspace(1.0, 0.3, len(vloss)), "val_loss": vloss})
    jump = curve_facts(curves, None).val_loss_jump
    assert jump == pytest.approx(expected, nan_ok=True) and VAL_JUMP.strength(jump) == 0.0
