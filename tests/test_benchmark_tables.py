"""A benchmark table's ``verdict`` is the declared weights' (runs are diagnosed with the
calibration off); ``verdict_shipped`` is what users get, the calibration applied to the logits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.diagnosis.scoring import with_shipped_verdicts
from gapdoctor.diagnosis import CAUSES


def _table() -> pd.DataFrame:
    rows = []
    for lead, logit in (("overfitting", 1.0), ("label_noise", -0.2)):
        row = {"case_id": lead, "verdict": lead}
        for cause in CAUSES:
            z = logit if cause == lead else -6.0
            row[f"logit_{cause}"] = z
            row[f"score_{cause}"] = 0.97 / (1 + np.exp(-z))
            row[f"cap_{cause}"] = 1.0
        rows.append(row)
    return pd.DataFrame(rows)


def test_shipped_verdicts_apply_the_calibration_to_the_logits():
    table = _table()
    plain = with_shipped_verdicts(table, None)  # no calibration: the table's own scores
    assert plain["verdict_shipped"].tolist() == ["overfitting", "healthy"]  # 0.44 < 0.5
    lifted = with_shipped_verdicts(table, {"label_noise": {"a": 1.0, "b": 1.0}})
    assert lifted["verdict_shipped"].tolist() == ["overfitting", "label_noise"]
    assert lifted["verdict"].tolist() == table["verdict"].tolist()  # the declared column stays
    assert np.isclose(lifted["score_shipped"].iloc[1], 0.97 / (1 + np.exp(-0.8)))
