"""Importers on real Keras callback output and on malformed inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gapdoctor import RecordError, load_run
from gapdoctor.importers import detect_format
from gapdoctor.record import RunRecord, save_record

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from keras_logs import keras_logs  # noqa: E402


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return keras_logs(tmp_path_factory.mktemp("keras_logs"))


def _assert_error(path: Path, *fragments: str) -> str:
    with pytest.raises(RecordError) as info:
        load_run(path)
    message = str(info.value)
    assert path.name in message and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


# -- real files ---------------------------------------------------------------------------

@pytest.mark.parametrize("key, source", [("json", "keras_history"), ("csv", "csv_logger"),
                                         ("tb", "tensorboard")])
def test_real_logs_read_alike(logs: dict[str, Path], key: str, source: str) -> None:
    history = json.loads(logs["json"].read_text())
    run = load_run(logs[key])
    assert run.meta["source"] == source
    assert run.meta["run_name"] == logs[key].stem
    assert run.meta["monitor"] == "val_accuracy" and run.meta["monitor_mode"] == "max"
    assert run.curves.index.name == "epoch" and list(run.curves.index) == [0, 1, 2, 3]
    for column, values in history.items():
        np.testing.assert_allclose(run.curves[column].to_numpy(), values, rtol=1e-6)


@pytest.mark.parametrize("key", ["json_freq2", "csv_freq2", "tb_freq2"])
def test_validation_freq_aligned(logs: dict[str, Path], key: str) -> None:
    run = load_run(logs[key])
    assert list(run.curves.index) == [0, 1, 2, 3, 4]
    val = run.curves["val_loss"].to_numpy()
    assert np.isnan(val[[0, 2, 4]]).all() and np.isfinite(val[[1, 3]]).all()
    assert np.isfinite(run.curves["loss"]).all()
    reference = load_run(logs["csv_freq2"]).curves
    np.testing.assert_allclose(val, reference["val_loss"].to_numpy(), rtol=1e-6)
    if key == "json_freq2":
        assert any("validation_freq=2" in note for note in run.meta["notes"])


def test_tensorboard_extras(logs: dict[str, Path]) -> None:
    run = load_run(logs["tb"])
    assert "lr" in run.curves and np.allclose(run.curves["lr"], 0.001)
    assert run.meta["task"] == "multiclass"
    assert run.meta["loss"]["name"] == "sparse_categorical_crossentropy"
    assert run.meta["model"]["output_activation"] == "softmax"
    one_file = next((logs["tb"] / "validation").glob("*tfevents*"))
    assert detect_format(one_file) == "tensorboard"
    assert list(load_run(one_file).curves.columns) == ["val_loss", "val_accuracy"]


def test_tensorboard_reader_never_imports_tensorflow(logs: dict[str, Path]) -> None:
    code = ("import sys; from gapdoctor import load_run; "
            f"run = load_run({str(logs['tb'])!r}); assert run.n_epochs == 4; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_tensorboard_parent_of_one_run_and_of_several(logs: dict[str, Path],
                                                      tmp_path: Path) -> None:
    parent = logs["tb"].parent
    assert load_run(parent / "tb").n_epochs == 4
    sweep = tmp_path / "sweep"
    for name in ("a", "b"):
        (sweep / name / "train").mkdir(parents=True)
        src = next((logs["tb"] / "train").glob("*tfevents*"))
        (sweep / name / "train" / src.name).write_bytes(src.read_bytes())
    _assert_error(sweep, "several runs")
    assert load_run(sweep / "a").meta["run_name"] == "a"


def test_record_dir_and_renamed_manifest(tmp_path: Path) -> None:
    run = RunRecord.empty(run_name="r1")
    run.curves = pd.DataFrame({"loss": [1.0, 0.5], "val_loss": [1.1, 0.9]})
    manifest = save_record(run, tmp_path / "r1")
    assert load_run(tmp_path / "r1").meta["run_name"] == "r1"
    assert load_run(manifest).n_epochs == 2


# -- History JSON variants ------------------------------------------------------------------

def test_history_wrappers(tmp_path: Path) -> None:
    hist = {"loss": [1.0, 0.8, 0.6], "val_loss": [1.1, 1.0, 1.05]}
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"history": hist, "epoch": [0, 1, 2],
                                   "params": {"epochs": 10, "steps": 5}}))
    run = load_run(wrapped)
    assert run.meta["epochs_planned"] == 10 and run.meta["monitor"] == "val_loss"
    frame = tmp_path / "frame.json"
    frame.write_text(pd.DataFrame(hist).to_json())
    records = tmp_path / "records.json"
    records.write_text(pd.DataFrame(hist).to_json(orient="records"))
    for path in (frame, records):
        pd.testing.assert_frame_equal(load_run(path).curves, run.curves)


def test_several_outputs_are_watched_by_the_total_loss(tmp_path: Path) -> None:
    """One output at its ceiling says nothing of the others: no saturation story."""
    from gapdoctor import diagnose

    rng = np.random.default_rng(0)
    epochs = 30
    hist = {"loss": list(np.linspace(3.0, 1.0, epochs)), "val_loss": list(np.linspace(3.1, 1.6, epochs))}
    for k, (start, end) in enumerate([(0.9, 1.0), (0.4, 0.6)], start=1):
        acc = np.minimum(np.linspace(start, end + 0.05, epochs), end)
        hist[f"output_{k}_acc"] = list(acc)
        hist[f"val_output_{k}_acc"] = list(np.minimum(acc - rng.uniform(0, 0.02, epochs) * (end < 1), 1.0))
        hist[f"output_{k}_loss"] = list(np.linspace(1.5, 0.5, epochs))
        hist[f"val_output_{k}_loss"] = list(np.linspace(1.6, 0.8, epochs))
    path = tmp_path / "two_outputs.json"
    path.write_text(json.dumps(hist))
    run = load_run(path)
    assert run.monitor == "val_loss"
    # with output 1's accuracy as the monitor this read as saturated (1.0 for 25 epochs)
    assert diagnose(run).verdict != "metric_saturation"


def test_unaligned_val_lists_and_nan_kept(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text('{"loss": [1, 0.9, NaN, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1], '
                    '"val_loss": [1.0, 0.9, 0.95, 1.0]}')
    run = load_run(path)
    assert np.isnan(run.curves["loss"][2]) and run.curves["loss"].notna().sum() == 9
    assert run.curves["val_loss"].isna().sum() == 6 and run.curves["val_loss"][9] == 1.0
    assert any("fits no validation_freq" in note for note in run.meta["notes"])


def test_history_array_values_expanded(tmp_path: Path) -> None:
    path = tmp_path / "arr.json"
    path.write_text(json.dumps({"loss": [1.0, 0.5], "val_f1_score": [[0.1, 0.2], [0.3, 0.4]]}))
    run = load_run(path)
    assert run.curves["val_f1_score_1"].tolist() == [0.2, 0.4]


# -- CSVLogger variants ---------------------------------------------------------------------

def test_csv_array_cells(tmp_path: Path) -> None:
    path = tmp_path / "arrays.csv"
    path.write_text('epoch,f1_score,loss,val_f1_score,val_loss,weird\n'
                    '0,"[0.1 0.2\n 0.3]",1.0,NA,NA,"[1 2]"\n'
                    '1,"[0.4 0.5 0.6]",0.8,"[0.2, 0.3, 0.35]",0.9,"[1 2 3]"\n')
    run = load_run(path)
    assert run.curves["f1_score_2"].tolist() == [0.3, 0.6]
    assert np.isnan(run.curves["val_f1_score_0"][0]) and run.curves["val_f1_score_2"][1] == 0.35
    assert not any(c.startswith("weird") for c in run.curves.columns)
    notes = " ".join(run.meta["notes"])
    assert "expanded" in notes and "'weird'" in notes and "dropped" in notes


def test_csv_without_epoch_and_with_text_column(tmp_path: Path) -> None:
    path = tmp_path / "noepoch.csv"
    path.write_text("loss;val_loss;comment\n1.0;1.2;hello\n0.5;1.1;world\n")
    run = load_run(path)
    assert list(run.curves.columns) == ["loss", "val_loss"] and run.n_epochs == 2
    assert any("comment" in note for note in run.meta["notes"])


# -- malformed inputs -----------------------------------------------------------------------

@pytest.mark.parametrize("name, content, fragment", [
    ("truncated.json", '{"loss": [1.0, 0.9], "val_loss": [1.', "truncated JSON"),
    ("broken.json", '{"loss": [1.0, 0.9]] }', "invalid JSON"),
    ("garbage.json", "{not json", "invalid JSON"),          # an open bracket, not cut off
    ("cut_key.json", '{"loss": [1.0], "val_lo', "truncated JSON"),
    ("strings.json", '{"loss": [1.0, "low"]}', "'loss'[1] is a str"),
    ("scalar.json", '{"loss": 0.5}', "'loss' is a float"),
    ("toplist.json", "[1, 2, 3]", "not a list of per-epoch objects"),
    ("emptyobj.json", "{}", "no metric lists"),
    ("emptylists.json", '{"loss": [], "val_loss": []}', "every list is empty"),
    ("allnan.json", '{"loss": [NaN, NaN], "val_loss": [null, NaN]}', "every value is NaN"),
    ("empty.json", "", "empty file"),
    ("empty.csv", "  \n", "empty file"),
    ("header.csv", "epoch,loss,val_loss\n", "no rows"),
    ("text.csv", "name,comment\nfoo,bar\n", "no numeric columns"),
    ("badepoch.csv", "epoch,loss\nfirst,1.0\n", "'epoch' column"),
    ("ragged.csv", "epoch,loss\n0,1.0,5,6\n1,0.9\n", "malformed CSV"),
    ("allnan.csv", "epoch,loss,val_loss\n0,NA,nan\n1,,NA\n", "every value is NaN"),
])
def test_malformed_text_files(tmp_path: Path, name: str, content: str, fragment: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    _assert_error(path, fragment)


def test_binary_and_undecodable_files(tmp_path: Path) -> None:
    binary = tmp_path / "weights.h5"
    binary.write_bytes(b"\x89HDF\r\n\x1a\n\x00\x00" + bytes(range(256)) * 4)
    _assert_error(binary, "binary file")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"epoch,loss\n0,1.0\n" + b"\xff\xfe caf\xe9 " * 10)
    _assert_error(latin, "not UTF-8")


def test_directories_without_runs(tmp_path: Path) -> None:
    empty = tmp_path / "emptydir"
    empty.mkdir()
    _assert_error(empty, "neither a gapdoctor record.json nor TensorBoard event files")
    _assert_error(tmp_path / "missing.json", "no such file")


def test_corrupt_and_empty_event_files(tmp_path: Path, logs: dict[str, Path]) -> None:
    corrupt = tmp_path / "corrupt" / "train"
    corrupt.mkdir(parents=True)
    bad = corrupt / "events.out.tfevents.1.host.1.0.v2"
    bad.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00" + b"\xff" * 4 + b"\xff\xff\xff\xff\xff"
                    + b"\x00" * 4)
    with pytest.raises(RecordError, match="corrupt event file"):
        load_run(tmp_path / "corrupt")
    blank = tmp_path / "blank" / "train"
    blank.mkdir(parents=True)
    (blank / "events.out.tfevents.1.host.1.0.v2").write_bytes(b"")
    _assert_error(tmp_path / "blank", "no per-epoch scalars")
    torn = tmp_path / "torn" / "train"
    torn.mkdir(parents=True)
    src = next((logs["tb"] / "train").glob("*tfevents*")).read_bytes()
    (torn / "events.out.tfevents.1.host.1.0.v2").write_bytes(src[:-7])
    run = load_run(tmp_path / "torn")
    assert run.n_epochs >= 3 and any("partial record" in n for n in run.meta["notes"])


def test_diagnosis_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "diagnosis.json"
    path.write_text(json.dumps({"schema": "gapdoctor.diagnosis/1", "findings": []}))
    _assert_error(path, "a gapdoctor diagnosis, not a run")


def _write_events(path: Path, scalars: list[tuple[str, int, float]]) -> None:
    """An event file written with TensorBoard's own record writer (TF2-style tensors)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter
    from tensorboard.util import tensor_util

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        writer = RecordWriter(handle)
        writer.write(event_pb2.Event(wall_time=1.0, file_version="brain.Event:2")
                     .SerializeToString())
        for i, (tag, step, value) in enumerate(scalars):
            tensor = tensor_util.make_tensor_proto(np.float32(value))
            summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag,
                                                                           tensor=tensor)])
            writer.write(event_pb2.Event(wall_time=2.0 + i, step=step, summary=summary)
                         .SerializeToString())


