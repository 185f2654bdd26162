"""Validation rows that no training row resembles are counted against chance, named by their
validation index, and told to the user as the first thing to look at when the splits differ;
alike splits name none."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scripts.tiny import digits, fit, mlp

from gapdoctor import GapDoctor, load_run
from gapdoctor.analysis.off_support import K, off_support
from gapdoctor.lookalikes import tell_apart


def test_a_moved_subset_is_found_row_for_row_and_mapped_to_its_indices():
    rng = np.random.default_rng(0)
    x_train = rng.normal(size=(400, 6))
    x_val = rng.normal(size=(300, 6))
    moved = rng.permutation(300)[:90]
    x_val[moved] = x_val[moved] * 100.0  # e.g. a decimal-comma misparse of these rows
    index = np.arange(1000, 1300)
    found = off_support(x_train, x_val, val_index=index)
    # every moved row, and no more alike ones than chance allows (expected about 0.75)
    assert set(index[moved].tolist()) <= set(found.rows) and found.n_off - 90 <= 3
    assert set(found.rows[:90]) == set(index[moved].tolist())  # farthest first
    assert 0.5 < found.expected < 1.0 and found.share == pytest.approx(found.n_off / 300)
    assert found.distances == sorted(found.distances, reverse=True)
    assert found.described().startswith(f"{found.n_off} of 300 ({found.share:.0%}; alike splits: "
                                        "about 1), the farthest rows ")
    assert found.described().endswith(f" and {found.n_off - 8} more")


@pytest.mark.parametrize("seed", range(5))
def test_splits_of_one_distribution_name_no_row(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_t(3, size=(900, 10))  # heavy tails: outliers exist in both splits
    found = off_support(x[:500], x[500:])
    assert found.n_off <= 2 and found.k == K


def test_a_small_training_sample_raises_what_chance_allows():
    rng = np.random.default_rng(0)
    found = off_support(rng.normal(size=(40, 3)), rng.normal(size=(600, 3)))
    # 40 training rows among 640: a validation row's 15 neighbours miss them all often
    assert found.expected > 100 and found.n_off < 3 * found.expected


def test_samples_too_small_or_of_other_widths_are_not_read():
    rng = np.random.default_rng(0)
    assert off_support(rng.normal(size=(20, 3)), rng.normal(size=(200, 3))) is None
    assert off_support(rng.normal(size=(200, 3)), rng.normal(size=(200, 4))) is None


def test_inverted_validation_images_are_named_in_the_finding_and_the_report(tmp_path):
    """A decoder that inverts a third of the validation images (1 - x): the shift finding
    names those rows, its first check says how to tell a pipeline step from a shift, and the
    PDF's data section lists them."""
    pypdf = pytest.importorskip("pypdf")
    x_tr, x_va, y_tr, y_va = digits()
    inverted = np.random.default_rng(1).permutation(len(x_va))[: len(x_va) // 3]
    x_va = x_va.copy()
    x_va[inverted] = 1.0 - x_va[inverted]
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, background=False)
    fit(mlp(), (x_tr, x_va, y_tr, y_va), doctor, epochs=4)
    shift = doctor.diagnosis.finding("distribution_shift")
    rows = shift.details["off_support_rows"]
    index = load_run(doctor.run_dir).arrays["val_index"]
    recorded = set(index.tolist()) & set(inverted.tolist())
    # every named row is an inverted one, and nearly every recorded inverted row is named
    assert set(rows) <= set(inverted.tolist()) and len(rows) >= 0.9 * len(recorded)
    assert any(c.startswith("Look first at the validation rows that no training row resembles, "
                            f"{len(rows)} of ") for c in shift.confirm)
    assert "have no training row near them" in shift.summary
    told = tell_apart("distribution_shift", "pipeline_bug", facts=shift.details)
    assert told.startswith(f"Validation rows that no training row resembles: {len(rows)} of ")
    # the inverting decoder is a bug on the validation path: inputs that differ keep it in view,
    # and an inverted stroke carries a mostly-dark pixel past twice its training range, a
    # break a changed world does not make: the bug leads, told with that column
    bug = doctor.diagnosis.finding("pipeline_bug")
    differ = [e for e in bug.evidence if e.rule and e.rule["key"] == "pipeline_bug.inputs_differ"]
    assert differ and 0 < differ[0].weight <= 1.0 and differ[0].supports
    hard = [e for e in bug.evidence if e.rule and e.rule["key"] == "pipeline_bug.hard_break"]
    assert hard and hard[0].supports and "out of range" in str(hard[0].value)
    assert doctor.diagnosis.verdict == "pipeline_bug"
    assert "validation input columns break what training shows" in bug.summary
    assert any(f.title.startswith("Look at the validation columns that break") and f.code
               for f in bug.fixes)
    reader = pypdf.PdfReader(str(doctor.run_dir / "report.pdf"))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))
    assert "Validation rows that no training row resembles" in text
    assert str(rows[0]) in text[text.index("Validation rows that no training row resembles"):]


