"""GapDoctor on real tiny Keras trainings: label/output forms, robustness, reuse, crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from scripts.tiny import digits, fit, mlp, onehot  # noqa: E402
from sklearn.metrics import precision_recall_fscore_support  # noqa: E402

from gapdoctor import diagnose, load_run  # noqa: E402
from gapdoctor.callback import GapDoctor, Probe, console  # noqa: E402
from gapdoctor.diagnosis import score_text  # noqa: E402
from gapdoctor.record.schema import ARRAY_DOC, META_DOC, TABLE_COLUMNS  # noqa: E402

TESTS = Path(__file__).parent
QUIET = {"diagnose": False, "report": False, "verbose": 0}


@pytest.fixture(scope="module")
def data():
    return digits(n_train=600)


@pytest.fixture(scope="module")
def sparse_run(data, tmp_path_factory):
    """Sparse labels + softmax, default settings (diagnosis and report at the end)."""
    x_tr, x_va, y_tr, y_va = data
    groups = {"even": y_va % 2 == 0, "first_ten": np.arange(10)}
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path_factory.mktemp("runs"), groups=groups,
                       class_names=[f"digit {i}" for i in range(10)], max_probe_samples=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the report module may be unfinished
        history = fit(mlp(), data, doctor, epochs=3)
    return doctor, history


def test_sparse_softmax_record_has_every_field(sparse_run, data):
    doctor, history = sparse_run
    run = load_run(doctor.run_dir)
    x_tr, x_va, y_tr, y_va = data
    assert run.meta["completed"] is True and run.meta["epochs_completed"] == 3
    assert run.meta["task"] == "multiclass" and run.meta["n_classes"] == 10
    assert run.meta["label_format"] == "sparse" and run.meta["output"] == "probabilities"
    assert run.meta["monitor"] == "val_accuracy" and run.meta["monitor_mode"] == "max"
    assert run.meta["class_names"][3] == "digit 3"
    assert run.meta["loss"]["from_logits"] is False
    assert run.meta["model"]["n_params"] == 64 * 32 + 32 + 32 * 10 + 10
    assert run.meta["optimizer"]["class_name"] == "Adam"
    assert set(run.meta) <= set(META_DOC)
    assert set(run.arrays) <= set(ARRAY_DOC)
    assert not run.failures
    # curves: every logs key, lr, epoch time
    assert list(run.curves.index) == [0, 1, 2]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch_time"):
        assert run.has(f"curve:{key}"), key
    np.testing.assert_allclose(run.curves["val_accuracy"], history.history["val_accuracy"])
    np.testing.assert_allclose(run.curves["lr"], 0.01, rtol=1e-6)
    # eval-mode predictions agree with what Keras itself measured on the validation data
    val = run.split_metrics[run.split_metrics.split == "val"].set_index("epoch")
    np.testing.assert_allclose(val["accuracy"], history.history["val_accuracy"], atol=1e-6)
    np.testing.assert_allclose(val["loss"], history.history["val_loss"], rtol=1e-3)
    assert set(run.split_metrics.split) == {"train", "val"}
    for name, columns in TABLE_COLUMNS.items():
        assert tuple(getattr(run, name).columns[:len(columns)]) == columns, name
    # arrays and their shapes
    p, v, e = 300, len(y_va), 3
    assert run.arrays["margins"].shape == (e, p) and run.arrays["correct"].shape == (e, p)
    assert run.arrays["confusion_val"].shape == (e, 10, 10)
    assert run.arrays["confusion_val"][-1].sum() == v
    assert run.arrays["score_hist_val"].shape == (e, 10, 2, 20)
    assert run.arrays["score_hist_val"][-1, 0].sum() == v  # every sample in one bin
    assert run.arrays["val_proba_best"].shape == (v, 10)
    assert run.arrays["x_train"].shape == (p, 64) and run.arrays["x_val"].shape == (v, 64)
    np.testing.assert_array_equal(run.arrays["x_train"], x_tr[run.arrays["probe_index"]])
    np.testing.assert_array_equal(run.arrays["probe_labels"], y_tr[run.arrays["probe_index"]])
    # the probe is stratified: every class within two samples of its share
    share = np.bincount(y_tr, minlength=10) / len(y_tr) * p
    assert np.all(np.abs(np.bincount(run.arrays["probe_labels"], minlength=10) - share) <= 2)
    # margins: p(given) - max p(other), positive exactly when predicted correctly
    proba, labels = run.arrays["probe_proba_last"], run.arrays["probe_labels"]
    others = np.where(np.eye(10, dtype=bool)[labels], -1, proba).max(axis=1)
    np.testing.assert_allclose(run.arrays["margins"][-1], proba[np.arange(p), labels] - others,
                               atol=1e-5)
    assert np.array_equal(run.arrays["correct"][-1], run.arrays["margins"][-1] > 0)


def test_per_class_metrics_match_sklearn(sparse_run):
    run = load_run(sparse_run[0].run_dir)
    pred = run.arrays["val_proba_last"].argmax(axis=1)
    p, r, f, s = precision_recall_fscore_support(run.arrays["val_labels"], pred,
                                                 labels=range(10), zero_division=0)
    last = run.per_class[(run.per_class.split == "val") & (run.per_class.epoch == 2)]
    np.testing.assert_allclose(last["precision"], p, atol=1e-6)
    np.testing.assert_allclose(last["recall"], r, atol=1e-6)
    np.testing.assert_allclose(last["f1"], f, atol=1e-6)
    np.testing.assert_array_equal(last["support"], s)


def test_layers_groups_and_data_summary(sparse_run, data):
    run = load_run(sparse_run[0].run_dir)
    x_tr, x_va, y_tr, y_va = data
    layers = run.layers
    assert set(layers.layer) == {"dense", "dense_1"} and len(layers) == 6
    assert (layers.weight_norm > 0).all() and (layers.grad_norm > 0).all()
    assert (layers.update_ratio > 0).all() and (layers.nonfinite == 0).all()
    hidden = layers[layers.layer == "dense"].dead_fraction
    assert hidden.between(0, 1).all() and layers[layers.layer == "dense_1"].dead_fraction.isna().all()
    groups = run.groups.set_index(["epoch", "group"])
    assert groups.loc[(2, "even"), "n"] == int((y_va % 2 == 0).sum())
    assert groups.loc[(2, "first_ten"), "n"] == 10
    even = y_va % 2 == 0
    pred = run.arrays["val_proba_last"].argmax(axis=1)
    assert groups.loc[(2, "even"), "accuracy"] == pytest.approx(np.mean(pred[even] == y_va[even]))
    info = run.meta["data"]
    assert info["n_train"] == len(y_tr) and info["n_val"] == len(y_va)
    assert info["duplicates_val_in_train"] == 0
    assert info["train_label_counts"]["3"] == int((y_tr == 3).sum())
    summary = info["feature_summary"]["train"]
    assert summary["kind"] == "per_feature" and len(summary["mean"]) == 64
    np.testing.assert_allclose(summary["mean"], run.arrays["x_train"].mean(axis=0), atol=1e-5)


def test_diagnosis_written_and_summary_printed(sparse_run):
    doctor, _ = sparse_run
    assert doctor.diagnosis is not None  # (waits for the background analysis)
    assert (doctor.run_dir / "diagnosis.json").exists()
    saved = json.loads((doctor.run_dir / "diagnosis.json").read_text())
    assert saved["verdict"] == doctor.diagnosis.verdict
    assert doctor.record is not None and doctor.record.meta["completed"]
    text = console.summary(doctor.record, doctor.diagnosis,
                           {"record": doctor.run_dir, "diagnosis": doctor.run_dir / "x.json"})
    assert f"verdict {doctor.diagnosis.verdict!r}" in text and str(doctor.run_dir) in text
    if doctor.diagnosis.findings:
        top = doctor.diagnosis.findings[0]
        assert f"{top.cause}" in text and score_text(top.score) in text


def test_record_reads_back_without_tensorflow(sparse_run):
    code = ("import sys, json, gapdoctor\n"
            "run = gapdoctor.load_run(sys.argv[1])\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
            "print(json.dumps({'bad': bad, 'epochs': run.n_epochs,"
            " 'margins': list(run.arrays['margins'].shape)}))\n")
    out = subprocess.run([sys.executable, "-c", code, str(sparse_run[0].run_dir)],
                         capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"bad": [], "epochs": 3, "margins": [3, 300]}


def test_onehot_logits(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    model = mlp(activation=None, loss=loss)
    doctor = GapDoctor(validation_data=(x_va, onehot(y_va)), train_data=(x_tr, onehot(y_tr)),
                       output_dir=tmp_path, **QUIET)
    history = fit(model, (x_tr, x_va, onehot(y_tr), onehot(y_va)), doctor, epochs=2)
    run = load_run(doctor.run_dir)
    assert run.meta["output"] == "logits" and run.meta["label_format"] == "onehot"
    assert run.meta["loss"]["from_logits"] is True
    proba = run.arrays["val_proba_last"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert proba.min() >= 0
    np.testing.assert_array_equal(run.arrays["val_labels"], y_va)
    val = run.split_metrics[run.split_metrics.split == "val"]
    np.testing.assert_allclose(val["accuracy"], history.history["val_accuracy"], atol=1e-6)
    np.testing.assert_allclose(val["loss"], history.history["val_loss"], rtol=1e-3)


def test_binary_sigmoid_and_unbuilt_model(data, tmp_path):
    """A single sigmoid unit on 0/1 labels; the Sequential has no Input (built during fit)."""
    x_tr, x_va, y_tr, y_va = data
    yb_tr, yb_va = (y_tr >= 5).astype("float32"), (y_va >= 5).astype("float32")
    model = mlp(n_out=1, activation="sigmoid", loss="binary_crossentropy", input_shape=None)
    doctor = GapDoctor(validation_data=(x_va, yb_va), train_data=(x_tr, yb_tr),
                       output_dir=tmp_path, **QUIET)
    history = fit(model, (x_tr, x_va, yb_tr, yb_va), doctor, epochs=3)
    run = load_run(doctor.run_dir)
    assert not run.failures
    assert (run.meta["task"], run.meta["n_classes"], run.meta["label_format"]) == \
        ("binary", 2, "binary")
    assert run.meta["model"]["n_params"] == 64 * 32 + 32 + 33
    proba = run.arrays["val_proba_last"]
    assert proba.shape == (len(y_va), 2)
    np.testing.assert_allclose(proba[:, 0] + proba[:, 1], 1.0, atol=1e-6)
    val = run.split_metrics[run.split_metrics.split == "val"]
    np.testing.assert_allclose(val["accuracy"], history.history["val_accuracy"], atol=1e-6)
    assert run.arrays["confusion_val"].shape == (3, 2, 2)
    # layer statistics start once the model exists; no update ratio for the first epoch
    assert len(run.layers) == 6
    assert run.layers[run.layers.epoch == 0].update_ratio.isna().all()
    assert (run.layers[run.layers.epoch > 0].update_ratio > 0).all()


def test_a_fit_without_validation_records_logs_and_says_what_is_missing(data, tmp_path):
    # nothing given to GapDoctor and no validation in fit: fit's x, y give the train probe,
    # and the record says there is nothing to validate on
    x_tr, x_va, y_tr, y_va = data
    doctor = GapDoctor(output_dir=tmp_path, **QUIET)
    mlp().fit(x_tr, y_tr, epochs=2, batch_size=64, verbose=0, callbacks=[doctor])
    run = load_run(doctor.run_dir)
    assert run.has("curve:loss") and run.has("curve:lr") and not run.has("curve:val_loss")
    assert set(run.split_metrics["split"]) == {"train"} and "val_proba_last" not in run.arrays
    notes = " ".join(run.meta["notes"])
    assert "No validation_data" in notes and "reads fit's own train data" in notes
    assert not run.failures


def test_instance_reused_across_two_fits(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, run_name="same", **QUIET)
    fit(mlp(), data, doctor, epochs=2)
    first = doctor.run_dir
    fit(mlp(), data, doctor, epochs=1)
    second = doctor.run_dir
    assert first != second and first.name == "same" and second.name == "same-1"
    assert load_run(first).n_epochs == 2 and load_run(second).n_epochs == 1
    assert load_run(second).arrays["margins"].shape[0] == 1
    assert len(load_run(second).layers) == 2


class Exploding(Probe):
    name = "exploding"

    def __init__(self):
        self.calls = 0

    def on_epoch_end(self, state, epoch, logs):
        self.calls += 1
        raise RuntimeError("probe blew up")


def test_failing_probe_is_recorded_warned_once_and_training_goes_on(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    probe = Exploding()
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, probes=[probe], **QUIET)
    with pytest.warns(RuntimeWarning, match="exploding") as caught:
        history = fit(mlp(), data, doctor, epochs=3)
    assert len([w for w in caught if "exploding" in str(w.message)]) == 1
    assert len(history.history["loss"]) == 3 and probe.calls == 3
    run = load_run(doctor.run_dir)
    assert [(f["probe"], f["epoch"]) for f in run.failures] == \
        [("exploding", 0), ("exploding", 1), ("exploding", 2)]
    assert "RuntimeError: probe blew up" in run.failures[0]["error"]
    assert run.has("per_class") and run.arrays["margins"].shape[0] == 3


def test_nan_input_keeps_recording_and_leads_with_a_pipeline_finding(data, tmp_path):
    """What gapdoctor guarantees whatever Keras reports as the loss of a poisoned batch (NaN
    up to Keras 3.14, a finite value since): the record survives, the non-finite weights are
    flagged, and the diagnosis leads with the NaN input, pointing at its row."""
    x_tr, x_va, y_tr, y_va = data
    x_bad = x_tr.copy()
    x_bad[5, 3] = np.nan  # one bad input poisons the weights at the first step
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_bad, y_tr),
                       output_dir=tmp_path, **QUIET)
    fit(mlp(), (x_bad, x_va, y_tr, y_va), doctor, epochs=2)
    run = load_run(doctor.run_dir)
    assert run.n_epochs == 2 and run.meta["completed"] is True
    first = run.layers[run.layers["layer"] == run.layers["layer"].iloc[0]]
    assert (first["nonfinite"] == 1.0).all()  # the first layer's weights are NaN
    in_probe = int(5 in set(run.arrays["probe_index"].tolist()))
    assert run.meta["data"]["feature_summary"]["train"]["nonfinite"] == in_probe
    # counted over every training row, not only the bounded probe sample
    assert run.meta["data"]["nonfinite_rows"]["train"] == {"count": 1, "rows": [5],
                                                           "scope": "all rows"}
    assert run.meta["data"]["nonfinite_rows"]["val"]["count"] == 0
    assert not run.failures
    d = diagnose(run)
    lead = d.findings[0]
    assert lead.cause == "pipeline_bug" and lead.score >= 0.8
    assert lead.fixes[0].title.startswith("Find the rows with NaN or inf inputs")
    assert "5" in lead.fixes[0].why and "isfinite" in lead.fixes[0].code
    others = {f.cause: f.score for f in d.findings[1:]}
    assert others["optimization"] < lead.score


def test_argument_errors_say_what_was_received():
    with pytest.raises(ValueError, match=r"Received: max_probe_samples=-3"):
        GapDoctor(max_probe_samples=-3)
    with pytest.raises(TypeError, match=r"max_val_samples=2.5"):
        GapDoctor(max_val_samples=2.5)
    with pytest.raises(TypeError, match=r"validation_data of type str"):
        GapDoctor(validation_data="val.csv")
    with pytest.raises(ValueError, match=r"groups\['a'\].*dtype=float64"):
        GapDoctor(groups={"a": [0.5, 1.5]})
    with pytest.raises(TypeError, match=r"Received: .*of type int"):
        GapDoctor(probes=[3])
    with pytest.raises(ValueError, match=r"run_name='a/b'"):
        GapDoctor(run_name="a/b")


def test_batch_hooks_are_not_overridden():
    for hook in ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_end",
                 "on_predict_batch_end"):
        assert getattr(GapDoctor, hook) is getattr(keras.callbacks.Callback, hook), hook


@pytest.mark.parametrize("recorded_on", ["thread", "worker"])
def test_sigkill_leaves_every_completed_epoch_readable(tmp_path, recorded_on):
    """Killed mid-training, with epochs recorded on the training thread or on the worker
    thread while the next epochs train: every epoch in the record is complete."""
    script = TESTS / "scripts" / "train_until_killed.py"
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path), recorded_on],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = tmp_path / "killed" / "record.json"
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            if manifest.exists():
                try:
                    done = json.loads(manifest.read_text())["meta"]["epochs_completed"]
                except (json.JSONDecodeError, KeyError):
                    pytest.fail("record.json was seen half-written")
                if done >= 4:
                    break
            assert proc.poll() is None, "the training script ended early"
            time.sleep(0.02)
        else:
            pytest.fail("no epochs were recorded within 120 s")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    run = load_run(tmp_path / "killed")
    done = run.meta["epochs_completed"]
    assert done >= 4 and run.meta["completed"] is False
    assert list(run.curves.index) == list(range(done))
    assert run.arrays["margins"].shape[0] == done
    assert list(run.arrays["pred_epochs"]) == list(range(done))
    assert len(list((tmp_path / "killed").glob("arrays-*.npz"))) <= 2
