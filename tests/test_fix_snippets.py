"""Every fix's code, pasted into a real tiny Keras model of the kind it is shown for, trains.

One model per kind (binary sigmoid MLP, sparse softmax MLP, one-hot softmax MLP, sparse
image CNN) is trained for one epoch under GapDoctor, so the kind comes from a real record's
``meta``. Each template fix that applies to that kind is filled with plausible facts, run
with the names a user has in scope (``model``, ``x_train`` ... ``keras``, ``np``, ``tf``),
and the resulting model is trained for one step: the loss must be finite and above zero
(a categorical loss on one sigmoid output is exactly 0); callbacks it defines see the
epoch end.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from gapdoctor.callback import GapDoctor  # noqa: E402
from gapdoctor.diagnosis import Diagnosis, Finding  # noqa: E402
from gapdoctor.fixkind import TAGS, ModelKind, model_kind  # noqa: E402
from gapdoctor.templates import causes, fill_code, load_template, render_fixes  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _eager_and_plain_logging():
    """Tiny models trace slower than they run: eager functions keep this module fast.
    Snippets that call fit print plain lines. Both are process-wide, so they are set for
    this module only: set at import, they made every training of the suite eager (pytest
    imports all modules before running any), and the confirmation tests 3-4x slower."""
    eager = tf.config.functions_run_eagerly()
    interactive = keras.utils.is_interactive_logging_enabled()
    tf.config.run_functions_eagerly(True)
    keras.utils.disable_interactive_logging()
    yield
    tf.config.run_functions_eagerly(eager)
    if interactive:
        keras.utils.enable_interactive_logging()


KINDS = ("binary", "sparse", "onehot", "image")
N_TRAIN, N_VAL, N_CLASSES = 60, 30, 3
# facts a rule would have measured; code facts (loss class, label suffix) come from the kind
FACTS = {"n_epochs": 1, "n_flagged": 2, "lagging_ids": "1", "lagging": "1", "best_threshold": 0.3, "best_epoch": 4,
         "monitor": "val_accuracy", "suspect_indices": "0, 5", "nonfinite_rows": "3",
         "fix_tags": ["misaligned", "preprocessing", "leakage", "eval_mode", "nonfinite",
                      "logits", "diverged", "not_learning", "val_jump", "loss_scale", "saturated", "underfit", "unmixed", "reordered", "whole_set", "probe",
                      "batch_order", "collapsed", "inference", "renamed", "inputs_differ", "integrity",
                      "far_values", "new_fill", "erased"], "batch_layers": "batch_normalization", "far_values": 0.6,
         "new_fill": 0.5,
         "integrity_columns": "stuck (columns 0, 3)"}


def _data(kind: str, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n = N_TRAIN + N_VAL
    classes = 2 if kind == "binary" else N_CLASSES
    labels = np.arange(n) % classes  # every class in both splits, for stratified splits
    rng.shuffle(labels)
    shape = (8, 8, 1) if kind == "image" else (8,)
    x = rng.normal(0, 1, (n, *shape)).astype("float32")
    x[labels == 1] += 0.5
    y = np.eye(classes, dtype="float32")[labels] if kind == "onehot" else labels
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]


def _model(kind: str) -> Any:
    if kind == "image":
        layers = [keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                  keras.layers.GlobalAveragePooling2D()]
    else:
        layers = [keras.Input((8,)), keras.layers.Dense(8, activation="relu")]
    head = (keras.layers.Dense(1, activation="sigmoid") if kind == "binary"
            else keras.layers.Dense(N_CLASSES, activation="softmax"))
    model = keras.Sequential([*layers, head])
    loss = {"binary": "binary_crossentropy", "onehot": "categorical_crossentropy"}.get(
        kind, "sparse_categorical_crossentropy")
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModelKind]:
    """The kind of each test model, read from the meta of a real one-epoch GapDoctor run."""
    out = {}
    for kind in KINDS:
        x, y, xv, yv = _data(kind)
        doctor = GapDoctor(validation_data=(xv, yv), train_data=(x, y), report=False,
                           diagnose=False, verbose=0,
                           output_dir=tmp_path_factory.mktemp(f"runs-{kind}"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _model(kind).fit(x, y, validation_data=(xv, yv), epochs=1, verbose=0,
                             callbacks=[doctor])
        out[kind] = model_kind(doctor.record.meta, doctor.record.curves.columns)
    return out


def _snippets(kind: ModelKind) -> list[tuple[str, str]]:
    """(label, code) of every fix with code that this kind of model is shown."""
    out = []
    for cause in causes():
        facts = kind.code_facts() | FACTS
        for fix in render_fixes(load_template(cause), facts, kind.tags):
            if fix["code"]:
                out.append((f"{cause}: {fix['title']}", fix["code"]))
    return out


def run_snippet(code: str, kind: str) -> float:
    """Run ``code`` on a fresh model of ``kind``, then one training step and one validation
    batch (its callbacks see that epoch end); the training loss of that step."""
    x, y, xv, yv = _data(kind)
    scope = {"model": _model(kind), "x_train": x, "y_train": y, "x_val": xv, "y_val": yv,
             "keras": keras, "np": np, "tf": tf}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, "<fix snippet>", "exec"), scope)  # noqa: S102 - the point
        model = scope["model"]
        loss = float(np.ravel(model.train_on_batch(scope["x_train"][:16],
                                                   scope["y_train"][:16]))[0])
        val_loss = float(np.ravel(model.test_on_batch(scope["x_val"], scope["y_val"]))[0])
        for callback in (v for v in scope.values() if isinstance(v, keras.callbacks.Callback)):
            callback.set_model(model)
            callback.on_train_begin()
            callback.on_epoch_end(0, {"loss": loss, "val_loss": val_loss})
    return loss


@pytest.fixture()
def in_run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding a diagnosis.json, as a run directory does."""
    suspects = [{"index": 0, "given": 1, "predicted": 0, "aum": -0.4},
                {"index": 5, "given": 0, "predicted": 1, "aum": -0.2}]
    Diagnosis(findings=[Finding(cause="label_noise", score=0.9, summary="noisy labels",
                                details={"suspects": suspects})]).to_json(
        tmp_path / "diagnosis.json")
    (tmp_path / "suspects.csv").write_text(  # as the callback writes it (whole training set)
        "rank,index,given_label,predicted_label,likely_label,suspicion,neighbour_agreement,"
        "aum,confidence,variability\n1,0,1,0,0,0.9,0.1,-0.4,0.1,0.02\n"
        "2,5,0,1,1,0.5,0.3,-0.2,0.3,0.05\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_kinds_are_read_from_the_records(recorded: dict[str, ModelKind]) -> None:
    assert {k: (v.target, v.inputs) for k, v in recorded.items()} == {
        "binary": ("binary", "tabular"), "sparse": ("sparse", "tabular"),
        "onehot": ("onehot", "tabular"), "image": ("sparse", "image")}


@pytest.mark.parametrize("kind", KINDS)
def test_every_snippet_trains_on_its_model(kind: str, recorded: dict[str, ModelKind],
                                           in_run_dir: Path) -> None:
    failures = []
    for label, code in _snippets(recorded[kind]):
        try:
            loss = run_snippet(code, kind)
        except Exception as exc:  # noqa: BLE001 - collect every broken snippet at once
            failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:300]}")
            continue
        if not (math.isfinite(loss) and loss > 1e-4):
            failures.append(f"{label}: training loss {loss} after the fix")
    assert not failures, "\n".join(failures)


