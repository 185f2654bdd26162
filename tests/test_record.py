"""The run record on disk: round trips, malformed files, versions, and no TensorFlow on import."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gapdoctor import RecordError, load_run
from gapdoctor.record import RUN_SCHEMA_VERSION, RunRecord, atomic, read_record, save_record
from gapdoctor.record.atomic import atomic_path, atomic_write, atomic_write_text


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


def test_a_read_that_races_a_rewrite_reads_the_new_version(tmp_path, monkeypatch):
    # a live run: between the reader's manifest and its arrays, the writer saves the next
    # epoch and removes the arrays file the old manifest named
    from gapdoctor.record import store

    record = sample_record()
    save_record(record, tmp_path, seq=1, fast=True)
    real_load, raced = store._load_arrays, []

    def load_after_a_rewrite(path):
        if not raced:
            raced.append(path.name)
            record.arrays["margins"] = np.ones((5, 2), np.float32)
            save_record(record, tmp_path, seq=2, fast=True)
        return real_load(path)

    monkeypatch.setattr(store, "_load_arrays", load_after_a_rewrite)
    back = read_record(tmp_path)
    assert raced == ["arrays-000001.npz"] and not (tmp_path / "arrays-000001.npz").exists()
    assert back.arrays["margins"].shape == (5, 2)


def test_reads_during_many_rewrites_never_fail(tmp_path):
    import threading

    record = sample_record()
    save_record(record, tmp_path, seq=0, fast=True)
    done, errors = threading.Event(), []

    def writer():
        for seq in range(1, 150):
            record.arrays["margins"] = np.full((seq % 7 + 1, 2), seq, np.float32)
            save_record(record, tmp_path, seq=seq, fast=True)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    reads = 0
    while not done.is_set():
        try:
            back = read_record(tmp_path)
            assert back.arrays["margins"].shape[1] == 2
            reads += 1
        except RecordError as exc:
            errors.append(str(exc))
    thread.join()
    assert reads > 0 and errors == []


def test_a_missing_arrays_file_with_no_writer_is_still_an_error(tmp_path):
    save_record(sample_record(), tmp_path, seq=3, fast=True)
    (tmp_path / "arrays-000003.npz").unlink()
    with pytest.raises(RecordError, match="arrays file named by the manifest is missing"):
        read_record(tmp_path)


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


@pytest.mark.parametrize("mode, readable", [("max", True), ("unknown", True), ("sideways", False)])
def test_monitor_mode_unknown_reads_and_anything_else_is_a_record_error(tmp_path, mode, readable):
    """'unknown' is what a monitor of undecidable direction is written as (a custom metric)."""
    manifest = manifest_of(tmp_path)
    manifest["meta"]["monitor_mode"] = mode
    write_manifest(tmp_path, manifest)
    if readable:
        assert load_run(tmp_path).meta["monitor_mode"] == mode
    else:
        with pytest.raises(RecordError, match="monitor_mode must be 'max', 'min' or 'unknown'"):
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


# -- a hand-edited record.json: wrong types are a RecordError naming the field -------------

def _edited(tmp_path, edit):
    manifest = manifest_of(tmp_path)
    edit(manifest)
    write_manifest(tmp_path, manifest)
    return tmp_path


def _set_meta(key, value):
    return lambda m: m["meta"].__setitem__(key, value)


def _curves(edit):
    def apply(m):
        edit(m["tables"]["curves"])
    return apply


@pytest.mark.parametrize("edit, names", [
    (lambda m: m.__setitem__("failures", 1), r"failures must be a list of \{probe, epoch"),
    (lambda m: m.__setitem__("failures", [{"probe": 3, "error": "x"}]),
     r"failures\[0\].probe must be a string; received 3"),
    (_set_meta("notes", 1), r"meta.notes must be a list of strings or null; received 1 \(int\)"),
    (_set_meta("monitor", [1, 2]), r"meta.monitor must be a string or null; received \[1, 2\]"),
    (_set_meta("n_classes", "3"), r"meta.n_classes must be an integer >= 0 or null"),
    (_set_meta("data", {"n_train": -1}), r"meta.data.n_train must be an integer >= 0"),
    (_set_meta("loss", {"from_logits": "yes"}), r"meta.loss.from_logits must be true or false"),
    (lambda m: m.__setitem__("meta", [1]), r"meta must be an object or null"),
    (_set_meta("batch_order", "yes"), r"meta.batch_order must be an object"),
    (_set_meta("batch_order", {"checked": True, "low": "0.3"}),
     r"meta.batch_order.low must be a number or null; received '0.3'"),
    (_set_meta("batch_order", {"averaged": {"passes": -5}}),
     r"meta.batch_order.averaged.passes must be an integer >= 0"),
    (_set_meta("data", {"collapsed_rows": {"val": {"count": "344"}}}),
     r"meta.data.collapsed_rows.val.count must be an integer >= 0"),
    (_curves(lambda t: t["data"][1].__setitem__(0, None)),
     r"tables.curves.epoch \(row 1\) must be an integer >= 0 in every row; received None"),
    (_curves(lambda t: t["data"][1].__setitem__(0, 0)),
     r"tables.curves.epoch must hold each epoch once; epoch 0 appears more than once"),
    (_curves(lambda t: t["columns"].__setitem__(2, "loss")),
     r"tables.curves.columns names \['loss'\] more than once"),
    (_curves(lambda t: t["data"][0].__setitem__(1, "0.5")),
     r"tables.curves.loss \(row 0\) must be a number or null; received '0.5'"),
    (_curves(lambda t: t["data"][0].pop()), r"tables.curves.data\[0\] must be a list of 4"),
    (lambda m: m["tables"]["layers"]["data"][0].__setitem__(1, 7),
     r"tables.layers.layer \(row 0\) must be a string or null; received 7"),
    (lambda m: m["tables"]["per_class"].__setitem__("columns", ["epoch"] * 8),
     r"tables.per_class.columns names \['epoch'\] more than once"),
])
def test_wrong_types_name_the_field(tmp_path, edit, names):
    with pytest.raises(RecordError, match=names):
        load_run(_edited(tmp_path, edit))


@pytest.mark.parametrize("key", ["arrays_file", "static_arrays_file"])
@pytest.mark.parametrize("outside", ["../elsewhere/arrays.npz", "ABSOLUTE", "sub/../../x.npz",
                                     "..", "link.npz"])
def test_arrays_file_outside_the_run_folder_is_refused(tmp_path, key, outside):
    run_dir, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    elsewhere.mkdir()
    np.savez(elsewhere / "arrays.npz", secret=np.arange(3))
    if outside == "ABSOLUTE":
        outside = str(elsewhere / "arrays.npz")
    if outside == "link.npz":  # a plain name, but a symbolic link leading out of the folder
        run_dir.mkdir()
        (run_dir / "link.npz").symlink_to(elsewhere / "arrays.npz")
    save_record(sample_record(), run_dir, seq=0)
    manifest = json.loads((run_dir / "record.json").read_text())
    manifest[key] = outside
    write_manifest(run_dir, manifest)
    with pytest.raises(RecordError, match=rf"{key} must name a file inside the run folder"):
        load_run(run_dir)


def test_what_the_writers_produce_passes_the_checks(tmp_path):
    """The checks refuse nothing gapdoctor writes: sparse tables, NaN, extra columns."""
    record = sample_record()
    record.per_class["note"] = ["free text"]
    record.meta.update(monitor=None, completed=True, epochs_completed=3,
                       data={"n_train": 10, "n_val": None, "input_shape": [8, 8, 1]})
    save_record(record, tmp_path / "full", seq=1)
    assert load_run(tmp_path / "full").per_class["note"].tolist() == ["free text"]
    save_record(RunRecord.empty(run_name="bare"), tmp_path / "bare")
    assert load_run(tmp_path / "bare").curves.empty


def test_analyze_exits_2_with_one_line_on_a_wrongly_typed_record(tmp_path):
    _edited(tmp_path, _set_meta("monitor", [1, 2]))
    gapdoctor = Path(sys.executable).parent / "gapdoctor"
    proc = subprocess.run([sys.executable, str(gapdoctor), "analyze", str(tmp_path),
                           "--json", str(tmp_path / "d.json")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "meta.monitor must be a string or null" in lines[0]


# -- atomic writes: a failed write leaves the previous complete version --------------------

def _disk_full(*args):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_failed_atomic_write_leaves_the_previous_version(tmp_path):
    target = tmp_path / "diagnosis.json"
    atomic_write_text(target, '{"old": true}')
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # not mkstemp's 0600

    def cut_off(handle):
        handle.write(b'{"new": tr')
        _disk_full()

    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, cut_off)
    assert target.read_text() == '{"old": true}' and os.listdir(tmp_path) == [target.name]
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "report.pdf") as tmp:
        tmp.write_bytes(b"%PDF-1.4 half a report")
        raise RuntimeError("the writer failed")
    assert os.listdir(tmp_path) == [target.name]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("writer", ["save_record", "appender"])
def test_a_failed_manifest_write_keeps_the_previous_record(tmp_path, monkeypatch, writer):
    from gapdoctor.record.appender import RecordAppender

    record, appender = sample_record(), RecordAppender(tmp_path)

    def write(seq):
        if writer == "save_record":
            save_record(record, tmp_path, seq=seq, fast=True)
        else:
            appender.write(record.meta, {}, record.arrays, record.failures, seq=seq)

    write(1)
    real = atomic._commit
    monkeypatch.setattr(atomic, "_commit", lambda tmp, path, durable: _disk_full()
                        if path.name == "record.json" else real(tmp, path, durable))
    record.arrays["margins"] = np.zeros((5, 2), np.float32)
    with pytest.raises(OSError, match="No space left"):
        write(2)
    static = ["static-arrays.npz"] if writer == "appender" else []  # probe_labels
    assert sorted(os.listdir(tmp_path)) == ["arrays-000001.npz", "record.json", *static]
    assert load_run(tmp_path).arrays["margins"].shape == (3, 2)
