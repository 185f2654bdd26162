"""Validation columns in another order than training's, after per-column standardisation
(a pandas frame re-ordered before `.values`, a feature list sorted in one script only).

Standardised columns all have mean 0 and s.d. 1, so their quantiles barely tell them apart;
their class means do. The detector on numbers, then on a real Keras training on breast cancer."""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from scripts.tiny import fit, mlp  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from gapdoctor import load_run  # noqa: E402
from gapdoctor.analysis.reorder import column_reorder  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402
from gapdoctor.engine import diagnose  # noqa: E402

QUIET = {"report": False, "verbose": 0, "background": False}
# where the rules' `reordered` ramps start and reach full evidence (pipeline_bug.py)
RAMP_START, RAMP_FULL = 0.7, 0.4


def _standardised_classes(seed: int, n: int = 900, d: int = 8, k: int = 3):
    """Gaussian classes whose means differ per column, each column standardised."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    centres = rng.normal(0, 1.5, (k, d))
    x = centres[y] + rng.normal(0, 1, (n, d))
    x = (x - x.mean(0)) / x.std(0)
    return x[:600], y[:600], x[600:], y[600:]


def test_splits_of_one_distribution_stay_above_the_ramp() -> None:
    for seed in range(6):
        x_tr, y_tr, x_va, y_va = _standardised_classes(seed)
        found = column_reorder(x_tr, x_va, y_tr, y_va)
        assert found.ratio > RAMP_START and not found.regained > 0.05, (seed, found)


def test_permuted_standardised_columns_are_found_with_labels() -> None:
    x_tr, y_tr, x_va, y_va = _standardised_classes(0)
    order = np.r_[1, 0, 3, 2, 4, 5, 7, 6]
    found = column_reorder(x_tr, x_va[:, order], y_tr, y_va)
    without_labels = column_reorder(x_tr, x_va[:, order])
    assert found.ratio < RAMP_START and found.moved >= 4
    assert found.ratio < without_labels.ratio  # the quantiles alone see less
    assert found.regained > 0.2  # putting the columns back restores a reference model


def test_labels_remapped_between_splits_do_not_read_as_reordered_columns() -> None:
    # class means are compared sorted: renaming classes in one split moves no column
    x_tr, y_tr, x_va, y_va = _standardised_classes(1)
    assert column_reorder(x_tr, x_va, y_tr, (y_va + 1) % 3).ratio > RAMP_START


def test_mismatched_or_missing_labels_fall_back_to_quantiles() -> None:
    x_tr, y_tr, x_va, y_va = _standardised_classes(2)
    plain = column_reorder(x_tr, x_va)[:2]
    assert column_reorder(x_tr, x_va, y_tr, y_va[:10])[:2] == plain   # lengths disagree
    assert column_reorder(x_tr, x_va, None, y_va)[:2] == plain
    # a damaged record: names instead of ids, a second column, a NaN label
    assert column_reorder(x_tr, x_va, y_tr.astype(str), y_va.astype(str))[:2] == plain
    assert column_reorder(x_tr, x_va, np.c_[y_tr, y_tr], y_va)[:2] == plain
    assert column_reorder(x_tr, x_va, y_tr, np.where(y_va == 0, np.nan, y_va))[:2] == plain


def _breast_cancer(tmp_path, reversed_columns: bool):
    x, y = load_breast_cancer(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_tr)
    x_tr, x_va = scaler.transform(x_tr).astype("float32"), scaler.transform(x_va).astype("float32")
    if reversed_columns:  # the validation frame's columns in reverse order
        x_va = np.ascontiguousarray(x_va[:, ::-1])
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, diagnose=False, **QUIET)
    fit(mlp(2, input_shape=(30,)), (x_tr, x_va, y_tr, y_va), doctor, epochs=15)
    return diagnose(load_run(doctor.run_dir))


def test_a_real_training_on_reversed_columns_is_a_pipeline_bug(tmp_path) -> None:
    d = _breast_cancer(tmp_path / "reversed", reversed_columns=True)
    assert d.verdict == "pipeline_bug", [(f.cause, round(f.score, 2)) for f in d.findings]
    evidence = {e.key: e for e in d.finding("pipeline_bug").evidence}
    assert "columns would move" in str(evidence["pipeline_bug.reordered"].value)
    assert evidence["pipeline_bug.reorder_regained"].weight > 0  # the columns put back score better


def test_the_same_training_with_columns_in_order_has_no_reorder_evidence(tmp_path) -> None:
    d = _breast_cancer(tmp_path / "aligned", reversed_columns=False)
    assert not any(e.key in ("pipeline_bug.reordered", "pipeline_bug.reorder_regained")
                   and e.weight > 0 for e in d.finding("pipeline_bug").evidence)
    assert d.verdict != "pipeline_bug"
