"""The corpus's planted-signal saturation case plants the same code in both splits.

It once read the code's scale from the training inputs after planting them, so validation
got a larger class code than training: a real input shift under a ``metric_saturation`` label
(held-out saturation runs read as shifts 6 times in 17)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from benchmarks.corpus.faults.setup_faults import planted_signal


def _case(layout: str, shape: tuple[int, ...], k: int = 4, seed: int = 0) -> SimpleNamespace:
    """The fields planted_signal reads and writes, on random inputs (no corpus source)."""
    rng = np.random.default_rng(seed)
    return SimpleNamespace(
        layout=layout, n_classes=k, description="",
        x_train=rng.normal(size=(800, *shape)).astype("float32"),
        x_val=rng.normal(size=(400, *shape)).astype("float32"),
        y_train=rng.integers(0, k, 800), y_val=rng.integers(0, k, 400),
        spec=SimpleNamespace(epochs=10, early_stopping=True, class_weight=True))


def test_planted_code_has_the_same_size_in_training_and_validation() -> None:
    for layout, shape in (("vector", (12,)), ("image", (16, 16, 1)), ("signal", (96, 1))):
        case = _case(layout, shape)
        planted_signal(case, 0.5, np.random.default_rng(1))
        xt = case.x_train.reshape(len(case.x_train), -1).astype(float)
        xv = case.x_val.reshape(len(case.x_val), -1).astype(float)
        # the class-conditional mean of every input, training vs validation: the planted
        # code dominates it; a code of another size moves it by a large part of its size
        for c in range(case.n_classes):
            mt, mv = xt[case.y_train == c].mean(0), xv[case.y_val == c].mean(0)
            code = np.abs(mt).max()
            assert code > 1.0, (layout, c)   # a code was planted
            assert np.abs(mt - mv).max() < 0.3 * code, (layout, c)
