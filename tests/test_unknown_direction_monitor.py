"""A monitored metric whose direction neither its Keras class nor its name tells (a custom
``positive_rate``): the record says ``monitor_mode: "unknown"`` and must read back, be
diagnosed and be analysed by the CLI like any other (fresh10 found records that the
reader refused)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import keras
from scripts.tiny import digits, fit, mlp

from gapdoctor import GapDoctor, diagnose, load_run

GAPDOCTOR = Path(sys.executable).parent / "gapdoctor"


def positive_rate(y_true, y_pred):
    """Mean probability of class 1: it never looks at the labels."""
    return keras.ops.mean(y_pred[:, 1])


def test_a_record_monitoring_a_metric_of_unknown_direction_reads_back(tmp_path):
    x_tr, x_va, y_tr, y_va = digits()
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr), output_dir=tmp_path,
                       monitor="val_positive_rate", report=False, verbose=0, background=False)
    fit(mlp(metrics=(positive_rate,)), (x_tr, x_va, y_tr, y_va), doctor, epochs=3)
    run = load_run(doctor.run_dir)
    assert run.meta["monitor"] == "val_positive_rate"
    assert run.meta["monitor_mode"] == "unknown"
    # a plain function as a metric is recorded (its compiled wrapper), not a probe failure
    assert run.meta["metrics"][0]["name"] == "positive_rate"
    assert not [f for f in run.failures if f.get("probe") == "model_info"], run.failures
    assert diagnose(run).status == doctor.diagnosis.status
    cli = subprocess.run([sys.executable, str(GAPDOCTOR), "analyze", str(doctor.run_dir)],
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert "val_positive_rate" in cli.stdout
