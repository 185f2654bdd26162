"""Validation rows whose inputs were erased (a float image cast to uint8 reads 0 or 1/255)
are counted over every row in memory and read as a pipeline bug; data whose rows all take
two values in both splits (binary features) is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scripts.tiny import digits, fit, mlp

from gapdoctor import GapDoctor, load_run
from gapdoctor.analysis.inputs import collapsed_share, count_collapsed


def _evidence(diagnosis, key: str) -> list:
    return [e for e in diagnosis.finding("pipeline_bug").evidence
            if (e.rule or {}).get("key") == key]


@pytest.mark.parametrize("cast", [0.0, 0.3])
def test_validation_images_cast_to_uint8_read_as_a_pipeline_bug(tmp_path, cast):
    x_tr, x_va, y_tr, y_va = digits()
    rows = np.random.default_rng(0).permutation(len(x_va))[:int(cast * len(x_va))]
    x_va = x_va.copy()
    x_va[rows] = x_va[rows].astype("uint8").astype("float32") / 255.0  # the bug
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    fit(mlp(), (x_tr, x_va, y_tr, y_va), doctor, epochs=8)
    run = load_run(doctor.run_dir)
    counted = run.meta["data"]["collapsed_rows"]
    assert counted["val"] == {"count": len(rows), "n": len(x_va), "width": 64,
                              "scope": "all rows"}
    assert counted["train"]["count"] == 0
    collapsed = _evidence(doctor.diagnosis, "pipeline_bug.collapsed")
    if cast:
        assert collapsed and collapsed[0].supports
        assert doctor.diagnosis.verdict == "pipeline_bug"
        assert "uint8" in doctor.diagnosis.finding("pipeline_bug").summary
        against = [e for e in doctor.diagnosis.finding("distribution_shift").evidence
                   if (e.rule or {}).get("key") == "distribution_shift.collapsed"]
        assert against and not against[0].supports  # erased rows are no new data
    else:
        assert not collapsed and doctor.diagnosis.verdict != "pipeline_bug"


def test_rows_of_binary_features_in_both_splits_are_no_evidence():
    from gapdoctor.record.schema import RunRecord

    rng = np.random.default_rng(0)
    run = RunRecord.empty(source="test")
    run.arrays.update(x_train=rng.integers(0, 2, (300, 20)).astype("float32"),
                      x_val=rng.integers(0, 2, (100, 20)).astype("float32"))
    share = collapsed_share(run)  # from the feature samples: no count in meta
    assert share == {"train": 1.0, "val": 1.0}
    assert count_collapsed(np.zeros((5, 7))) == 0  # too few inputs to tell


def test_two_valued_rows_common_in_training_are_a_kind_of_data_not_a_bug():
    """Sparse binary features with shorter validation rows: more two-valued rows in
    validation, but training has them too, so they say nothing about a broken step."""
    from gapdoctor.engine import diagnose
    from gapdoctor.record.schema import RunRecord

    run = RunRecord.empty(source="test")
    run.meta["data"] = {"collapsed_rows": {"train": {"count": 300, "n": 1000},
                                           "val": {"count": 150, "n": 250}}}
    run.curves = pd.DataFrame({"loss": np.linspace(1, 0.2, 10), "val_loss": np.linspace(1, .5, 10),
                               "accuracy": np.linspace(.5, .95, 10),
                               "val_accuracy": np.linspace(.5, .8, 10)})
    found = diagnose(run).finding("pipeline_bug")
    assert not _evidence(diagnose(run), "pipeline_bug.collapsed")
    assert "collapsed" not in found.details["fix_tags"]  # nor its fix, nor its story
    run.meta["data"]["collapsed_rows"]["train"]["count"] = 0
    assert _evidence(diagnose(run), "pipeline_bug.collapsed")
    assert "collapsed" in diagnose(run).finding("pipeline_bug").details["fix_tags"]
