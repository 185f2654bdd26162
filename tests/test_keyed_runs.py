"""One JSON file holding several runs keyed by name (``json.dump({name: h.history for ...})``,
found in a public repository): ``FILE.json#name`` picks one, ``analyze`` and ``batch`` read
them all, and ``load_run`` on the whole file says how to pick instead of failing obscurely."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from gapdoctor import RecordError, load_run
from gapdoctor.importers import load_runs

GAPDOCTOR = Path(sys.executable).parent / "gapdoctor"


def _keyed(tmp_path: Path) -> Path:
    def history(val_top: float) -> dict:
        return {"loss": [1.0, 0.6, 0.4, 0.3, 0.25], "accuracy": [0.6, 0.75, 0.85, 0.9, 0.92],
                "val_loss": [1.0, 0.7, 0.55, 0.5, 0.48],
                "val_accuracy": [0.55, 0.7, 0.78, val_top, val_top], "learning_rate": [1e-3] * 5}
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"vgg16": history(0.8), "resnet50": {**history(0.85),
                                                                     "test_accuracy": 0.84}}))
    return path


def test_one_run_is_picked_by_name(tmp_path: Path) -> None:
    path = _keyed(tmp_path)
    run = load_run(f"{path}#resnet50")
    assert run.name == "models#resnet50" and run.n_epochs == 5
    assert float(run.curves["val_accuracy"].iloc[-1]) == pytest.approx(0.85)
    with pytest.raises(RecordError, match=r"holds 2 runs keyed by name \(vgg16, resnet50\); "
                                          r"name one as models.json#vgg16"):
        load_run(path)
    with pytest.raises(RecordError, match="no run named 'nope'"):
        load_run(f"{path}#nope")
    assert [r.name for r in load_runs(path)] == ["models#vgg16", "models#resnet50"]


def test_a_keras_history_object_is_still_one_run(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"history": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]},
                                "params": {"epochs": 2, "verbose": 1}}))
    assert [r.n_epochs for r in load_runs(path)] == [2]


def test_analyze_and_batch_read_every_run(tmp_path: Path) -> None:
    path = _keyed(tmp_path)
    done = subprocess.run([sys.executable, str(GAPDOCTOR), "analyze", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "== models#vgg16" in done.stdout and "== models#resnet50" in done.stdout
    assert f"{path}#vgg16\n" in done.stdout
    done = subprocess.run([sys.executable, str(GAPDOCTOR), "analyze", f"{path}#resnet50"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.count("== models#resnet50") == 1, done.stderr
    assert f"{path}#resnet50\n" in done.stdout and "#resnet50#resnet50" not in done.stdout
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(GAPDOCTOR), "batch", str(path), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "summary.csv")
    assert sorted(table["path"].str.rsplit("#", n=1).str[1]) == ["resnet50", "vgg16"]
    assert table["error"].isna().all()
    assert (out / "models-vgg16.pdf").is_file() and (out / "models-resnet50.pdf").is_file()
