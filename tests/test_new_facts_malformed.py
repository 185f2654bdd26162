"""Malformed values on the paths of session 35's two facts (``analysis/inert_metric.py``,
``analysis/premise.first_loss_vs_uniform``): no fact and no error, or a finite one; and a
whole diagnosis of such a record still ends."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gapdoctor import diagnose
from gapdoctor.analysis.inert_metric import inert_metric
from gapdoctor.analysis.premise import first_loss_vs_uniform
from gapdoctor.record.schema import RunRecord

NAN, INF = float("nan"), float("inf")
RISING = [.56, .60, .62, .63, .64]


def _run(metric: list, accuracy: list | None = RISING) -> RunRecord:
    run = RunRecord.empty()
    run.curves = pd.DataFrame({"loss": [1.0] * len(metric), "val_loss": [1.0] * len(metric),
                               "val_rate": metric})
    if accuracy is not None:
        run.split_metrics = pd.DataFrame({"epoch": range(len(accuracy)), "split": "val",
                                          "loss": 1.0, "accuracy": accuracy, "ece": 0.0, "n": 600})
    return run


@pytest.mark.parametrize("metric, accuracy, n", [
    ([.5, .5, .5], RISING[:3], 600),                  # too few epochs
    ([.5, NAN, INF, .5, -INF], RISING, 600),          # non-finite metric values
    ([.5, .6, 1.7, .5, .6], RISING, 600),             # not a share
    ([.5, .5, .5, .5, .5], [NAN] * 5, 600),           # no accuracy measured
    ([.5, .5, .5, .5, .5], [.7, .6, .5, .4, .3], 600),  # accuracy only fell
    ([.5, .5, .5, .5, .5], RISING, 0),                # no validation size
    ([.5, .5, .5, .5, .5], None, 600),                # no callback scores (an imported log)
])
def test_inert_metric_gives_no_fact(metric, accuracy, n):
    assert inert_metric(_run(metric, accuracy), "val_rate", "unknown", n) is None


def test_inert_metric_on_an_unknown_monitor_gives_no_fact():
    assert inert_metric(_run([.5] * 5), "val_missing", "max", 600) is None
    assert inert_metric(_run([.5] * 5), None, "max", 600) is None


@pytest.mark.parametrize("loss, k", [
    ([NAN, 1.0, 0.9], 10), ([INF, 1.0], 10), ([2.3, 1.0], 1), ([2.3, 1.0], 0), ([], 10),
])
def test_first_loss_vs_uniform_gives_no_fact(loss, k):
    assert math.isnan(first_loss_vs_uniform(pd.DataFrame({"loss": loss}, dtype=float), k))


def test_first_loss_vs_uniform_without_a_loss_column_or_with_text():
    assert math.isnan(first_loss_vs_uniform(pd.DataFrame({"accuracy": [.5, .6]}), 10))
    assert math.isnan(first_loss_vs_uniform(pd.DataFrame({"loss": ["nan?", "1.0"]}), 10))


def test_a_record_with_such_values_is_still_diagnosed():
    run = _run([.5, NAN, INF, .5, -INF])
    run.curves["loss"] = [INF, 1.0, 0.9, 0.8, 0.7]
    run.meta.update(loss={"name": "sparse_categorical_crossentropy"}, task="multiclass", n_classes=3)
    d = diagnose(run)
    assert d.findings and all(math.isfinite(f.score) for f in d.findings)