def test_tensorboard_keeps_every_point(tmp_path: Path) -> None:
    n = 300
    _write_events(tmp_path / "long" / "train" / "events.out.tfevents.100.h.1.0.v2",
                  [("epoch_loss", i, 1.0 / (i + 1)) for i in range(n)]
                  + [("batch_loss", i * 10, 0.5) for i in range(50)])
    _write_events(tmp_path / "long" / "validation" / "events.out.tfevents.100.h.1.1.v2",
                  [("epoch_loss", i, 2.0) for i in range(2, n, 3)])
    # the same log dir reused by a second fit: epoch 0 written again, later file wins
    _write_events(tmp_path / "long" / "train" / "events.out.tfevents.200.h.1.0.v2",
                  [("epoch_loss", 0, 9.0)])
    run = load_run(tmp_path / "long")
    assert run.n_epochs == n and run.curves["loss"].notna().sum() == n
    assert run.curves["loss"][0] == 9.0
    np.testing.assert_allclose(run.curves["loss"][1:], [1.0 / (i + 1) for i in range(1, n)],
                               rtol=1e-6)
    assert run.curves["val_loss"].notna().sum() == 100 and run.curves["val_loss"][2] == 2.0
    notes = " ".join(run.meta["notes"])
    assert "batch-level" in notes and "more than once" in notes


