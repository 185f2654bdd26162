"""The run record on disk: round trips, malformed files, versions, and no TensorFlow on import."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from gapdoctor import RecordError, load_run
from gapdoctor.record import RUN_SCHEMA_VERSION, RunRecord, read_record, save_record


def sample_record() -> RunRecord:
    record = RunRecord.empty(run_name="r1")
    record.meta.update(task="multiclass", n_classes=3, class_names=["a", "<b>cat", "c"],
                       monitor="val_accuracy", data={"n_train": 10, "feature_summary": {}},
                       notes=["one note"])
    record.curves = pd.DataFrame({"loss": [1.0, 0.5, np.nan], "val_accuracy": [0.2, 0.4, 0.5],
                                  "lr": [0.1, 0.1, 0.01]},
                                 index=pd.Index([0, 1, 2], name="epoch"))
    record.split_metrics = pd.DataFrame(
        {"epoch": [0, 0], "split": ["train", "val"], "loss": [1.0, np.inf],
         "accuracy": [0.5, 0.25], "ece": [0.1, np.nan], "n": [4, 8]})
    record.per_class = pd.DataFrame(
        {"epoch": [0], "split": ["val"], "class_index": [1], "class_name": ["<b>cat"],
         "precision": [0.5], "recall": [1.0], "f1": [2 / 3], "support": [3]})
    record.layers = pd.DataFrame(
        {"epoch": [0, 1], "layer": ["dense", "dense"], "weight_norm": [1.0, 1.1],
         "update_ratio": [np.nan, 0.1], "grad_norm": [0.3, 0.2], "dead_fraction": [0.0, 0.5],
         "nonfinite": [0.0, 0.0]})
    record.arrays = {"margins": np.arange(6, dtype=np.float32).reshape(3, 2),
                     "correct": np.array([[True, False]] * 3),
                     "probe_labels": np.array([0, 2], dtype=np.int64)}
    record.failures = [{"probe": "layers", "epoch": 1, "error": "ValueError: x"}]
    return record


@pytest.mark.parametrize("fast", [False, True])
def test_round_trip(tmp_path, fast):
    record = sample_record()
    save_record(record, tmp_path, seq=3, fast=fast)
    back = load_run(tmp_path)
    assert back.meta["version"] == RUN_SCHEMA_VERSION and back.meta["class_names"][1] == "<b>cat"
    assert back.meta["notes"] == ["one note"] and back.failures == record.failures
    pd.testing.assert_frame_equal(back.curves, record.curves, check_dtype=False)
    assert back.curves.index.name == "epoch" and np.isnan(back.curves.loss.iloc[2])
    assert np.isnan(back.split_metrics.loss.iloc[1])  # inf is stored as null
    pd.testing.assert_frame_equal(back.per_class, record.per_class, check_dtype=False)
    pd.testing.assert_frame_equal(back.layers, record.layers, check_dtype=False)
    assert back.groups.empty
    for key, value in record.arrays.items():
        np.testing.assert_array_equal(back.arrays[key], value)
        assert back.arrays[key].dtype == value.dtype
    assert back.has("margins") and back.has("curve:loss") and not back.has("groups")
    assert back.path == tmp_path and back.monitor == "val_accuracy"


def test_rewrite_removes_the_stale_arrays_file(tmp_path):
    record = sample_record()
    save_record(record, tmp_path, seq=1, fast=True)
    record.arrays["margins"] = np.zeros((4, 2), np.float32)
    save_record(record, tmp_path, seq=2, fast=True)
    assert [p.name for p in tmp_path.glob("arrays-*.npz")] == ["arrays-000002.npz"]
    assert read_record(tmp_path / "record.json").arrays["margins"].shape == (4, 2)
    assert not list(tmp_path.glob(".*.tmp"))


def manifest_of(tmp_path):
    save_record(sample_record(), tmp_path, seq=0)
    return json.loads((tmp_path / "record.json").read_text())


def write_manifest(tmp_path, manifest):
    (tmp_path / "record.json").write_text(json.dumps(manifest))


def test_truncated_json_is_a_record_error(tmp_path):
    save_record(sample_record(), tmp_path)
    text = (tmp_path / "record.json").read_text()
    (tmp_path / "record.json").write_text(text[: len(text) // 2])
    with pytest.raises(RecordError, match="not valid JSON"):
        load_run(tmp_path)


def test_wrong_schema_is_a_record_error(tmp_path):
    manifest = manifest_of(tmp_path)
    manifest["schema"] = "something.else"
    write_manifest(tmp_path, manifest)
    with pytest.raises(RecordError, match="not a gapdoctor run record"):
        load_run(tmp_path)
    write_manifest(tmp_path, [1, 2, 3])
    with pytest.raises(RecordError, match="not a gapdoctor run record"):
        load_run(tmp_path)


def test_malformed_table_is_a_record_error(tmp_path):
    manifest = manifest_of(tmp_path)
    manifest["tables"]["layers"] = [[1, 2]]
    write_manifest(tmp_path, manifest)
    with pytest.raises(RecordError, match="table 'layers'"):
        load_run(tmp_path)


def test_newer_major_version_is_refused(tmp_path):
    manifest = manifest_of(tmp_path)
    major = int(RUN_SCHEMA_VERSION.split(".")[0])
    manifest["version"] = f"{major + 1}.0"
    write_manifest(tmp_path, manifest)
    with pytest.raises(RecordError, match="upgrade gapdoctor"):
        load_run(tmp_path)
    manifest["version"] = "one"
    write_manifest(tmp_path, manifest)
    with pytest.raises(RecordError, match="unreadable version"):
        load_run(tmp_path)


def test_newer_minor_version_with_unknown_fields_warns_and_reads(tmp_path):
    manifest = manifest_of(tmp_path)
    major, minor = (int(p) for p in RUN_SCHEMA_VERSION.split("."))
    manifest["version"] = f"{major}.{minor + 1}"
    manifest["hologram"] = {"new": "field"}
    write_manifest(tmp_path, manifest)
    with pytest.warns(UserWarning, match="hologram"):
        run = load_run(tmp_path)
    assert run.n_epochs == 3 and run.arrays["margins"].shape == (3, 2)


def test_same_version_reads_without_warning(tmp_path):
    save_record(sample_record(), tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_run(tmp_path)


def test_missing_or_corrupt_arrays_file_is_a_record_error(tmp_path):
    save_record(sample_record(), tmp_path, seq=5)
    arrays = tmp_path / "arrays-000005.npz"
    arrays.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(RecordError, match="unreadable arrays file"):
        load_run(tmp_path)
    arrays.unlink()
    with pytest.raises(RecordError, match="missing"):
        load_run(tmp_path)


def test_pickled_arrays_are_refused(tmp_path):
    save_record(sample_record(), tmp_path, seq=0)
    np.savez(tmp_path / "arrays-000000.npz", bad=np.array([{"a": 1}], dtype=object))
    with pytest.raises(RecordError, match="unreadable arrays file"):
        load_run(tmp_path)


def test_missing_record_is_a_record_error(tmp_path):
    with pytest.raises(RecordError, match="no such file"):
        load_run(tmp_path / "nothing-here")
    with pytest.raises(RecordError, match="record.json missing"):
        read_record(tmp_path)


def test_import_gapdoctor_does_not_import_tensorflow_or_keras():
    code = ("import sys, gapdoctor, gapdoctor.record, gapdoctor.importers\n"
            "print([m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_appender_writes_what_save_record_writes(tmp_path):
    from gapdoctor.record.appender import RecordAppender

    record = sample_record()
    curves = [{"epoch": 0, "loss": 1.0}, {"epoch": 1, "loss": float("nan")}]
    layers = record.layers.to_dict("records")
    writer = RecordAppender(tmp_path / "a")
    writer.write(record.meta, {"curves": (["epoch", "loss"], curves[:1]),
                               "layers": (list(record.layers.columns), layers[:1])},
                 record.arrays, record.failures, seq=1)
    assert load_run(tmp_path / "a").n_epochs == 1
    curves.append({"epoch": 2, "loss": 0.25, "val_loss": 0.5})  # a column appears later
    writer.write(record.meta, {"curves": (["epoch", "loss", "val_loss"], curves),
                               "layers": (list(record.layers.columns), layers)},
                 record.arrays, record.failures, seq=2)
    back = load_run(tmp_path / "a")
    assert list(back.curves.index) == [0, 1, 2] and np.isnan(back.curves.loss[1])
    assert np.isnan(back.curves.val_loss[0]) and back.curves.val_loss[2] == 0.5
    pd.testing.assert_frame_equal(back.layers, record.layers, check_dtype=False)
    assert back.failures == record.failures and back.meta["class_names"][1] == "<b>cat"
    np.testing.assert_array_equal(back.arrays["margins"], record.arrays["margins"])
    assert [p.name for p in (tmp_path / "a").glob("arrays-*.npz")] == ["arrays-000002.npz"]


def test_static_arrays_are_written_once_and_a_missing_one_is_a_record_error(tmp_path):
    from gapdoctor.record.appender import RecordAppender
    from gapdoctor.record.store import STATIC_ARRAYS

    record = sample_record()
    arrays = {**record.arrays, "x_train": np.ones((4, 3), "float32"),
              "probe_labels": np.arange(4)}
    writer = RecordAppender(tmp_path / "s")
    writer.write(record.meta, {}, arrays, [], seq=1)
    static = tmp_path / "s" / STATIC_ARRAYS
    first_write = static.stat().st_mtime_ns
    writer.write(record.meta, {}, arrays, [], seq=2)
    assert static.stat().st_mtime_ns == first_write  # not rewritten per epoch
    back = load_run(tmp_path / "s")
    np.testing.assert_array_equal(back.arrays["x_train"], arrays["x_train"])
    np.testing.assert_array_equal(back.arrays["margins"], record.arrays["margins"])
    static.unlink()
    with pytest.raises(RecordError, match="static-arrays.npz"):
        load_run(tmp_path / "s")
    save_record(back, tmp_path / "s", seq=3)  # the final write folds everything into one file
    assert not static.exists() and "x_train" in load_run(tmp_path / "s").arrays
