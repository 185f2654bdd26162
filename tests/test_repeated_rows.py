"""Repeated training rows (oversampling, copies) are one observation each.

Left in, a row's twin in another cross-validation fold makes every out-of-fold score read
memory: the domain classifier "tells" training rows from validation ones by their twins and
the reference model's training accuracy beats its validation accuracy, which read as a shift
on runs that only oversampled (found on two independent fault sets, 2026-11-27).
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_classification

from gapdoctor.analysis.features import feature_facts


def _split(seed: int) -> tuple[np.ndarray, ...]:
    x, y = make_classification(900, 12, n_informative=6, n_classes=3, n_clusters_per_class=2,
                               class_sep=0.8, random_state=seed)
    return x[:300], y[:300], x[300:], y[300:]


def test_copies_of_training_rows_do_not_read_as_a_shift() -> None:
    for seed in (0, 1, 2):
        x_tr, y_tr, x_va, y_va = _split(seed)
        plain = feature_facts(x_tr, y_tr, x_va, y_va)
        # every training row four times, the way RandomOverSampler or np.repeat leave them
        copies = feature_facts(np.repeat(x_tr, 4, axis=0), np.repeat(y_tr, 4), x_va, y_va)
        assert copies.domain_auc < 0.6, (seed, copies.domain_auc)
        assert abs(copies.domain_auc - plain.domain_auc) < 0.05
        lead = copies.ref_cv_accuracy - copies.ref_val_accuracy
        assert lead < 0.08, (seed, lead)


def test_oversampled_minority_reads_like_the_data_it_came_from() -> None:
    x_tr, y_tr, x_va, y_va = _split(3)
    minority = np.flatnonzero(y_tr == 2)[:20]
    keep = np.r_[np.flatnonzero(y_tr != 2), np.repeat(minority, 5)]
    f = feature_facts(x_tr[keep], y_tr[keep], x_va, y_va)
    assert f.domain_auc < 0.65, f.domain_auc
    assert f.n_train == len(np.unique(keep))  # each distinct row counted once