# -- corrupt event files (issue 10, item 4) ---------------------------------------------------

def _write_tensors(path: Path, tensors: list[tuple[str, int, object]]) -> None:
    """An event file of raw TensorProtos (any dtype/shape), framed with correct CRCs."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        writer = RecordWriter(handle)
        for tag, step, tensor in tensors:
            value = summary_pb2.Summary.Value(tag=tag, tensor=tensor)
            writer.write(event_pb2.Event(step=step, summary=summary_pb2.Summary(value=[value]))
                         .SerializeToString())


def test_event_checksums_are_checked(tmp_path: Path) -> None:
    from gapdoctor.importers.tfrecord import read_records

    event = tmp_path / "ok" / "train" / "events.out.tfevents.1.h.1.0.v2"
    _write_events(event, [("epoch_loss", i, 1.0 / (i + 1)) for i in range(4)])
    data = event.read_bytes()
    records = read_records(event, [])
    assert all(r.data_ok() for r in records) and len(records) == 5
    second = records[2]  # epoch 1; flip the last byte of its payload (the float's top byte)
    at = second.offset + 12 + len(second.data) - 1
    flipped = tmp_path / "flip" / "train" / event.name
    flipped.parent.mkdir(parents=True)
    flipped.write_bytes(data[:at] + bytes([data[at] ^ 0x40]) + data[at + 1:])
    run = load_run(tmp_path / "flip")
    assert np.isnan(run.curves["loss"][1]) and run.curves["loss"].notna().sum() == 3
    assert any("failed their checksum" in n for n in run.meta["notes"])
    length = tmp_path / "length" / "train" / event.name
    length.parent.mkdir(parents=True)
    at = second.offset + 1  # a bit of the record's length field
    length.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:])
    _assert_error(tmp_path / "length", "corrupt event file", "length fails the checksum")


@pytest.mark.parametrize("kind", ["invalid_dtype", "shape_mismatch", "string_dtype"])
def test_event_tensors_of_wrong_dtype_or_shape(tmp_path: Path, kind: str) -> None:
    from tensorboard.compat.proto import tensor_pb2, tensor_shape_pb2
    from tensorboard.util import tensor_util

    good = tensor_util.make_tensor_proto(np.float32(0.5))
    bad = tensor_pb2.TensorProto(dtype=1, tensor_shape=tensor_shape_pb2.TensorShapeProto())
    if kind == "invalid_dtype":
        bad.dtype = 0  # DT_INVALID: "Cannot convert value 0 to a TensorFlow DType"
        bad.float_val.append(0.4)
    elif kind == "shape_mismatch":
        bad.float_val.extend([0.4, 0.3])  # "cannot reshape array of size 2 into shape ()"
    else:
        bad.dtype = 7  # DT_STRING where a number belongs
        bad.string_val.append(b"0.4")
    _write_tensors(tmp_path / "tb" / "train" / "events.out.tfevents.1.h.1.0.v2",
                   [("epoch_loss", 0, good), ("epoch_loss", 1, bad)])
    if kind == "string_dtype":  # a well-formed non-number: skipped, like a histogram
        assert load_run(tmp_path / "tb").curves["loss"].notna().sum() == 1
    else:
        _assert_error(tmp_path / "tb", "corrupt event file", "'epoch_loss' at step 1")


def test_a_printed_history_dict_saved_as_a_json_string_is_read(tmp_path: Path) -> None:
    # json.dump(str(history.history)): 3 of 79 real logs collected from public repositories
    printed = str({"loss": [np.float32(0.9), 0.5, float("nan")], "accuracy": [0.5, 0.7, 0.8],
                   "val_loss": [1.0, 0.8, 0.7], "val_accuracy": [0.4, 0.6, 0.65]})
    path = tmp_path / "history.json"
    path.write_text(json.dumps(printed))
    run = load_run(path)
    assert list(run.curves["accuracy"]) == [0.5, 0.7, 0.8]
    assert run.curves["loss"].iloc[0] == pytest.approx(0.9) and np.isnan(run.curves["loss"].iloc[2])
    assert any("printed History dict" in n for n in run.meta.get("notes", []))
    # a string that is not a printed dict stays an error, and nothing in it is executed
    for text in ("just a note", "{'loss': __import__('os').getcwd()}"):
        path.write_text(json.dumps(text))
        with pytest.raises(RecordError, match="not a training log"):
            load_run(path)


# -- what real Keras 3 files hold (found by a new user's tries) -----------------------------

@pytest.fixture(scope="module")
def f1_and_no_validation_logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A digits MLP trained with F1Score() (one value per class) with validation, then the
    same model trained again without it, each logged by CSVLogger and History JSON."""
    import keras
    from scripts.tiny import digits, onehot

    out = tmp_path_factory.mktemp("f1_logs")
    x_tr, x_va, y_tr, y_va = digits(n_train=300)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=[keras.metrics.F1Score()])
    history = model.fit(x_tr, onehot(y_tr), validation_data=(x_va, onehot(y_va)), epochs=3,
                        verbose=0, callbacks=[keras.callbacks.CSVLogger(str(out / "f1.csv"))])
    (out / "f1.json").write_text(json.dumps(
        {k: np.asarray(v).tolist() for k, v in history.history.items()}))
    model.fit(x_tr, onehot(y_tr), epochs=2, verbose=0,
              callbacks=[keras.callbacks.CSVLogger(str(out / "train_only.csv"))])
    return {"csv": out / "f1.csv", "json": out / "f1.json", "train_only": out / "train_only.csv"}


