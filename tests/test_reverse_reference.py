"""The reverse reference: a model fitted on validation data, scored on held-out validation and
on the training labels. Wrong training labels, even a region relabelled consistently (which a
model fitted on training data learns as readily as the true rule), disagree with it; clean
labels and plain memorisation do not."""

from __future__ import annotations

import numpy as np
import pytest

from gapdoctor.analysis.features import feature_facts
from gapdoctor.analysis.label_agreement import DISAGREE_RANGE, label_disagreement


def _blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[0, 0, 0, 0], [3, 0, 0, 0], [0, 3, 0, 0]], float)
    return centres[y] + rng.normal(size=(n, 4)), y


def _excess_z(x_tr, y_tr, x_va, y_va) -> float:
    return label_disagreement(feature_facts(x_tr, y_tr, x_va, y_va))[1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_labels_agree_with_validation(seed: int) -> None:
    x_tr, y_tr = _blobs(500, seed)
    x_va, y_va = _blobs(400, seed + 100)
    assert abs(_excess_z(x_tr, y_tr, x_va, y_va)) < DISAGREE_RANGE[0]  # where the ramps start


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_consistently_relabelled_region_disagrees(seed: int) -> None:
    x_tr, y_tr = _blobs(500, seed)
    x_va, y_va = _blobs(400, seed + 100)
    region = x_tr[:, 0] > 2.0  # most of class 1, relabelled as class 2: feature-dependent noise
    y_bad = np.where(region, 2, y_tr)
    assert (y_bad != y_tr).mean() > 0.2
    assert _excess_z(x_tr, y_bad, x_va, y_va) > DISAGREE_RANGE[0] + 1.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_class_shares_that_differ_between_the_splits_are_not_wrong_labels(seed: int) -> None:
    # overlapping classes; validation keeps the natural 80/20 shares, training was rebalanced
    # by repeating the minority rows: a reference fitted on validation favours the majority,
    # so its plain agreement with the (right) training labels falls, its per-class recalls do not
    rng = np.random.default_rng(seed)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = (rng.random(n) < 0.2).astype(int)
        return rng.normal(size=(n, 3)) + 1.2 * y[:, None], y

    x_tr, y_tr = draw(600)
    minority = np.flatnonzero(y_tr == 1)
    x_tr, y_tr = np.r_[x_tr, np.repeat(x_tr[minority], 3, 0)], np.r_[y_tr, np.repeat(y_tr[minority], 3)]
    x_va, y_va = draw(400)
    f = feature_facts(x_tr, y_tr, x_va, y_va)
    assert abs(label_disagreement(f)[1]) < DISAGREE_RANGE[0]
    plain = np.mean(y_tr == 0)   # a reference that mostly predicts the majority agrees less
    assert plain < 0.6


def test_too_few_validation_labels_per_class_give_nan_not_an_error() -> None:
    x_tr, y_tr = _blobs(200, 0)
    x_va = np.random.default_rng(1).normal(size=(12, 4))
    y_va = np.array([0] * 11 + [1])  # one sample of class 1: no stratified folds
    f = feature_facts(x_tr, y_tr, x_va, y_va)
    assert np.isnan(f.rev_cv_accuracy) and np.isnan(f.rev_train_agreement)


def test_labels_that_are_not_class_ids_give_nan_not_an_error() -> None:
    x_tr, y_tr = _blobs(200, 0)
    x_va, y_va = _blobs(100, 1)
    f = feature_facts(x_tr, y_tr, x_va, y_va - 1)  # -1 among the validation labels
    assert np.isnan(f.rev_cv_accuracy) and np.isnan(f.rev_train_agreement)
    f = feature_facts(x_tr, y_tr - 1, x_va, y_va)  # and among the training labels
    assert np.isnan(f.ref_cv_accuracy) and np.isnan(f.rev_cv_accuracy)
