"""Malformed values on the paths of the two metric facts (``analysis/against_loss.py``,
``analysis/logged_metric.py``): no fact and no error, or a finite one."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gapdoctor import diagnose
from gapdoctor.analysis.against_loss import against_loss, proportion_se
from gapdoctor.analysis.logged_metric import logged_against_own
from gapdoctor.record.schema import RunRecord

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("metric, loss, direction", [
    ([0.5, 0.4, 0.3], [1.0, 0.8, 0.6], "max"),                      # too few epochs
    ([0.5] * 6, [1.0, 0.9, 0.8, 0.7, 0.6, 0.5], "max"),             # a constant metric
    ([0.5, 0.4, 0.3, 0.2, 0.1, 0.0], [1.0] * 6, "max"),             # a constant loss
    ([0.5, 0.4, 0.3, 0.2, 0.1, 0.0], [1.0, 0.9, 0.8, 0.7, 0.6, 0.5], "unknown"),
    ([NAN, INF, NAN, -INF, NAN, NAN], [1.0, 0.9, 0.8, 0.7, 0.6, 0.5], "max"),
])
def test_against_loss_gives_no_fact(metric, loss, direction):
    assert against_loss(pd.Series(metric), pd.Series(loss), direction) is None


def test_against_loss_skips_nonfinite_epochs():
    metric = pd.Series([0.5, NAN, 0.45, INF, 0.42, 0.40, 0.38, 0.37])
    loss = pd.Series([1.0, 0.9, 0.8, 0.7, 0.65, 0.6, 0.55, 0.5])
    found = against_loss(metric, loss, "max")
    assert found is not None and found.rho > 0.9 and math.isfinite(found.loss_gain)


@pytest.mark.parametrize("value, n, curve", [
    (1.5, 100, [1.5]),              # not a share
    (0.5, 100, [0.5, -0.2]),        # a curve outside [0, 1]
    (0.5, None, [0.5, 0.123456789]),  # no size, and no step that gives one
    (0.5, 10, []),
])
def test_proportion_se_is_nan_where_it_means_nothing(value, n, curve):
    assert math.isnan(proportion_se(value, n, pd.Series(curve, dtype=float)))


def _run(curves: dict, split: dict | None, monitor: str = "val_accuracy") -> RunRecord:
    run = RunRecord.empty(run_name="r")
    run.curves = pd.DataFrame(curves)
    run.meta["monitor"] = monitor
    if split is not None:
        run.split_metrics = pd.DataFrame(split)
    return run


def test_logged_against_own_with_malformed_tables():
    epochs = [0, 1, 2]
    curves = {"val_accuracy": [0.1, NAN, 0.2], "val_loss": [1.0, 0.9, 0.8], "loss": [1.0, 0.8, 0.6]}
    good = {"epoch": epochs, "split": ["val"] * 3, "loss": [1.0, 0.9, 0.8],
            "accuracy": [0.7, 0.8, 0.85], "ece": [0.1] * 3, "n": [200] * 3}
    assert logged_against_own(_run(curves, good, "val_f1"), "val_f1", "loss") is None
    assert logged_against_own(_run(curves, None), "val_accuracy", "loss") is None
    no_n = {**good, "n": [NAN] * 3}
    assert logged_against_own(_run(curves, no_n), "val_accuracy", "loss") is None
    no_acc = {**good, "accuracy": [NAN] * 3}
    assert logged_against_own(_run(curves, no_acc), "val_accuracy", "loss") is None
    found = logged_against_own(_run(curves, good), "val_accuracy", "loss")
    assert found is not None and found.n_epochs == 2 and found.diff / found.se > 100
    assert math.isclose(found.loss_ratio, 1.0)
    zero_loss = {**good, "loss": [0.0] * 3}
    assert math.isnan(logged_against_own(_run(curves, zero_loss), "val_accuracy", "loss").loss_ratio)
    # and the whole diagnosis of such a record runs
    run = _run(curves, no_n)
    findings = diagnose(run).findings
    assert findings and np.isfinite([f.score for f in findings]).all()


def test_malformed_inputs_give_no_range_or_fill_fact_and_no_error():
    """The value-range and fill checks of session 33 on damaged samples: NaN and inf values,
    constant or too few values, 1-D or too-short sequences, no recorded shape."""
    from gapdoctor.analysis.inputs import far_values_of, new_fill_of
    from gapdoctor.analysis.integrity import far_values
    from gapdoctor.analysis.tokens import new_fill
    from gapdoctor.record.schema import RunRecord

    rng = np.random.default_rng(0)
    x = rng.random((100, 16))
    assert np.isnan(far_values(np.full((100, 16), np.nan), x))       # no finite training value
    assert np.isnan(far_values(np.zeros((100, 16)), x))               # no range
    assert np.isnan(far_values(x[:1, :4], x))                         # too few values
    with_inf = x.copy()
    with_inf[:, 0] = np.inf                                           # non-finite: not counted
    assert far_values(x, with_inf) == 0.0
    ids = rng.integers(2, 50, (100, 12))
    assert np.isnan(new_fill(ids[:, 0], ids[:, 0]))                   # 1-D
    assert np.isnan(new_fill(ids[:, :4], ids[:, :4]))                 # too short for a fill
    assert np.isnan(new_fill(ids[:10], ids))                          # too few sequences

    def run(shape, x_train, x_val):
        r = RunRecord.empty(source="test")
        r.meta["data"] = {"input_shape": shape} if shape is not None else {}
        r.arrays.update(x_train=x_train, x_val=x_val)
        return r

    assert far_values_of(run(None, x, x), tokens=False) is None       # shape not recorded
    assert far_values_of(run([16], x, x), tokens=False) is None       # a table: integrity_of's
    assert far_values_of(run([16, 1], x, x * 0 + np.nan), tokens=False) is None   # all NaN
    assert new_fill_of(run([12], ids, ids), tokens=False) is None     # not token inputs
    assert new_fill_of(run([12], ids, ids[:, :3]), tokens=True) is None   # other widths


@pytest.mark.parametrize("accuracy, chance", [
    ([0.5, 0.8, 0.9], 0.5),                          # too few epochs
    ([0.5, 0.8, 0.9, 0.5, 0.5], NAN),                # chance unknown
    ([NAN, NAN, NAN, NAN, NAN], 0.5),                # no accuracy at all
    ([0.5, 0.52, 0.55, 0.5, 0.51], 0.5),             # never got 30 % of the way
    ([0.5, INF, 0.9, 0.5, 0.5], 0.5),                # an infinite epoch
])
def test_unlearned_gives_no_fact_or_a_finite_one(accuracy, chance):
    from gapdoctor.analysis.accuracy import unlearned

    value = unlearned(pd.Series(accuracy, dtype=float), chance)
    assert math.isnan(value) or math.isfinite(value)


@pytest.mark.parametrize("accuracy", [
    [NAN] * 6, [0.1, INF, 0.9, NAN, 0.1, 0.1], [0.1, 0.5, 0.9, 0.1, 0.1, 0.1]])
def test_malformed_accuracy_curves_reach_the_unlearned_and_at_chance_evidence_without_error(accuracy):
    run = RunRecord.empty(source="test")
    run.meta.update(task="multiclass", n_classes=10)
    run.curves = pd.DataFrame({"loss": [2.3, 1.5, 0.8, 0.6, 0.5, 0.4], "accuracy": accuracy,
                               "val_loss": [2.3, 2.0, 2.1, 2.2, 2.3, 2.4],
                               "val_accuracy": [0.1, 0.11, NAN, 0.1, 0.1, 0.1]})
    d = diagnose(run)
    assert not d.errors and d.finding("optimization") is not None
