"""README claims a user walking through it hits: saved logs read from real Keras trainings,
run through the real ``gapdoctor`` command (subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GAPDOCTOR = Path(sys.executable).parent / "gapdoctor"


def gd(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GAPDOCTOR), *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def _train(epochs: int) -> dict[str, list[float]]:
    """The History of a tiny digits MLP (real Keras training)."""
    import keras
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:1000], y[:1000], validation_data=(x[1000:1500], y[1000:1500]),
                        epochs=epochs, batch_size=32, verbose=0)
    return {k: [float(v) for v in values] for k, values in history.history.items()}


@pytest.fixture(scope="module")
def histories() -> dict[int, dict[str, list[float]]]:
    return {1: _train(1), 6: _train(6)}


def test_one_epoch_history_is_no_label_noise(histories: dict[int, dict[str, list[float]]],
                                             tmp_path: Path) -> None:
    """One epoch's logged training accuracy averages over the untrained start, so it always
    trails validation: that is no sign of wrong labels (it read as label_noise 0.51)."""
    history = histories[1]
    assert history["accuracy"][0] < history["val_accuracy"][0]  # the premise
    path = tmp_path / "history.json"
    path.write_text(json.dumps(history))
    proc = gd("analyze", str(path), "--json", str(tmp_path / "d.json"))
    assert proc.returncode == 0, proc.stderr
    d = json.loads((tmp_path / "d.json").read_text())
    scores = {f["cause"]: f["score"] for f in d["findings"]}
    assert d["verdict"] != "label_noise" and scores.get("label_noise", 0) < 0.5, scores


def test_pandas_json_lines_history(histories: dict[int, dict[str, list[float]]],
                                   tmp_path: Path) -> None:
    """README: "pandas to_json layouts" includes orient='records', lines=True (JSON Lines);
    one cut off mid-line says so in one line, exit 2."""
    import pandas as pd

    history = histories[6]
    path = tmp_path / "log.jsonl"
    pd.DataFrame(history).to_json(path, orient="records", lines=True)
    proc = gd("analyze", str(path), "--json", str(tmp_path / "d.json"))
    assert proc.returncode == 0, proc.stderr
    assert "(keras_history, 6 epochs)" in proc.stdout, proc.stdout
    best = max(history["val_accuracy"])
    assert f"best {best:.4g} at epoch {history['val_accuracy'].index(best)}" in proc.stdout, \
        proc.stdout

    cut = tmp_path / "cut.jsonl"
    text = path.read_text()
    cut.write_text(text[: len(text) - 20])
    proc = gd("analyze", str(cut))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "cut.jsonl" in lines[0] and "line 6 is not valid JSON" in lines[0], lines[0]


def test_pickled_and_keyed_histories_of_a_real_training(
        histories: dict[int, dict[str, list[float]]], tmp_path: Path) -> None:
    """README: ``pickle.dump(history.history, f)``, ``np.save`` and one JSON file of runs keyed
    by name read like the JSON History they hold."""
    import pickle

    import numpy as np

    history = histories[6]
    (tmp_path / "h.pkl").write_bytes(pickle.dumps(history))
    np.save(tmp_path / "h.npy", history, allow_pickle=True)
    (tmp_path / "both.json").write_text(json.dumps({"short": histories[1], "long": history}))
    proc = gd("analyze", str(tmp_path / "h.pkl"), str(tmp_path / "h.npy"),
              str(tmp_path / "both.json"))
    assert proc.returncode == 0, proc.stderr
    best = max(history["val_accuracy"])
    assert proc.stdout.count(f"best {best:.4g} at epoch") == 3, proc.stdout  # pkl, npy, #long
    assert "== both#short  (keras_history, 1 epoch)" in proc.stdout, proc.stdout


def test_tensorboard_half_reads_the_whole_log(tmp_path: Path) -> None:
    """TensorBoard lists a Keras log's train/ and validation/ as two runs; pointing at either
    reads both (it read train/ alone and found "no validation metric")."""
    sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
    from keras_logs import keras_logs

    tb = keras_logs(tmp_path)["tb"]
    whole = gd("analyze", str(tb))
    assert whole.returncode == 0, whole.stderr
    best = next(line for line in whole.stdout.splitlines() if "val_accuracy: best" in line)
    for half in ("train", "validation"):
        proc = gd("analyze", f"tb/{half}", cwd=tb.parent)  # short: the note fits its line
        assert proc.returncode == 0, proc.stderr
        assert best in proc.stdout.splitlines(), proc.stdout
        assert f"note: tb/{half} is one half of a Keras log: read tb" in proc.stdout, \
            proc.stdout
