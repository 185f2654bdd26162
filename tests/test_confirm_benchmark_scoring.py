"""The confirmation benchmark credits verdicts as the held-out figures do."""

from __future__ import annotations

import pandas as pd

from benchmarks.confirm.run import summarise


def _rows(**extra: list) -> pd.DataFrame:
    table = pd.DataFrame({
        "case_id": ["h1", "h2", "n1", "m1"],
        "cause": ["healthy", "healthy", "label_noise", "metric_mismatch"],
        "acceptable": ["healthy", "healthy", "label_noise", "metric_mismatch"],
        "verdict_before": ["metric_saturation", "healthy", "small_validation_set", "healthy"],
        "verdict_after": ["metric_saturation", "healthy", "small_validation_set", "metric_mismatch"],
        "outcomes": ["{}", "{}", "{}", '{"metric_mismatch/threshold_tuning": "confirmed"}'],
        "cost": [0.0, 0.0, 0.1, 0.2],
    })
    return table.assign(**extra)


def test_ceiling_and_tiny_validation_sets_are_credited() -> None:
    s = summarise(_rows(n_val=[500, 500, 40, 500], best_value=[0.998, 0.9, 0.8, 0.5],
                        diagnosed_monitor=["val_accuracy"] * 4))
    # saturation at 0.998 accuracy is accepted for a healthy run; so is small_validation_set
    # for a run validated on 40 samples
    assert s["false_alarms_before"] == 0.0
    assert s["top1_before"] == 0.5 and s["top1_after"] == 1.0
    assert s["wrong_leads"] == 0


def test_rows_without_those_columns_use_the_cases_own_lists() -> None:
    s = summarise(_rows())
    assert s["false_alarms_before"] == 0.5
    assert s["top1_before"] == 0.0 and s["top1_after"] == 0.5
    assert s["wrong_leads"] == 2  # saturation on h1, small_validation_set on n1