@pytest.mark.parametrize("key", ["csv", "json"])
def test_per_class_f1_is_followed_by_its_macro_mean(f1_and_no_validation_logs, key) -> None:
    run = load_run(f1_and_no_validation_logs[key])
    per_class = run.curves[[f"val_f1_score_{i}" for i in range(10)]]
    assert run.monitor == "val_f1_score"   # not class 0's score
    np.testing.assert_allclose(run.curves["val_f1_score"], per_class.mean(axis=1), rtol=1e-6)
    assert any("macro average" in n for n in run.meta["notes"])


def test_csvlogger_na_columns_of_a_fit_without_validation_are_absent(
        f1_and_no_validation_logs) -> None:
    path = f1_and_no_validation_logs["train_only"]
    assert ",NA" in path.read_text()   # what Keras writes for the keys this fit never logged
    run = load_run(path)
    assert not [c for c in run.curves.columns if c.startswith("val_")]
    assert run.monitor is None
    assert any("no validation curves" in n for n in run.meta["notes"])


def test_a_metric_nan_in_every_epoch_is_not_the_default_monitor(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"loss": [1.0, 0.8, 0.7], "val_loss": [1.1, 0.9, 0.95],
                                "val_accuracy": [float("nan")] * 3}))
    run = load_run(path)
    assert run.monitor == "val_loss"
    assert any("val_accuracy is NaN or empty in every epoch" in n for n in run.meta["notes"])


def test_a_monitor_asked_for_but_nan_in_every_epoch_is_followed_with_a_note(tmp_path: Path) -> None:
    from gapdoctor.record.schema import follow_monitor

    path = tmp_path / "h.json"
    path.write_text(json.dumps({"loss": [1.0, 0.8], "val_loss": [1.1, 0.9],
                                "val_accuracy": [float("nan")] * 2}))
    run = load_run(path)
    assert follow_monitor(run, "accuracy") == "val_accuracy"
    assert any("followed as asked, is NaN in every epoch" in n for n in run.meta["notes"])