def test_alike_splits_name_no_rows_and_only_note_the_count():
    """Digits' own train/validation split (no training needed: the rule reads the samples)."""
    import pandas as pd

    from gapdoctor import diagnose
    from gapdoctor.record.schema import RunRecord

    x_tr, x_va, y_tr, y_va = digits()
    run = RunRecord.empty(source="test")
    run.arrays.update(x_train=x_tr[:512], probe_labels=y_tr[:512], x_val=x_va,
                      y_val_features=y_va, val_index=np.arange(len(x_va)))
    run.curves = pd.DataFrame({"loss": np.linspace(2, 0.2, 8), "val_loss": np.linspace(2, .4, 8),
                               "accuracy": np.linspace(.3, .97, 8),
                               "val_accuracy": np.linspace(.3, .93, 8)})
    shift = diagnose(run).finding("distribution_shift")
    assert "off_support_rows" not in shift.details
    assert not any("no training row resembles" in c for c in shift.confirm)
    assert "no training row near them" not in shift.summary
    noted = [e for e in shift.evidence if "no training row near them" in e.name]
    assert noted and noted[0].weight == 0.0 and noted[0].value <= 2
    differ = [e for e in diagnose(run).finding("pipeline_bug").evidence
              if e.rule and e.rule["key"] == "pipeline_bug.inputs_differ"]
    assert not differ  # alike inputs: not counted (a zero weight is not listed)


@pytest.mark.parametrize("x_train, x_val", [
    (np.array([f"text {i}" for i in range(100)]), np.array([f"other {i}" for i in range(80)])),
    (np.zeros((100, 5)), np.zeros((80, 4))),  # another width
    (np.zeros((10, 5)), np.zeros((8, 5))),  # too few rows
])
def test_samples_that_cannot_be_compared_name_nothing_and_break_no_rule(x_train, x_val):
    """Text recorded as strings, samples of other widths, a handful of rows: the shift rule
    weighs what it can (the labels) and reports no error."""
    import pandas as pd

    from gapdoctor import diagnose
    from gapdoctor.record.schema import RunRecord

    run = RunRecord.empty(source="test")
    run.arrays.update(x_train=x_train, probe_labels=np.arange(len(x_train)) % 2, x_val=x_val,
                      y_val_features=np.arange(len(x_val)) % 2)
    run.curves = pd.DataFrame({"loss": np.linspace(1, .2, 6), "val_loss": np.linspace(1, .5, 6),
                               "accuracy": np.linspace(.5, .9, 6),
                               "val_accuracy": np.linspace(.5, .8, 6)})
    diagnosis = diagnose(run)
    assert not [e for e in diagnosis.errors if e["cause"] == "distribution_shift"]
    shift = diagnosis.finding("distribution_shift")
    assert "off_support_rows" not in shift.details
    assert off_support(x_train, x_val) is None
