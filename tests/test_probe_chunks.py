"""Equal, padded chunks: the probes' compiled functions see one shape, and the record does
not depend on the chunk size (a real digits training, recorded with tiny uneven chunks)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

keras = pytest.importorskip("keras")

from scripts.tiny import digits, fit, mlp  # noqa: E402

from gapdoctor import load_run  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402
from gapdoctor.callback.backends import chunk_bounds, padded, to_batches  # noqa: E402
from gapdoctor.callback.probes import dynamics, predictions  # noqa: E402


@pytest.mark.parametrize("n, size", [(1, 4), (4, 4), (5, 4), (872, 1024), (1437, 1024),
                                     (2049, 1024), (10, 3)])
def test_chunk_bounds_cover_every_row_once_in_chunks_of_one_size(n, size):
    bounds = chunk_bounds(n, size)
    rows = bounds[0][1] - bounds[0][0]
    assert rows <= size and len(bounds) == -(-n // size)
    assert [a for a, _ in bounds][1:] == [b for _, b in bounds][:-1]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(b - a == rows for a, b in bounds[:-1]) and 0 < bounds[-1][1] - bounds[-1][0] <= rows


def test_padded_repeats_the_last_row_of_every_input():
    x = {"a": np.arange(10).reshape(5, 2), "b": np.arange(5.0)}
    part = padded(x, 3, 5, 4)
    assert part["a"].tolist() == [[6, 7], [8, 9], [8, 9], [8, 9]]
    assert part["b"].tolist() == [3.0, 4.0, 4.0, 4.0]
    chunks, n = to_batches(np.arange(7.0)[:, None], 3)
    assert n == 7 and [tuple(c.shape) for c in chunks] == [(3, 1)] * 3


def _record(tmp_path, name, data):
    x_tr, x_va, y_tr, y_va = data
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, run_name=name,
                       diagnose=False, report=False, verbose=0)
    fit(mlp(), data, doctor, epochs=2)
    return load_run(doctor.run_dir)


def test_the_record_does_not_depend_on_the_chunk_size(tmp_path, monkeypatch):
    data = digits(n_train=500)
    whole = _record(tmp_path, "whole", data)
    monkeypatch.setattr(predictions, "CHUNK", 97)  # 500 + 360 rows: 9 chunks, last padded
    monkeypatch.setattr(dynamics, "CHUNK", 131)    # 500 rows: 4 chunks, last padded
    cut = _record(tmp_path, "cut", data)
    for key in ("val_proba_last", "probe_proba_last", "margins", "dyn_margin",
                "dyn_proba_mean", "dyn_embedding"):
        assert whole.arrays[key].shape == cut.arrays[key].shape, key
        np.testing.assert_allclose(cut.arrays[key].astype(np.float64),
                                   whole.arrays[key].astype(np.float64),
                                   rtol=1e-3, atol=1e-4, err_msg=key)
    assert (cut.arrays["correct"] == whole.arrays["correct"]).mean() > 0.99
