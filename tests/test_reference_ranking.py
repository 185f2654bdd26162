"""The reference model's ranking reads misaligned validation labels where its accuracy
cannot: on weak or imbalanced signal a simple model's accuracy stays near the majority
rate on aligned and misaligned labels alike, while its ROC AUC on validation falls to 0.5
only when the labels stop lining up with their inputs. No TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest

from gapdoctor.analysis.features import auc_se, feature_facts


def _weak_imbalanced(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    # one weak direction and a rare positive class (about 15 %)
    y = (x[:, 0] + 1.5 * rng.normal(size=n) > 2.2).astype(int)
    return x, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rolled_validation_labels_drop_the_ranking_not_the_accuracy(seed: int) -> None:
    x_tr, y_tr = _weak_imbalanced(1500, seed)
    x_va, y_va = _weak_imbalanced(600, seed + 100)
    aligned = feature_facts(x_tr, y_tr, x_va, y_va, seed=seed)
    rolled = feature_facts(x_tr, y_tr, x_va, np.roll(y_va, 7), seed=seed)
    for f in (aligned, rolled):
        # accuracy cannot tell: the reference model barely leaves the majority rate
        majority = max(np.mean(y_tr), 1 - np.mean(y_tr))
        assert (f.ref_cv_accuracy - majority) / (1 - majority) < 0.3, f
        assert f.ref_cv_auc > 0.65, f
    z_aligned = (aligned.ref_cv_auc - aligned.ref_val_auc) / aligned.ref_auc_se
    z_rolled = (rolled.ref_cv_auc - rolled.ref_val_auc) / rolled.ref_auc_se
    assert abs(z_aligned) < 2.5, aligned
    assert z_rolled > 3, rolled  # its gate (2 to 4 s.e.) at half or more
    assert (rolled.ref_val_auc - 0.5) / (rolled.ref_cv_auc - 0.5) < 0.3, rolled
    # which split is wrong: rolled validation labels do not follow their own inputs either
    # (under 0.65: the rule's gate, 0.5 to 0.8, at half or more; a held-out AUC of ~90
    # positives on noise spreads by about 0.05, a fifth of this ratio)
    assert _own(rolled) < 0.65 and _own(aligned) > 0.8, (_own(rolled), _own(aligned))


def _own(f) -> float:
    """The validation labels' ranking from their own inputs, as a share of the training one."""
    return (f.rev_cv_auc - 0.5) / (f.ref_cv_auc - 0.5)


def test_a_region_relabelled_in_training_keeps_validation_labels_learnable() -> None:
    """Training labels wrong in one region (consistently): the forward ranking of validation
    falls, but the validation labels still follow their own inputs - label noise, which the
    pipeline rule leaves alone."""
    rng = np.random.default_rng(5)
    x_tr, x_va = rng.normal(size=(1500, 6)), rng.normal(size=(600, 6))
    rule = lambda x: (x[:, 0] + 0.8 * rng.normal(size=len(x)) > 0).astype(int)  # noqa: E731
    y_tr, y_va = rule(x_tr), rule(x_va)
    y_tr[x_tr[:, 1] > 0] ^= 1  # half the input space labelled the other way in training
    f = feature_facts(x_tr, y_tr, x_va, y_va)
    assert f.ref_cv_auc - f.ref_val_auc > 3 * f.ref_auc_se, f
    assert _own(f) > 0.8, f


def test_auc_standard_error_shrinks_with_rows_and_is_nan_without_a_value() -> None:
    y_small, y_large = np.array([0, 1] * 50), np.array([0, 1] * 5000)
    assert auc_se(0.7, y_large) < auc_se(0.7, y_small) / 5
    assert np.isnan(auc_se(float("nan"), y_small))
    assert np.isnan(auc_se(0.7, np.zeros(10, dtype=int)))  # one class: no AUC
