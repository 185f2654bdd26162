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
