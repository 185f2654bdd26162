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
