"""Histories kept with ``pickle.dump(history.history, f)`` or ``np.save``: read as plain data,
and never by running code from the file."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gapdoctor import RecordError, diagnose, load_run
from gapdoctor.importers import detect_format, load_runs

GAPDOCTOR = Path(sys.executable).parent / "gapdoctor"
HISTORY = {"loss": [1.2, 0.8, 0.6, 0.5, 0.45], "accuracy": [0.5, 0.65, 0.75, 0.8, 0.82],
           "val_loss": [1.1, 0.9, 0.8, 0.78, 0.8], "val_accuracy": [0.5, 0.6, 0.7, 0.72, 0.71]}


class _Boom:
    """A pickle that would create a file if it were ever unpickled the usual way."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):  # noqa: ANN204
        return (os.mkdir, (str(self.target),))


def test_pickled_and_saved_dicts_read_as_histories(tmp_path: Path) -> None:
    as_numpy = {k: [np.float32(v) for v in vs] for k, vs in HISTORY.items()}
    (tmp_path / "h.pkl").write_bytes(pickle.dumps(as_numpy))
    np.save(tmp_path / "h.npy", HISTORY, allow_pickle=True)
    for name in ("h.pkl", "h.npy"):
        run = load_run(tmp_path / name)
        assert detect_format(tmp_path / name) == "pickle"
        assert run.n_epochs == 5 and run.meta["source"] == "keras_history"
        assert float(run.curves["val_accuracy"].iloc[3]) == pytest.approx(0.72, abs=1e-6)
        assert diagnose(run).findings


def test_runs_keyed_by_name_in_one_pickle(tmp_path: Path) -> None:
    path = tmp_path / "runs.pkl"
    path.write_bytes(pickle.dumps({"small": HISTORY, "large": dict(HISTORY, loss=[1, .5, .3, .2, .1])}))
    assert [r.name for r in load_runs(path)] == ["runs#small", "runs#large"]
    assert load_run(f"{path}#large").curves["loss"].iloc[-1] == pytest.approx(0.1)
    done = subprocess.run([sys.executable, str(GAPDOCTOR), "analyze", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "== runs#small" in done.stdout and "== runs#large" in done.stdout


def test_code_in_a_pickle_is_never_run(tmp_path: Path) -> None:
    target = tmp_path / "created-by-the-pickle"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"loss": [1.0, 0.5], "x": _Boom(target)}))
    with pytest.raises(RecordError, match="a pickle of posix.mkdir|a pickle of os.mkdir"):
        load_run(path)
    assert not target.exists()
    done = subprocess.run([sys.executable, str(GAPDOCTOR), "analyze", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and not target.exists()
    assert done.stderr.count("\n") == 1 and "never runs code from a file" in done.stderr


def test_other_pickles_get_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "trunc.pkl").write_bytes(pickle.dumps(HISTORY)[:40])
    with pytest.raises(RecordError, match="unreadable pickle"):
        load_run(tmp_path / "trunc.pkl")
    np.save(tmp_path / "bare.npy", np.array(HISTORY["loss"]))
    with pytest.raises(RecordError, match="bare numeric array of shape \\(5,\\) has no metric names"):
        load_run(tmp_path / "bare.npy")
    (tmp_path / "h.pkl").write_bytes(pickle.dumps(HISTORY))
    done = subprocess.run([sys.executable, str(GAPDOCTOR), "analyze", str(tmp_path / "h.pkl")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "== h  (keras_history, 5 epochs)" in done.stdout
