"""Models and fit calls a demanding Keras user writes and the other tests do not: attention
over token ids, two named inputs given as a dict, ``fit(validation_freq=3)`` and
``jit_compile=True`` with validation sample weights. GapDoctor is handed nothing (it reads
``fit``'s own data); each run must record every field it records for a plain MLP (curves,
per-class metrics, margins, whole-set dynamics), warn about nothing and be diagnosed.
Real tiny trainings (3-6 epochs, a few hundred rows)."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import layers  # noqa: E402

from gapdoctor import diagnose, load_run  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402

QUIET = {"report": False, "verbose": 0, "background": False}


def tabular(n: int = 600, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows of 12 features whose label is the arg-max of a noisy linear map."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 12)).astype("float32")
    y = (x @ rng.normal(size=(12, k)) + 0.5 * rng.normal(size=(n, k))).argmax(1)
    return x, y


def token_ids(n: int = 600, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of 20 ids; the first one names the class, the rest are noise."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 50, size=(n, 20))
    y = x[:, 1:6].sum(1) % k
    x[:, 0] = y + 1
    return x, y


def mlp(k: int = 3, **compile_kw) -> keras.Model:
    model = keras.Sequential([keras.Input((12,)), layers.Dense(16, activation="relu"),
                              layers.Dense(k, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], **compile_kw)
    return model


def attention() -> keras.Model:
    ids = keras.Input((20,), dtype="int32")
    h = layers.Embedding(50, 16)(ids)
    h = layers.LayerNormalization()(layers.MultiHeadAttention(2, 8)(h, h))
    out = layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling1D()(h))
    model = keras.Model(ids, out)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def two_inputs() -> keras.Model:
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    h = layers.Dense(16, activation="relu")(layers.Concatenate()([a, b]))
    model = keras.Model({"a": a, "b": b}, layers.Dense(3, activation="softmax")(h))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fit_with_doctor(tmp_path, name: str, model: keras.Model, **fit_kw):
    """(record, GapDoctor's warnings) of one fit with a bare ``GapDoctor()``."""
    doctor = GapDoctor(output_dir=tmp_path, run_name=name, **QUIET)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(callbacks=[doctor], verbose=0, batch_size=32, **fit_kw)
    said = [str(w.message) for w in caught if "GapDoctor" in str(w.message)]
    return load_run(tmp_path / name), said


def case_attention():
    x, y = token_ids()
    return attention(), {"x": x[:480], "y": y[:480], "validation_data": (x[480:], y[480:]),
                         "epochs": 4}


def case_two_inputs():
    x, y = tabular()

    def named(rows: slice) -> dict[str, np.ndarray]:
        return {"a": x[rows, :6], "b": x[rows, 6:]}

    return two_inputs(), {"x": named(slice(0, 480)), "y": y[:480],
                          "validation_data": (named(slice(480, None)), y[480:]), "epochs": 4}


def case_validation_freq():
    x, y = tabular(seed=1)
    return mlp(), {"x": x[:480], "y": y[:480], "validation_data": (x[480:], y[480:]),
                   "epochs": 6, "validation_freq": 3}


def case_jit_sample_weights():
    x, y = tabular(seed=2)
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(y)).astype("float32")
    return mlp(jit_compile=True), {"x": x[:480], "y": y[:480], "sample_weight": w[:480],
                                   "validation_data": (x[480:], y[480:], w[480:]), "epochs": 4}


CASES = {"attention": case_attention, "two_inputs": case_two_inputs,
         "validation_freq": case_validation_freq, "jit_sample_weights": case_jit_sample_weights}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("unusual")
    out = {}
    for name, build in CASES.items():
        keras.utils.set_random_seed(0)
        model, fit_kw = build()
        out[name] = fit_with_doctor(root, name, model, **fit_kw)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_every_probe_records_and_nothing_warns(runs, name):
    run, said = runs[name]
    assert said == []
    assert run.n_epochs == CASES[name]()[1]["epochs"]
    assert run.has("per_class") and set(run.per_class["split"]) >= {"train", "val"}
    assert "margins" in run.arrays and "dyn_margin" in run.arrays
    # the probes score the whole validation sample every epoch, whatever fit did
    val_epochs = run.per_class.query("split == 'val'")["epoch"].nunique()
    assert val_epochs == run.n_epochs


@pytest.mark.parametrize("name", list(CASES))
def test_each_run_is_diagnosed(runs, name):
    d = diagnose(runs[name][0])
    assert d.status == "ok" and not d.errors
    assert d.findings and all(0.0 <= f.score <= 1.0 for f in d.findings)


def test_fit_validating_every_third_epoch_leaves_the_other_epochs_empty(runs):
    run, _ = runs["validation_freq"]
    logged = run.curves["val_loss"].to_numpy()
    assert [math.isfinite(v) for v in logged] == [False, False, True, False, False, True]
    assert diagnose(run).summary["best_epoch"] in (2, 5)


def test_named_inputs_skip_only_the_feature_summaries(runs):
    run, _ = runs["two_inputs"]
    assert "x_val" not in run.arrays
    assert any("several inputs" in note for note in run.meta["notes"])
