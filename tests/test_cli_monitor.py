"""``gapdoctor analyze/batch --monitor NAME``: the logged validation value a saved run is
judged by, on logs written by real Keras trainings; a name the run does not log is one line
on stderr and exit 2 (analyze) or an error row (batch)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from keras_logs import keras_logs  # noqa: E402

GAPDOCTOR = Path(sys.executable).parent / "gapdoctor"


def gd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GAPDOCTOR), *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return keras_logs(tmp_path_factory.mktemp("keras_logs"))


@pytest.fixture(scope="module")
def two_heads_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The History JSON of a real two-head fit (digit classifier + ink regression)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from scripts.tiny import digits, two_head_labels, two_heads

    x_tr, x_va, y_tr, y_va = digits(n_train=600)
    model = two_heads("dict")
    history = model.fit(x_tr, two_head_labels("dict", x_tr, y_tr), epochs=4, batch_size=64,
                        validation_data=(x_va, two_head_labels("dict", x_va, y_va)), verbose=0)
    path = tmp_path_factory.mktemp("two_heads") / "history.json"
    path.write_text(json.dumps({k: [float(v) for v in vs] for k, vs in history.history.items()}))
    return path


def test_a_model_with_two_outputs_is_judged_by_the_named_one(two_heads_history: Path) -> None:
    default = gd("analyze", str(two_heads_history))
    assert default.returncode == 0, default.stderr
    assert "   val_loss: best" in default.stdout  # the total over both heads
    chosen = gd("analyze", str(two_heads_history), "--monitor", "digit_accuracy")
    assert chosen.returncode == 0, chosen.stderr
    assert "   val_digit_accuracy: best" in chosen.stdout


def test_an_unlogged_monitor_is_one_line_and_exit_2(logs: dict[str, Path]) -> None:
    proc = gd("analyze", str(logs["csv"]), "--monitor", "val_auc")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "--monitor val_auc is not logged by this run" in lines[0]
    assert "val_accuracy" in lines[0] and "val_loss" in lines[0]  # what it does log


def test_batch_follows_the_monitor_and_reports_runs_without_it(logs: dict[str, Path],
                                                                tmp_path: Path) -> None:
    proc = gd("batch", str(logs["json"]), str(logs["csv"]), "--out", str(tmp_path / "a"),
              "--no-pdf", "--jobs", "1", "--monitor", "loss")
    assert proc.returncode == 0, proc.stderr
    summary = pd.read_csv(tmp_path / "a" / "summary.csv")
    assert list(summary["monitor"]) == ["val_loss", "val_loss"]
    assert summary["error"].isna().all()

    proc = gd("batch", str(logs["json"]), "--out", str(tmp_path / "b"), "--no-pdf",
              "--jobs", "1", "--monitor", "val_auc")
    assert proc.returncode == 2
    row = pd.read_csv(tmp_path / "b" / "summary.csv").iloc[0]
    assert "--monitor val_auc is not logged by this run" in row["error"]
