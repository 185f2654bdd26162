"""GapDoctor in the training setups demanding Keras users run: ``validation_split``,
regression, multi-label, a chosen ``monitor``, resumed fits, mixed precision, early stopping.
Real tiny trainings, real files; trainings are shared through module-scoped fixtures."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from scripts.tiny import digits, mlp, onehot  # noqa: E402

from gapdoctor import load_run  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402

QUIET = {"diagnose": False, "report": False, "verbose": 0}


@pytest.fixture(scope="module")
def data():
    return digits(n_train=600)


def _fit(model, x, y, doctor, epochs=3, **kwargs):
    """``model.fit`` recording every warning; returns (history, GapDoctor's warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=epochs, batch_size=64, verbose=0,
                            callbacks=[doctor], **kwargs)
    return history, [str(w.message) for w in caught if "GapDoctor" in str(w.message)]


# -- fit(validation_split=...) ---------------------------------------------------------
@pytest.fixture(scope="module")
def split_run(data, tmp_path_factory):
    """validation_split=0.2, no validation_data for GapDoctor, train_data = the unsplit rows."""
    x_tr, _, y_tr, _ = data
    doctor = GapDoctor(train_data=(x_tr, y_tr), output_dir=tmp_path_factory.mktemp("split"),
                       **QUIET)
    history, caught = _fit(mlp(), x_tr, y_tr, doctor, validation_split=0.2)
    return doctor, history, caught


def test_validation_split_rows_are_the_validation_data(split_run, data):
    doctor, history, caught = split_run
    x_tr, _, y_tr, _ = data
    run = load_run(doctor.run_dir)
    assert not caught and not run.failures
    # the last 120 of 600 rows are fit's validation set: GapDoctor evaluates exactly those
    np.testing.assert_array_equal(run.arrays["val_labels"], y_tr[480:])
    np.testing.assert_array_equal(run.arrays["x_val"], x_tr[480:])
    val = run.split_metrics[run.split_metrics.split == "val"]
    assert (val["n"] == 120).all()
    np.testing.assert_allclose(val["accuracy"], history.history["val_accuracy"], atol=1e-6)
    notes = " ".join(run.meta["notes"])
    assert "validation_split=0.2" in notes and "rows 480-599" in notes
    assert "No validation_data" not in notes
    assert run.meta["fit"]["validation_split"] == 0.2 and run.meta["fit"]["validation_given"]


def test_validation_split_rows_leave_the_train_probe_and_dynamics(split_run):
    run = load_run(split_run[0].run_dir)
    # the model never trains on the held-out rows: neither the probe nor the dynamics
    # may count them as training samples
    assert run.arrays["probe_index"].max() < 480 and len(run.arrays["probe_index"]) == 480
    assert run.meta["data"]["n_train"] == 480 and run.meta["dynamics"]["n"] == 480
    assert run.arrays["dyn_margin"].shape[1] == 480
    assert "left out of the train probe" in " ".join(run.meta["notes"])


