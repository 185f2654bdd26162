"""Validation at chance while training fits, with inputs that differ: a changed world blurs
the link between inputs and labels, a broken validation path erases it. The pipeline bug's
at-chance evidence keeps its full weight, and the shift finding counts it against itself;
a shift that leaves the model half its skill is read as a shift."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ortho_group

from gapdoctor import diagnose
from gapdoctor.lookalikes import tell_apart
from gapdoctor.record.schema import RunRecord


def _run(val_accuracy: np.ndarray) -> RunRecord:
    """Three Gaussian classes in 8 dimensions; validation rotated at random (inputs differ,
    no per-column scale or offset explains it), with the given validation accuracy curve
    beside a training fit that reaches 0.97."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=3.0, size=(3, 8))
    y_tr, y_va = rng.integers(0, 3, 600), rng.integers(0, 3, 400)
    x_tr = centres[y_tr] + rng.normal(size=(600, 8))
    x_va = (centres[y_va] + rng.normal(size=(400, 8))) @ ortho_group.rvs(8, random_state=1)
    run = RunRecord.empty(source="test")
    run.meta.update(task="multiclass", n_classes=3)
    run.arrays.update(x_train=x_tr[:512].astype("float32"), probe_labels=y_tr[:512],
                      x_val=x_va.astype("float32"), y_val_features=y_va,
                      val_index=np.arange(400))
    epochs = len(val_accuracy)
    run.curves = pd.DataFrame({"loss": np.linspace(1.1, 0.08, epochs),
                               "accuracy": np.linspace(0.4, 0.97, epochs),
                               "val_loss": np.linspace(1.1, 2.5, epochs),
                               "val_accuracy": val_accuracy})
    return run


def _evidence(finding, key):
    return [e for e in finding.evidence if e.rule and e.rule["key"] == key]


def test_validation_at_chance_with_inputs_that_differ_reads_as_a_broken_path():
    d = diagnose(_run(np.array([0.33, 0.35, 0.34, 0.36, 0.34, 0.35, 0.33, 0.34, 0.35, 0.34])))
    shift, bug = d.finding("distribution_shift"), d.finding("pipeline_bug")
    assert _evidence(shift, "distribution_shift.domain")[0].supports  # the inputs do differ
    erased = _evidence(shift, "distribution_shift.no_signal_left")
    assert erased and erased[0].weight == -3.0 and not erased[0].supports
    at_chance = _evidence(bug, "pipeline_bug.val_at_chance")
    assert at_chance and at_chance[0].weight == 3.5  # not damped by the differing inputs
    assert d.verdict == "pipeline_bug" and bug.score > shift.score
    # told as an input path that erased the signal, not as labels out of line with alike inputs
    assert "a step of the validation input path most likely erased" in bug.summary
    assert "look alike" not in bug.summary
    assert any(f.title == "Score training rows sent through the validation input path" for f in bug.fixes)
    told = tell_apart("distribution_shift", "pipeline_bug", facts=shift.details)
    assert told.startswith(f"Validation is {shift.details['signal_left']:.0%} of the way from chance")


def test_a_shift_that_leaves_half_the_skill_is_not_counted_as_erased():
    d = diagnose(_run(np.linspace(0.40, 0.70, 10)))
    shift, bug = d.finding("distribution_shift"), d.finding("pipeline_bug")
    assert not _evidence(shift, "distribution_shift.no_signal_left")  # zero weight: not listed
    assert not _evidence(bug, "pipeline_bug.val_at_chance")
    assert d.verdict == "distribution_shift" and "signal_left" not in shift.details
