"""Importers on the shapes real training logs take (issue 7, section 2; issue 10, item 3).

The Keras files come from real fits (``fixtures/keras_logs.py``); the other shapes are
written the way their tools write them (pandas ``to_json``, ``gzip``, ``json.dump(...,
default=str)`` of float32 values, a Hugging Face ``trainer_state.json``).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gapdoctor import RecordError, diagnose, load_run
from gapdoctor.importers import load_runs
from gapdoctor.record import RunRecord, save_record

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from keras_logs import keras_appended_csv, keras_logs  # noqa: E402


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return keras_logs(tmp_path_factory.mktemp("keras_logs"))


@pytest.fixture(scope="module")
def history(logs: dict[str, Path]) -> dict[str, list[float]]:
    return json.loads(logs["json"].read_text())


def _notes(path: Path) -> str:
    return " | ".join(load_run(path).meta["notes"])


def _same_curves(path: Path, history: dict[str, list[float]]) -> None:
    run = load_run(path)
    assert list(run.curves.index) == list(range(len(history["loss"])))
    for key, values in history.items():
        np.testing.assert_allclose(run.curves[key].to_numpy(), values, rtol=1e-6)
    diagnose(run)


def test_csvlogger_appended_by_two_fits_is_split(tmp_path: Path) -> None:
    path = keras_appended_csv(tmp_path)
    rows = pd.read_csv(path)
    assert list(rows["epoch"]) == [0, 1, 2, 0, 1]  # what Keras really wrote
    run = load_run(path)
    assert list(run.curves.index) == [0, 1]
    np.testing.assert_allclose(run.curves["val_loss"], rows["val_loss"][3:], rtol=1e-6)
    assert "holds 2 fits" in run.meta["notes"][0] and "analysed the last" in run.meta["notes"][0]
    fits = load_runs(path)
    assert [f.name for f in fits] == ["appended#fit1", "appended#fit2"]
    assert [f.n_epochs for f in fits] == [3, 2]
    np.testing.assert_allclose(fits[0].curves["loss"], rows["loss"][:3], rtol=1e-6)
    one = load_run(f"{path}#fit1")
    pd.testing.assert_frame_equal(one.curves, fits[0].curves)
    with pytest.raises(RecordError, match="has 2 fit"):
        load_run(f"{path}#fit3")


def test_resumed_fit_continues_its_epochs(tmp_path: Path) -> None:
    path = tmp_path / "resumed.csv"
    path.write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,1.0\n2,0.7,1.0\n"
                    "2,0.65,0.95\n3,0.6,0.9\n")  # fit(initial_epoch=2) after a crash
    run = load_run(path)
    assert list(run.curves.index) == [0, 1, 2, 3] and run.curves["loss"][2] == 0.65
    assert "resumed" in " ".join(run.meta["notes"])


def test_title_line_and_capitalised_headers(logs: dict[str, Path], history: dict,
                                            tmp_path: Path) -> None:
    text = logs["csv"].read_text()
    titled = tmp_path / "titled.csv"
    titled.write_text("model_history_log\n" + text)
    _same_curves(titled, history)
    assert "model_history_log" in _notes(titled)
    header, rest = text.split("\n", 1)
    capital = tmp_path / "capital.csv"
    capital.write_text(",".join(h.title() for h in header.split(",")) + "\n" + rest)
    assert capital.read_text().startswith("Epoch,Accuracy,Loss,Val_Accuracy,Val_Loss")
    _same_curves(capital, history)
    assert "Val_Loss->val_loss" in _notes(capital)


def test_numbers_saved_as_strings(history: dict, tmp_path: Path) -> None:
    as_f32 = {k: [np.float32(v) for v in vals] for k, vals in history.items()}
    plain = tmp_path / "default_str.json"
    plain.write_text(json.dumps(as_f32, default=str))  # the usual float32 workaround
    assert '"0.' in plain.read_text()
    reprs = tmp_path / "reprs.json"
    reprs.write_text(json.dumps({k: [repr(v) for v in vals] for k, vals in as_f32.items()}))
    assert "np.float32(" in reprs.read_text()
    torch = tmp_path / "torch.json"
    torch.write_text(json.dumps({k: [f"tensor({v:.6f}, device='cuda:0')" for v in vals]
                                 for k, vals in history.items()}))
    for path in (plain, reprs, torch):
        run = load_run(path)
        for key, values in history.items():
            np.testing.assert_allclose(run.curves[key], values, rtol=1e-5)
        assert "read as numbers" in " ".join(run.meta["notes"])


def test_metadata_key_ignored_and_noted(history: dict, tmp_path: Path) -> None:
    path = tmp_path / "stamped.json"
    path.write_text(json.dumps({**history, "timestamp": "2024-05-01T12:00:00",
                                "model": {"name": "mlp"}}))
    _same_curves(path, history)
    notes = _notes(path)
    assert "ignored 2 key(s)" in notes and "'timestamp'" in notes


def test_pytorch_style_keys_mapped(tmp_path: Path) -> None:
    log = {"epoch": [0, 1, 2, 3], "train_loss": [1.0, 0.7, 0.5, 0.4],
           "train_acc": [0.5, 0.7, 0.8, 0.9], "valid_loss": [1.1, 0.9, 0.9, 1.0],
           "val_acc": [0.45, 0.6, 0.62, 0.6]}
    path = tmp_path / "torch_log.json"
    path.write_text(json.dumps(log))
    run = load_run(path)
    assert list(run.curves.columns) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert run.meta["monitor"] == "val_accuracy" and list(run.curves.index) == [0, 1, 2, 3]
    assert "train_loss->loss" in " ".join(run.meta["notes"])


def test_hugging_face_trainer_state(tmp_path: Path) -> None:
    log = []
    for epoch in (1, 2, 3):
        for half in (0.5, 1.0):
            log.append({"loss": 2.0 / (epoch + half), "grad_norm": 1.5, "epoch": epoch - 1 + half,
                        "learning_rate": 5e-5 * (4 - epoch) / 3, "step": int(10 * (epoch - 1 + half))})
        log.append({"eval_loss": 0.9 + 0.05 * epoch, "eval_accuracy": 0.6 + 0.01 * epoch,
                    "eval_runtime": 1.2, "eval_samples_per_second": 80.0, "epoch": float(epoch),
                    "step": 10 * epoch})
    log.append({"train_runtime": 30.0, "train_loss": 0.8, "epoch": 3.0, "step": 30})
    state = {"best_metric": None, "epoch": 3.0, "global_step": 30, "log_history": log,
             "max_steps": 30, "num_train_epochs": 3, "trial_name": None}
    path = tmp_path / "checkpoint-30" / "trainer_state.json"
    path.parent.mkdir()
    path.write_text(json.dumps(state, indent=2))
    run = load_run(path)
    assert run.meta["source"] == "hf_trainer" and run.name == "checkpoint-30"
    assert list(run.curves.index) == [0, 1, 2] and run.meta["epochs_planned"] == 3
    np.testing.assert_allclose(run.curves["loss"], [np.mean([2 / 1.5, 2 / 2]),
                                                    np.mean([2 / 2.5, 2 / 3]),
                                                    np.mean([2 / 3.5, 2 / 4])])
    np.testing.assert_allclose(run.curves["val_loss"], [0.95, 1.0, 1.05])
    assert run.meta["monitor"] == "val_accuracy" and "val_runtime" not in run.curves
    diagnose(run)


@pytest.mark.parametrize("orient", ["split", "index", "table", "columns", "records"])
def test_pandas_orients(history: dict, tmp_path: Path, orient: str) -> None:
    path = tmp_path / f"{orient}.json"
    pd.DataFrame(history).to_json(path, orient=orient)
    _same_curves(path, history)


def test_pandas_values_orient_refused(history: dict, tmp_path: Path) -> None:
    path = tmp_path / "values.json"
    pd.DataFrame(history).to_json(path, orient="values")
    with pytest.raises(RecordError, match="orient='values'"):
        load_run(path)


def test_gzipped_logs(logs: dict[str, Path], history: dict, tmp_path: Path) -> None:
    for key, name in (("csv", "training.csv.gz"), ("json", "history.json.gz")):
        path = tmp_path / name
        path.write_bytes(gzip.compress(logs[key].read_bytes()))
        _same_curves(path, history)
        assert load_run(path).name == name.split(".")[0]
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(gzip.compress(logs["json"].read_bytes())[:20])
    with pytest.raises(RecordError, match="corrupt gzip"):
        load_run(broken)


@pytest.mark.parametrize("name, content, fragment", [
    ("random.txt", "It was a bright cold day in April, and the clocks were striking "
                   "thirteen.\nWinston Smith, his chin nuzzled into his breast, slipped "
                   "quickly through the glass doors.\n", "not a training log"),
    ("note.txt", "remember to rerun this\n", "not a training log"),
    ("null", "null", "JSON null, not a training log"),
    ("number.json", "42", "JSON number, not a training log"),
])
def test_text_that_is_no_log(tmp_path: Path, name: str, content: str, fragment: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(RecordError, match=fragment) as info:
        load_run(path)
    assert "header but no rows" not in str(info.value)


def test_integers_beyond_float_range(tmp_path: Path) -> None:
    huge = "9" * 320
    path = tmp_path / "huge.json"
    path.write_text('{"loss": [1.0, ' + huge + ', 0.5], "val_loss": [1.1, 1.0, 0.9]}')
    run = load_run(path)
    assert np.isinf(run.curves["loss"][1]) and "infinite values" in " ".join(run.meta["notes"])
    diagnose(run)
    csv = tmp_path / "huge.csv"
    csv.write_text(f"epoch,loss,val_loss\n0,1.0,1.1\n1,-{huge},1.0\n")
    assert np.isneginf(load_run(csv).curves["loss"][1])
    bad_epoch = tmp_path / "huge_epoch.csv"
    bad_epoch.write_text(f"epoch,loss\n{huge},1.0\n")
    with pytest.raises(RecordError, match="not epoch numbers"):
        load_run(bad_epoch)


def test_key_with_newline_gives_one_line(tmp_path: Path) -> None:
    path = tmp_path / "nl.json"
    path.write_text(json.dumps({"loss": [1.0, 0.5], "bad\x00key\r": [1.0, "x"]}))
    with pytest.raises(RecordError) as info:
        load_run(path)
    assert "\n" not in str(info.value) and "\r" not in str(info.value)
    assert "\\x00" in str(info.value)


def _saved(root: Path, name: str, val: float) -> Path:
    run = RunRecord.empty(run_name=name)
    run.curves = pd.DataFrame({"loss": [1.0, 0.5], "val_loss": [1.1, val]})
    save_record(run, root / name)
    return root / name


def test_output_dir_of_runs(tmp_path: Path) -> None:
    out = tmp_path / "gapdoctor-runs"
    _saved(out, "run-a", 0.9)
    assert load_run(out).name == "run-a" and not load_run(out).meta["notes"]
    newest = _saved(out, "run-b", 0.8)
    (newest / "record.json").touch()
    run = load_run(out)
    assert run.name == "run-b" and run.curves["val_loss"][1] == 0.8
    assert "holds 2 runs; analysed the newest, run-b" in run.meta["notes"][0]