def test_validation_split_with_own_validation_data_says_the_rows_differ(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    doctor = GapDoctor(validation_data=(x_va, y_va), output_dir=tmp_path, **QUIET)
    _, caught = _fit(mlp(), x_tr, y_tr, doctor, epochs=1, validation_split=0.25)
    run = load_run(doctor.run_dir)
    assert not caught and not run.failures
    np.testing.assert_array_equal(run.arrays["val_labels"], y_va)  # the data it was given
    assert "on different rows" in " ".join(run.meta["notes"])


# -- regression and multi-label: no classes invented ----------------------------------
@pytest.fixture(scope="module")
def regression_run(tmp_path_factory):
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    x, y = x.astype("float32"), ((y - y.mean()) / y.std()).astype("float32")
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae"])
    doctor = GapDoctor(validation_data=(x[350:], y[350:]), train_data=(x[:350], y[:350]),
                       output_dir=tmp_path_factory.mktemp("regression"), verbose=0,
                       background=False)
    _, caught = _fit(model, x[:350], y[:350], doctor, epochs=4,
                     validation_data=(x[350:], y[350:]))
    return doctor, caught


def test_regression_records_no_classes_and_warns_nothing(regression_run):
    doctor, caught = regression_run
    run = load_run(doctor.run_dir)
    assert caught == [] and run.failures == []
    assert run.meta["task"] == "regression" and run.meta.get("n_classes") is None
    assert not run.has("per_class") and not run.has("split_metrics")
    # label counts of rounded regression targets would be invented classes
    assert run.meta["data"]["train_label_counts"] is None
    assert run.meta["data"]["val_label_counts"] is None
    assert not any(name.startswith("dyn_") for name in run.arrays)
    assert not (doctor.run_dir / "suspects.csv").exists()
    assert "this is a regression task" in " ".join(run.meta["notes"])
    assert run.meta["monitor"] == "val_mae" and run.meta["monitor_mode"] == "min"


def test_regression_diagnosis_skips_the_class_rules_and_renders(regression_run):
    doctor, _ = regression_run
    saved = json.loads((doctor.run_dir / "diagnosis.json").read_text())
    assert saved["verdict"] == doctor.diagnosis.verdict
    assert "subgroup_underfitting" not in {f["cause"] for f in saved["findings"]}
    # no accuracy is recorded: no interval of one is made up from the monitored MAE
    small = next(f for f in saved["findings"] if f["cause"] == "small_validation_set")
    assert small["score"] < 0.1 and "accuracy near" not in json.dumps(small)
    assert (doctor.run_dir / "report.pdf").stat().st_size > 1000


def test_multilabel_records_no_margins_or_suspects(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data

    def multi_hot(y):
        return np.stack([y % 2 == 0, y > 4, y % 3 == 0], axis=1).astype("float32")

    doctor = GapDoctor(validation_data=(x_va, multi_hot(y_va)),
                       train_data=(x_tr, multi_hot(y_tr)), output_dir=tmp_path, **QUIET)
    model = mlp(n_out=3, activation="sigmoid", loss="binary_crossentropy")
    _, caught = _fit(model, x_tr, multi_hot(y_tr), doctor,
                     validation_data=(x_va, multi_hot(y_va)))
    run = load_run(doctor.run_dir)
    assert caught == [] and run.failures == []
    assert run.meta["task"] == "multilabel" and not run.has("per_class")
    # argmax of a multi-hot row is no label: no margins, no suspected wrong labels
    assert not any(name.startswith("dyn_") for name in run.arrays)
    assert "dynamics" not in run.meta
    assert not (doctor.run_dir / "suspects.csv").exists()
    assert run.meta["data"]["train_label_counts"] is None


def test_class_names_of_the_wrong_length_are_said_once_not_silently_dropped(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    doctor = GapDoctor(validation_data=(x_va, y_va), output_dir=tmp_path,
                       class_names=["a", "b", "c"], **QUIET)
    _, caught = _fit(mlp(), x_tr, y_tr, doctor, epochs=1, validation_data=(x_va, y_va))
    assert len(caught) == 1 and "class_names has 3 entries but the model has 10" in caught[0]
    run = load_run(doctor.run_dir)
    assert run.failures == [] and run.class_names[:2] == ["0", "1"]


# -- monitor ----------------------------------------------------------------------------
def test_unknown_monitor_warns_once_naming_the_logged_values(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    metrics = ("accuracy", keras.metrics.F1Score(average="macro"))
    doctor = GapDoctor(validation_data=(x_va, onehot(y_va)), output_dir=tmp_path,
                       monitor="val_f1", **QUIET)
    history, caught = _fit(mlp(loss="categorical_crossentropy", metrics=metrics), x_tr,
                           onehot(y_tr), doctor, validation_data=(x_va, onehot(y_va)))
    assert len(history.history["loss"]) == 3
    assert len(caught) == 1
    assert "monitor='val_f1' is not logged" in caught[0] and "val_f1_score" in caught[0]
    assert "failed" not in caught[0]   # a setting that cannot apply, not failed work
    run = load_run(doctor.run_dir)
    assert run.meta["monitor"] == "val_accuracy" and run.failures == []
    assert any("monitor='val_f1' is not logged" in n for n in run.meta["notes"])

    chosen = GapDoctor(validation_data=(x_va, onehot(y_va)), output_dir=tmp_path,
                       monitor="f1_score", **QUIET)  # the validation value, as in the CLI
    _, caught = _fit(mlp(loss="categorical_crossentropy", metrics=metrics), x_tr,
                     onehot(y_tr), chosen, epochs=1, validation_data=(x_va, onehot(y_va)))
    run = load_run(chosen.run_dir)
    assert caught == [] and run.failures == []
    assert (run.meta["monitor"], run.meta["monitor_mode"]) == ("val_f1_score", "max")


def test_monitor_argument_is_checked():
    with pytest.raises(TypeError, match=r"Received: monitor=3"):
        GapDoctor(monitor=3)


# -- resuming, fit arguments ------------------------------------------------------------
def test_resumed_fit_says_where_it_starts_and_records_fit_arguments(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    model = mlp()
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, **QUIET)
    _fit(model, x_tr, y_tr, doctor, epochs=2, validation_data=(x_va, y_va))
    first = doctor.run_dir
    weights = {i: (3.0 if i == 3 else 1.0) for i in range(10)}
    _, caught = _fit(model, x_tr, y_tr, doctor, epochs=4, initial_epoch=2,
                     validation_data=(x_va, y_va), class_weight=weights)
    run = load_run(doctor.run_dir)
    assert doctor.run_dir != first and caught == [] and run.failures == []
    assert list(run.curves.index) == [2, 3] and list(run.arrays["pred_epochs"]) == [2, 3]
    assert run.meta["first_epoch"] == 2
    assert "started at epoch 2" in " ".join(run.meta["notes"])
    assert run.meta["fit"]["initial_epoch"] == 2 and run.meta["fit"]["batch_size"] == 64
    assert run.meta["fit"]["class_weight"]["3"] == 3.0
    assert "first_epoch" not in load_run(first).meta


# -- setups that work: guarded so they keep working -------------------------------------
def test_mixed_precision_predictions_match_keras(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = mlp()
        doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                           output_dir=tmp_path, **QUIET)
        history, caught = _fit(model, x_tr, y_tr, doctor, validation_data=(x_va, y_va))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    run = load_run(doctor.run_dir)
    assert caught == [] and run.failures == []
    val = run.split_metrics[run.split_metrics.split == "val"]
    np.testing.assert_allclose(val["accuracy"], history.history["val_accuracy"], atol=1e-6)
    assert np.isfinite(run.layers[["weight_norm", "grad_norm"]].to_numpy()).all()
    assert run.arrays["val_proba_last"].dtype == np.float32


@pytest.mark.parametrize("gapdoctor_first", [True, False])
def test_early_stopping_before_or_after_records_every_epoch_run(data, tmp_path,
                                                                gapdoctor_first):
    x_tr, x_va, y_tr, y_va = data
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, **QUIET)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=0,
                                         restore_best_weights=True)
    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"),
                                                 save_best_only=True)
    others = [stop, checkpoint]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = mlp(lr=0.05).fit(
            x_tr, y_tr, validation_data=(x_va, y_va), epochs=20, batch_size=16, verbose=0,
            callbacks=[doctor, *others] if gapdoctor_first else [*others, doctor])
    assert not [w for w in caught if "GapDoctor" in str(w.message)]
    epochs_run = len(history.history["loss"])
    assert epochs_run < 20  # it did stop early
    run = load_run(doctor.run_dir)
    assert run.meta["completed"] is True and run.failures == []
    assert list(run.curves.index) == list(range(epochs_run))
    np.testing.assert_allclose(run.curves["val_loss"], history.history["val_loss"])


# -- losses other than cross-entropy --------------------------------------------------------
def test_a_focal_loss_is_not_read_as_a_train_eval_mismatch(data, tmp_path):
    """The train probe's eval-mode loss is a cross-entropy; a focal loss is many times
    smaller on the same model, so comparing the two would read as a train/eval mismatch
    (it scored a pipeline bug 0.44 on a healthy 25-epoch run before)."""
    x_tr, x_va, y_tr, y_va = data
    facts = {}
    for name, loss in (("crossentropy", "categorical_crossentropy"),
                       ("focal", keras.losses.CategoricalFocalCrossentropy())):
        doctor = GapDoctor(validation_data=(x_va, onehot(y_va)),
                           train_data=(x_tr, onehot(y_tr)), output_dir=tmp_path, run_name=name,
                           background=False, report=False, verbose=0)
        _fit(mlp(loss=loss), x_tr, onehot(y_tr), doctor, epochs=8,
             validation_data=(x_va, onehot(y_va)))
        facts[name] = doctor.diagnosis.finding("pipeline_bug").details
    assert 0.5 < facts["crossentropy"]["eval_train_loss_ratio"] < 2.0  # compared, alike
    assert "eval_train_loss_ratio" not in facts["focal"]  # not the same quantity
