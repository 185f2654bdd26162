"""Validation labels shifted against their inputs from some row on (a dropped row in one of
two files joined by position): the detector on numbers, then on a real Keras training."""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from scripts.tiny import digits, fit, mlp  # noqa: E402

from gapdoctor import load_run  # noqa: E402
from gapdoctor.analysis.alignment import row_offset  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402
from gapdoctor.engine import diagnose  # noqa: E402

QUIET = {"report": False, "verbose": 0, "background": False}


def test_a_model_at_chance_never_reaches_the_evidence_threshold() -> None:
    rng = np.random.default_rng(7)
    worst = max(row_offset(rng.integers(0, k, n), rng.integers(0, k, n)).z
                for k, n in zip(rng.integers(2, 12, 200), rng.integers(40, 600, 200), strict=True))
    assert worst < 5.0  # the ramp of pipeline_bug.row_offset starts at 5


def test_rows_sorted_by_class_give_no_signal_even_when_shifted() -> None:
    labels = np.sort(np.random.default_rng(0).integers(0, 5, 500))
    shifted = np.r_[labels[:200], labels[201:], labels[-1]]
    assert row_offset(shifted, labels).z < 5.0  # neighbours share labels: nothing to see


def test_a_sample_of_the_rows_compares_only_real_neighbours() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, 1000)
    shifted = np.r_[labels[:400], labels[401:], 0]
    keep = np.sort(rng.choice(1000, 500, replace=False))
    found = row_offset(shifted[keep], labels[keep], keep)
    assert found.shift == -1 and abs(found.start - 400) <= 10 and found.z > 10


def _train(tmp_path, y_va):
    x_tr, x_va, y_tr, _ = digits()
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, diagnose=False, **QUIET)
    fit(mlp(), (x_tr, x_va, y_tr, y_va), doctor, epochs=6)
    return diagnose(load_run(doctor.run_dir))


def test_labels_shifted_from_a_row_on_are_called_a_pipeline_bug(tmp_path) -> None:
    y_va = digits()[3]
    start = len(y_va) // 2
    shifted = np.r_[y_va[:start], y_va[start + 1:], y_va[:1]]  # row `start` dropped
    d = _train(tmp_path / "shifted", shifted)
    assert d.verdict == "pipeline_bug", [(f.cause, f.score) for f in d.findings]
    finding = d.finding("pipeline_bug")
    evidence = next(e for e in finding.evidence if e.key == "pipeline_bug.row_offset")
    assert evidence.weight > 5.0 and "from validation row" in str(evidence.value)
    # the change point is where the evidence starts to pile up: within a few rows of the drop
    assert finding.details["offset_shift"] == -1 and abs(finding.details["offset_start"] - start) <= 8


def test_the_same_training_with_aligned_labels_has_no_offset_evidence(tmp_path) -> None:
    d = _train(tmp_path / "aligned", digits()[3])
    finding = d.finding("pipeline_bug")
    assert not any(e.key == "pipeline_bug.row_offset" and e.weight > 0 for e in finding.evidence)
    assert d.verdict != "pipeline_bug"


def test_malformed_inputs_give_no_finding_rather_than_an_error() -> None:
    labels = np.arange(50) % 4
    assert row_offset(labels, labels[:40]) is None            # lengths disagree
    assert row_offset(labels, labels, np.arange(30)) is None  # an index of another length
    assert row_offset(labels[:10], labels[:10]) is None        # too few rows to say anything
    # an index with gaps and repeats (a damaged record): compared where rows are neighbours
    index = np.r_[np.arange(25), np.arange(20, 45)]
    found = row_offset(labels, labels, index)
    assert found is None or found.z < 5.0