def test_every_snippet_is_run_on_some_model(recorded: dict[str, ModelKind]) -> None:
    tested = {label for kind in recorded.values() for label, _ in _snippets(kind)}
    for cause in causes():
        for fix in load_template(cause)["fixes"]:
            wanted = fix.get("when_model", [])
            assert set([wanted] if isinstance(wanted, str) else wanted) <= TAGS, fix["title"]
            if fix.get("code", "").strip():
                assert f"{cause}: {fix['title']}" in tested, (cause, fix["title"])


def test_fixes_follow_the_model(recorded: dict[str, ModelKind]) -> None:
    smoothing = {k: next(c for label, c in _snippets(v) if "noise-tolerant" in label)
                 for k, v in recorded.items()}
    assert "BinaryCrossentropy(label_smoothing" in smoothing["binary"]
    assert "to_categorical" in smoothing["sparse"] and "to_categorical" in smoothing["image"]
    assert "to_categorical" not in smoothing["onehot"]
    augment = {k: [c for label, c in _snippets(v) if label.startswith("overfitting")]
               for k, v in recorded.items()}
    assert any("RandomFlip" in c for c in augment["image"])
    assert not any("RandomFlip" in c for k in ("binary", "sparse", "onehot") for c in augment[k])
    assert any("GaussianNoise" in c for c in augment["sparse"])


def test_the_check_catches_a_loss_that_does_not_fit(in_run_dir: Path) -> None:
    """The old one-size snippet: categorical smoothing on one sigmoid output trains to 0."""
    wrong = ('model.compile(optimizer="adam", metrics=["accuracy"], '
             'loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1))')
    assert run_snippet(wrong, "binary") < 1e-4


def test_kind_from_thin_records() -> None:
    """History files and partial metas: the kind comes from loss, metric or layer names."""
    assert model_kind({}, ["loss", "binary_accuracy", "val_binary_accuracy"]).target == "binary"
    assert model_kind({"loss": {"name": "categorical_crossentropy"}}).target == "onehot"
    conv = {"model": {"layers": [{"class_name": "Conv2D"}, {"class_name": "Dense"}]}}
    assert model_kind(conv).inputs == "image"
    text = {"model": {"layers": [{"class_name": "Embedding"}]}, "data": {"input_shape": [40]}}
    assert model_kind(text).inputs == "sequence"
    assert model_kind({}).tags == {"target_unknown", "input_unknown"}
    unknown = render_fixes(load_template("label_noise"), {}, model_kind({}).tags)
    assert [f["title"] for f in unknown if "noise-tolerant" in f["title"]] == \
        ["Use a noise-tolerant loss"] and not unknown[0]["code"]  # no suspects, no snippet


def test_a_snippet_missing_a_fact_is_left_out() -> None:
    fixes = render_fixes(load_template("subgroup_underfitting"), {}, {"sparse", "tabular"})
    oversample = next(f for f in fixes if f["title"].startswith("Collect"))
    assert oversample["code"] == "" and oversample["why"]
    assert fill_code("lagging_classes = [{lagging_ids}]", {"lagging_ids": "2, 7"}) == \
        "lagging_classes = [2, 7]"
