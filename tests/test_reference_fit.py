"""A network that fits its own training rows worse than a logistic regression fits rows it never
saw is held back by its training: AdamW with a weight decay converted from an L2 coefficient
without dividing by the batch count pins the weights near zero. The same network trained
with a sane decay reaches the reference and carries no such evidence."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
from scripts.tiny import digits, fit, mlp

from gapdoctor import GapDoctor
from gapdoctor.analysis.reference_fit import MIN_EPOCHS, ReferenceFit

QUIET = {"report": False, "verbose": 0, "background": False}


def _behind(doctor) -> list:
    finding = doctor.diagnosis.finding("optimization")
    return [e for e in finding.evidence if e.key == "optimization.behind_reference"]


@pytest.mark.parametrize("weight_decay, held_back", [(100.0, True), (1e-4, False)])
def test_a_network_behind_a_linear_model_on_its_own_rows(tmp_path, weight_decay, held_back):
    x_tr, x_va, y_tr, y_va = digits()
    model = mlp()
    model.compile(keras.optimizers.AdamW(2e-3, weight_decay=weight_decay),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, **QUIET)
    fit(model, (x_tr, x_va, y_tr, y_va), doctor, epochs=MIN_EPOCHS + 2)
    ref = doctor.diagnosis.finding("optimization")
    evidence = _behind(doctor)
    if held_back:
        assert doctor.diagnosis.verdict == "optimization"
        assert ref.details.get("fix_tags") == ["underfit"]
        assert ref.fixes[0].title.startswith("Check the training fit against a simple model")
        assert evidence and evidence[0].rule["measured"] < 0.4
        assert "cross-validated logistic regression" in ref.summary
    else:
        assert not evidence
        assert doctor.diagnosis.verdict != "optimization"


def test_the_share_of_the_reference_s_way():
    fit = ReferenceFit(network=0.9, reference=0.8, majority=0.5, n=500, measured="x")
    assert fit.share == pytest.approx(4 / 3)


@pytest.mark.parametrize("probe_labels", [np.array([np.nan, 0.5, 1.5] * 20),
                                          np.array([-1] * 60)])
def test_no_class_ids_give_no_comparison(probe_labels):
    from gapdoctor.analysis.features import FeatureFacts
    from gapdoctor.analysis.reference_fit import reference_fit
    from gapdoctor.record.schema import RunRecord

    nan = float("nan")
    features = FeatureFacts(60, 60, 4, False, nan, nan, nan, nan, nan,
                            ref_cv_accuracy=0.9, ref_val_accuracy=0.9,
                            ref_val_accuracy_realigned=0.9, chance=0.5)
    run = RunRecord.empty()
    run.curves = pd.DataFrame({"loss": [1.0] * 6, "accuracy": [0.5] * 6})
    run.arrays["probe_labels"] = probe_labels
    assert reference_fit(run, features) is None
    assert reference_fit(run, None) is None
