"""Exact duplicates between the splits: a leak only beyond the data's own repeat rate.

Data with a few discrete features repeats whole rows (MASS::biopsy, nine ratings 1-10:
40-54 % of training rows have a twin), so a clean random split puts the same share of
validation rows "also in training". Real Keras trainings on such data: a clean split must
not read as leakage; the same data with a fifth of validation copied into training must.
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from scripts.tiny import mlp  # noqa: E402

from gapdoctor import GapDoctor  # noqa: E402
from gapdoctor.analysis.duplicates import within_duplicate_share  # noqa: E402


def _ratings(seed: int = 0) -> tuple[np.ndarray, ...]:
    """1,000 rows of four ratings 1-3 (81 distinct rows) and a 3-class label they set."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 4, size=(1000, 4)).astype("float32")
    y = ((x[:, 0] + x[:, 1] + rng.integers(0, 2, 1000)) % 3).astype("int64")
    return x[:750], x[750:], y[:750], y[750:]


def _leakage(tmp_path, x_tr, x_va, y_tr, y_va) -> tuple[float, dict]:
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    mlp(n_out=3, input_shape=(4,)).fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=4,
                                       batch_size=64, callbacks=[doctor], verbose=0)
    finding = doctor.diagnosis.finding("pipeline_bug")
    leak = [e for e in finding.evidence if e.key == "pipeline_bug.leakage"]
    return (leak[0].weight if leak else 0.0), finding.details


def test_natural_repeats_are_no_leak_and_a_copied_fifth_is(tmp_path) -> None:
    x_tr, x_va, y_tr, y_va = _ratings()
    assert within_duplicate_share(x_tr) > 0.9   # 81 distinct rows among 750
    weight, facts = _leakage(tmp_path / "clean", x_tr, x_va, y_tr, y_va)
    assert facts["duplicate_share"] > 0.9 and weight < 0.5, facts

    # distinct continuous rows, a fifth of validation copied into training: a leak
    rng = np.random.default_rng(1)
    x_tr, x_va = rng.normal(size=(750, 4)).astype("float32"), rng.normal(size=(250, 4)).astype("float32")
    copied = rng.choice(250, 50, replace=False)
    x_tr, y_tr = np.r_[x_tr, x_va[copied]], np.r_[y_tr, y_va[copied]]
    weight, facts = _leakage(tmp_path / "leak", x_tr, x_va, y_tr, y_va)
    assert facts["natural_duplicate_share"] < 0.02 and weight >= 4.0, facts


def test_too_few_rows_give_no_rate() -> None:
    assert np.isnan(within_duplicate_share(np.zeros((5, 3), "float32")))
    assert np.isnan(within_duplicate_share(None))


def _grid(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of two integer readings 0-54 (3,025 possible rows): among 2,000 rows about half
    have a twin, among 512 only about a sixth - the repeat rate depends on how many rows."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 55, size=(n, 2)).astype("float32")
    y = ((x[:, 0] // 19 + x[:, 1] // 19 + rng.integers(0, 2, n)) % 3).astype("int64")
    return x, y


def load_x_train(doctor: GapDoctor) -> np.ndarray:
    from gapdoctor import load_run

    return load_run(doctor.run_dir).arrays["x_train"]


def _without_full_rate(doctor: GapDoctor) -> float:
    """The leak weight of the same record as an older callback wrote it (no repeat count)."""
    from gapdoctor import diagnose, load_run

    run = load_run(doctor.run_dir)
    for key in ("duplicates_within_train", "duplicates_train_rows"):
        run.meta["data"].pop(key)
    leak = [e for e in diagnose(run).finding("pipeline_bug").evidence
            if e.key == "pipeline_bug.leakage"]
    return leak[0].weight if leak else 0.0


def test_repeats_among_more_training_rows_than_recorded_are_no_leak(tmp_path) -> None:
    # 2,000 training rows, 512 recorded: a rate taken from the 512 recorded rows (16 %)
    # against validation rows counted among all 2,000 (about 48 %) read as a 30-point leak
    x_tr, y_tr = _grid(2000, 0)
    x_va, y_va = _grid(400, 1)
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path / "clean", verbose=0, report=False, background=False,
                       max_probe_samples=512)
    mlp(n_out=3, input_shape=(2,)).fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=3,
                                       batch_size=128, callbacks=[doctor], verbose=0)
    assert within_duplicate_share(load_x_train(doctor)) < 0.3
    finding = doctor.diagnosis.finding("pipeline_bug")
    assert finding.details["duplicate_share"] > 0.35, finding.details
    assert finding.details["natural_duplicate_share"] > 0.35, finding.details
    assert not [e for e in finding.evidence if e.key == "pipeline_bug.leakage" and e.weight > 0.5]
    assert _without_full_rate(doctor) < 0.5   # older records: both rates among the 512
