"""The corpus's planted-signal saturation case plants the same code in both splits.

It once read the code's scale from the training inputs after planting them, so validation
got a larger code than training: a real input shift under a ``metric_saturation`` label
(held-out saturation runs read as shifts 6 times in 17)."""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.cases import build_case, design


def test_planted_code_has_the_same_size_in_training_and_validation() -> None:
    plans = [p for p in design() if p.implementation == "metric_saturation/planted_signal"]
    checked = set()
    for plan in plans:
        try:
            case = build_case(plan)
        except ModuleNotFoundError:   # real tables ship in the benchmark extra (not in CI)
            continue
        if case.layout == "tokens":
            continue
        checked.add("vector" if case.layout == "vector" else "grid")
        k = case.n_classes
        xt = case.x_train.reshape(len(case.x_train), -1).astype(float)
        xv = case.x_val.reshape(len(case.x_val), -1).astype(float)
        # the class-conditional mean of every input, training vs validation: the planted
        # code dominates it; a code of another size moves it by a large part of its size
        for c in range(k):
            mt, mv = xt[case.y_train == c].mean(0), xv[case.y_val == c].mean(0)
            code = np.abs(mt).max()
            assert np.abs(mt - mv).max() < 0.5 * code, (plan.case_id, c)
    assert checked == {"vector", "grid"}, checked   # both planting branches were exercised
