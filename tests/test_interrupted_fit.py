"""Ctrl-C during fit skips on_train_end, so GapDoctor prints no summary: at interpreter exit
it says where the readable record is and how to read it (a real training, stopped by a
KeyboardInterrupt raised from a callback, in a subprocess)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("keras")

SCRIPT = textwrap.dedent("""
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import numpy as np, keras
    from gapdoctor.callback import GapDoctor

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    doctor = GapDoctor(validation_data=(x[150:], y[150:]), output_dir=sys.argv[1], verbose={verbose},
                       report=False)
    model.fit(x[:150], y[:150], validation_data=(x[150:], y[150:]), epochs=10, verbose=0,
              callbacks=[doctor, CtrlC()])
""")


def _run(tmp_path: Path, verbose: int) -> subprocess.CompletedProcess:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.replace("{verbose}", str(verbose)))
    return subprocess.run([sys.executable, str(script), str(tmp_path / "runs")], capture_output=True,
                          text=True, timeout=300)


def test_an_interrupted_fit_says_where_its_record_is(tmp_path: Path) -> None:
    from gapdoctor import load_run

    proc = _run(tmp_path, verbose=1)
    assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr
    line = next(x for x in proc.stderr.splitlines() if x.startswith("GapDoctor: training stopped"))
    assert "after 2 epochs without finishing" in line and "gapdoctor analyze" in line
    run_dir = line.rsplit("gapdoctor analyze ", 1)[1].strip("'")
    run = load_run(run_dir)
    assert run.meta["completed"] is False and run.n_epochs == 2


def test_a_quiet_or_unwritten_run_says_nothing() -> None:
    from gapdoctor.callback.interrupted import stopped_message

    class Run:
        verbose, run_dir, epochs_completed = 0, "runs/r1", 3

    assert stopped_message(Run()) is None
    Run.verbose, Run.run_dir = 1, None
    assert stopped_message(Run()) is None
