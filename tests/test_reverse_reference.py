"""The reverse reference: a model fitted on validation data, scored on held-out validation and
on the training labels. Wrong training labels, even a region relabelled consistently (which a
model fitted on training data learns as readily as the true rule), disagree with it; clean
labels and plain memorisation do not."""

from __future__ import annotations

import numpy as np
import pytest

from gapdoctor.analysis.features import feature_facts


def _blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[0, 0, 0, 0], [3, 0, 0, 0], [0, 3, 0, 0]], float)
    return centres[y] + rng.normal(size=(n, 4)), y


def _excess_z(x_tr, y_tr, x_va, y_va) -> float:
    f = feature_facts(x_tr, y_tr, x_va, y_va)
    p = min(max(f.rev_cv_accuracy, 0.02), 0.98)
    se = np.sqrt(p * (1 - p) / f.n_train + p * (1 - p) / f.n_val)
    return (f.rev_cv_accuracy - f.rev_train_agreement) / se


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_labels_agree_with_validation(seed: int) -> None:
    x_tr, y_tr = _blobs(500, seed)
    x_va, y_va = _blobs(400, seed + 100)
    assert abs(_excess_z(x_tr, y_tr, x_va, y_va)) < 4.0  # the DISAGREE ramps start at 4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_consistently_relabelled_region_disagrees(seed: int) -> None:
    x_tr, y_tr = _blobs(500, seed)
    x_va, y_va = _blobs(400, seed + 100)
    region = x_tr[:, 0] > 2.0  # most of class 1, relabelled as class 2: feature-dependent noise
    y_bad = np.where(region, 2, y_tr)
    assert (y_bad != y_tr).mean() > 0.2
    assert _excess_z(x_tr, y_bad, x_va, y_va) > 8.0


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
