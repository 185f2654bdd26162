"""Training rows stored class by class and fed with ``fit(shuffle=False)`` make batches of one
class. The record keeps the labels in stored order and fit's ``shuffle``; the same sorted rows
shuffled by fit carry no such evidence."""

from __future__ import annotations

import numpy as np
import pytest
from scripts.tiny import digits, fit, mlp

from gapdoctor import GapDoctor
from gapdoctor.analysis.batch_mix import batch_mix

QUIET = {"report": False, "verbose": 0, "background": False}


@pytest.mark.parametrize("shuffle", [False, True])
def test_sorted_rows_fed_unshuffled(tmp_path, shuffle):
    x_tr, x_va, y_tr, y_va = digits()
    order = np.argsort(y_tr, kind="stable")
    x_tr, y_tr = x_tr[order], y_tr[order]
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, **QUIET)
    fit(mlp(), (x_tr, x_va, y_tr, y_va), doctor, epochs=4, shuffle=shuffle)
    finding = doctor.diagnosis.finding("optimization")
    unmixed = [e for e in finding.evidence if e.key == "optimization.unmixed"]
    if shuffle:
        assert not unmixed
    else:
        assert unmixed and unmixed[0].rule["measured"] > 0.5  # 10 classes of ~144 rows, batches of 64
        assert "unmixed" in finding.details["fix_tags"]
        assert finding.fixes[0].title == "Shuffle the training rows"
        assert "shuffle=False" in finding.summary


def test_random_order_gives_mixed_batches():
    labels = np.random.default_rng(0).integers(0, 2, 4096)
    mix = batch_mix(labels, 32)
    assert mix.single_class == 0 and mix.expected < 1e-8
    assert batch_mix(np.sort(labels), 32).single_class > 0.9


def _record(fit_args, labels, ids=None):
    from gapdoctor.record.schema import RunRecord
    run = RunRecord.empty()
    run.meta["fit"] = fit_args
    run.arrays["dyn_labels"] = np.asarray(labels)
    run.arrays["dyn_ids"] = np.arange(len(labels)) if ids is None else np.asarray(ids)
    return run


@pytest.mark.parametrize("fit_args, labels, ids", [
    ({"shuffle": True, "batch_size": 32}, np.repeat([0, 1], 200), None),   # fit shuffled
    ({}, np.repeat([0, 1], 200), None),                                     # fit not read
    ({"shuffle": False, "batch_size": 1}, np.repeat([0, 1], 200), None),   # no batches to mix
    ({"shuffle": False}, np.r_[np.zeros(200), np.nan, np.ones(199)], None),  # not class ids
    ({"shuffle": False}, np.repeat([0.5, 1.5], 200), None),
    ({"shuffle": False}, np.repeat([0, 1], 200), np.arange(399)),          # lengths differ
    ({"shuffle": False}, np.repeat([0, 1], 200), np.arange(400)[::-1]),    # another order
])
def test_malformed_records_give_no_batch_mix(fit_args, labels, ids):
    from gapdoctor.analysis.batch_mix import unshuffled_batches
    assert unshuffled_batches(_record(fit_args, labels, ids)) is None


def test_an_unreadable_batch_size_falls_back_to_fit_s_default():
    from gapdoctor.analysis.batch_mix import unshuffled_batches
    mix = unshuffled_batches(_record({"shuffle": False, "batch_size": "64"}, np.repeat([0, 1], 200)))
    assert mix.batch_size == 32 and mix.single_class > 0.8
