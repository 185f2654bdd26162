"""The domain classifier behind distribution_shift's evidence: two samples of one
distribution stay below the ramp; a region of the input space that only validation covers
is seen even when means, spreads and correlations agree (the nearest-neighbour half)."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.features import AUC_SAME, _domain_auc


def test_two_samples_of_one_distribution_read_as_the_same() -> None:
    for seed in range(5):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(800, 6)) @ rng.normal(size=(6, 6))
        assert _domain_auc(x[:400], x[400:], seed) < AUC_SAME, seed


def test_validation_from_the_dark_squares_of_a_checkerboard_is_a_shift() -> None:
    rng = np.random.default_rng(0)
    train = rng.uniform(0, 1, (500, 2))
    pool = rng.uniform(0, 1, (4000, 2))
    dark = (np.floor(4 * pool[:, 0]) + np.floor(4 * pool[:, 1])) % 2 == 0
    val = pool[dark][:500]
    # the same means, spreads and (zero) correlation: first and second moments agree, so a
    # linear model on second-order features reads 0.54; half of training lies where validation
    # never goes, so the best any classifier can reach is about 0.75
    assert np.allclose(train.mean(0), val.mean(0), atol=0.05)
    assert _domain_auc(train, val) > AUC_SAME + 0.05  # 0.5 +- 0.03 for one distribution



def _ordinal(n: int, rng: np.random.Generator) -> np.ndarray:
    """Six ordinal columns of 3 to 8 levels (ratings, counts, binned measurements)."""
    cols = [rng.choice(k, size=n, p=rng.dirichlet(np.ones(k) * 3)) for k in (3, 4, 5, 6, 7, 8)]
    return np.stack(cols, axis=1).astype(float)


def _rescaled(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A scaler fitted on other statistics: every column its own gain and offset."""
    return x * rng.uniform(0.3, 3, x.shape[1]) + rng.normal(0, 5, x.shape[1])


def test_a_rescaled_split_of_heavy_tailed_columns_reads_as_a_transform() -> None:
    # prices, incomes, counts: one sample's standard deviation is ruled by its few largest
    # values, so matching means and spreads leaves the bulk of validation squeezed or
    # stretched (0.66-0.90 here); matching medians and quartiles undoes the rescaling
    from gapdoctor.analysis.features import AUC_VANISHED, _affine_auc, _realigned

    for seed in range(3):
        rng = np.random.default_rng(seed)
        pool = np.exp(rng.normal(0, 1.5, (1000, 6)))
        x_tr, x_va = pool[:500], _rescaled(pool[500:], rng)
        assert _domain_auc(x_tr, _realigned(x_va, x_tr, "moments")) > AUC_SAME, seed  # the premise
        assert _affine_auc(x_tr, x_va)[0] < AUC_VANISHED, seed


def test_a_rescaled_split_of_few_level_columns_reads_as_a_transform() -> None:
    # the other way round: a column's quartiles may fall on different levels in two samples,
    # their means and spreads do not jump; the better of the two fits counts
    from gapdoctor.analysis.features import AUC_VANISHED, _affine_auc

    for seed in range(3):
        rng = np.random.default_rng(seed)
        pool = _ordinal(1000, rng)
        x_tr, x_va = pool[:500], _rescaled(pool[500:], rng)
        assert _domain_auc(x_tr, x_va) > 0.95, seed
        assert _affine_auc(x_tr, x_va)[0] < AUC_VANISHED, seed


def test_a_sub_population_survives_the_affine_fit() -> None:
    # validation only where the first column is at its lowest level: no scale or offset
    # makes a constant column vary, so the splits stay apart (0.75 by either fit, from 0.86
    # raw) and the transform reading, which counts nothing from AUC_SAME, stays silent
    from gapdoctor.analysis.features import _affine_auc

    rng = np.random.default_rng(0)
    pool = np.c_[_ordinal(4000, rng), np.exp(rng.normal(0, 1.5, (4000, 3)))]
    low = pool[:, 0] == 0
    x_tr, x_va = pool[:500], pool[500:][low[500:]][:300]
    assert _affine_auc(x_tr, x_va)[0] > AUC_SAME + 0.1
