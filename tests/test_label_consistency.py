"""Which split's labels follow their inputs less: the same reference model, cross-validated
within each split. Flipped training labels are learned less well within training; clean
labels, a consistent renaming of validation's classes and validation rows whose labels were
shifted (the other split wrong) do not read as wrong training labels; a validation set with
more rows than training is not trusted (more rows alone learn better)."""

from __future__ import annotations

import numpy as np
import pytest

from gapdoctor.analysis.features import feature_facts
from gapdoctor.analysis.label_agreement import label_consistency
from gapdoctor.rules.label_noise import CONSISTENCY


def _blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[0, 0, 0, 0], [3, 0, 0, 0], [0, 3, 0, 0]], float)
    return centres[y] + rng.normal(size=(n, 4)), y


def _read(x_tr, y_tr, x_va, y_va) -> tuple[float, float, float, str]:
    return label_consistency(feature_facts(x_tr, y_tr, x_va, y_va))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_labels_read_below_the_ramp(seed: int) -> None:
    x_tr, y_tr = _blobs(500, seed)
    x_va, y_va = _blobs(400, seed + 100)
    _, z, trust, _ = _read(x_tr, y_tr, x_va, y_va)
    assert abs(z) < CONSISTENCY.lo and trust == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flipped_training_labels_are_learned_less_well(seed: int) -> None:
    x_tr, y_tr = _blobs(500, seed)
    x_va, y_va = _blobs(400, seed + 100)
    rng = np.random.default_rng(seed + 7)
    flip = rng.random(len(y_tr)) < 0.25
    y_bad = np.where(flip, (y_tr + rng.integers(1, 3, len(y_tr))) % 3, y_tr)
    difference, z, trust, _ = _read(x_tr, y_bad, x_va, y_va)
    assert difference > 0.1 and z > CONSISTENCY.hi and trust == 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_the_other_split_wrong_does_not_read_as_wrong_training_labels(seed: int) -> None:
    x_tr, y_tr = _blobs(500, seed)
    x_va, y_va = _blobs(400, seed + 100)
    renamed = (y_va + 1) % 3                      # a class remap: consistent, learnable
    # (slightly negative here: training's model fits 500 rows, validation's 400)
    assert _read(x_tr, y_tr, x_va, renamed)[1] < CONSISTENCY.lo
    offset = np.roll(y_va, 37)                    # labels shifted by rows: validation is noisy
    assert _read(x_tr, y_tr, x_va, offset)[1] < -CONSISTENCY.hi


def test_a_validation_set_larger_than_training_is_not_trusted() -> None:
    x_tr, y_tr = _blobs(60, 0)
    x_va, y_va = _blobs(400, 1)
    _, _, trust, why = _read(x_tr, y_tr, x_va, y_va)
    assert trust == 0.0 and "validation has more" in why


def test_without_validation_labels_the_read_is_nan() -> None:
    x_tr, y_tr = _blobs(200, 0)
    x_va, _ = _blobs(100, 1)
    difference, z, trust, _ = label_consistency(feature_facts(x_tr, y_tr, x_va, None))
    assert np.isnan(difference) and np.isnan(z) and trust == 0.0
    assert label_consistency(None)[2] == 0.0
