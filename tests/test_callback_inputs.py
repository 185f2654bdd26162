"""GapDoctor's data sources: numpy, tf.data (finite and infinite), PyDataset; image and wide
inputs; exact duplicates; and the bounded sampling helpers."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from scripts.tiny import digits, fit, mlp  # noqa: E402

from gapdoctor import load_run  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402
from gapdoctor.callback.data_sampling import read_source, stratified_rows  # noqa: E402

QUIET = {"diagnose": False, "report": False, "verbose": 0}


@pytest.fixture(scope="module")
def data():
    return digits(n_train=500)


class Batches(keras.utils.PyDataset):
    """A PyDataset over arrays; ``infinite=True`` makes ``num_batches`` None."""

    def __init__(self, x, y, batch=50, infinite=False):
        super().__init__()
        self.x, self.y, self.batch, self.infinite = x, y, batch, infinite
        self.served = 0

    @property
    def num_batches(self):
        return None if self.infinite else int(np.ceil(len(self.y) / self.batch))

    def __getitem__(self, i):
        self.served += 1
        i = i % int(np.ceil(len(self.y) / self.batch))
        s = slice(i * self.batch, (i + 1) * self.batch)
        return self.x[s], self.y[s]


def test_tf_data_sources(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    train_ds = tf.data.Dataset.from_tensor_slices((x_tr, y_tr)).batch(64)
    val_ds = tf.data.Dataset.from_tensor_slices((x_va, y_va)).batch(64)
    doctor = GapDoctor(validation_data=val_ds, train_data=train_ds, output_dir=tmp_path,
                       max_probe_samples=200, **QUIET)
    history = doctor_fit(doctor, train_ds, val_ds, epochs=2)
    run = load_run(doctor.run_dir)
    assert not run.failures
    assert run.meta["data"]["train_source"] == "tf.data"
    assert run.meta["data"]["n_train"] == len(y_tr) and run.meta["data"]["n_val"] == len(y_va)
    assert run.arrays["margins"].shape == (2, 200)
    # positions in the stream are positions in the (unshuffled) training arrays
    np.testing.assert_array_equal(run.arrays["x_train"], x_tr[run.arrays["probe_index"]])
    val = run.split_metrics[run.split_metrics.split == "val"]
    np.testing.assert_allclose(val["accuracy"], history.history["val_accuracy"], atol=1e-6)


def doctor_fit(doctor, train, val, epochs, **kwargs):
    model = mlp()
    return model.fit(train, validation_data=val, epochs=epochs, verbose=0, callbacks=[doctor],
                     **kwargs)


def test_infinite_dataset_is_read_only_up_to_the_bound(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    train_ds = tf.data.Dataset.from_tensor_slices((x_tr, y_tr)).batch(32).repeat()
    val_ds = tf.data.Dataset.from_tensor_slices((x_va, y_va)).batch(32).repeat()
    doctor = GapDoctor(validation_data=val_ds, train_data=train_ds, output_dir=tmp_path,
                       max_probe_samples=64, max_val_samples=100, **QUIET)
    doctor_fit(doctor, train_ds, val_ds, epochs=2, steps_per_epoch=5, validation_steps=3)
    run = load_run(doctor.run_dir)
    assert not run.failures
    info = run.meta["data"]
    assert info["n_val_used"] == 100 and info["n_val"] is None
    # the training stream was read until it repeated: its 500 samples are the whole set
    assert info["n_train"] == len(y_tr)
    assert any("train_data repeats after 500 samples" in n for n in run.meta["notes"])
    # 4 batches of 32 were read (the first to reach 100), then 100 drawn stratified
    assert run.arrays["val_labels"].shape == (100,) and run.arrays["val_index"].max() < 128
    np.testing.assert_array_equal(run.arrays["val_labels"], y_va[run.arrays["val_index"]])
    assert run.arrays["margins"].shape == (2, 64)
    assert any("infinite dataset" in note for note in run.meta["notes"])


def test_pydataset_sources(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    train = Batches(x_tr, y_tr)
    val = Batches(x_va, y_va, infinite=True)
    doctor = GapDoctor(validation_data=val, train_data=train, output_dir=tmp_path,
                       max_val_samples=120, **QUIET)
    doctor_fit(doctor, train, (x_va, y_va), epochs=2)
    run = load_run(doctor.run_dir)
    assert not run.failures
    assert run.meta["data"]["train_source"] == "PyDataset"
    assert run.meta["data"]["n_train"] == len(y_tr)
    assert run.arrays["val_labels"].shape == (120,) and run.arrays["val_index"].max() < 150
    np.testing.assert_array_equal(run.arrays["val_labels"], y_va[run.arrays["val_index"]])
    assert val.served == 3  # three batches of 50 reach the bound of 120; no more were read
    assert run.has("per_class") and run.arrays["margins"].shape == (2, 500)


def test_images_duplicates_and_large_validation_set(tmp_path):
    x_tr, x_va, y_tr, y_va = digits(n_train=400, image=True)
    x_va = np.concatenate([x_va, x_tr[:7]])
    y_va = np.concatenate([y_va, (y_tr[:7] + 1) % 10])  # 7 duplicates, labels disagree
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, max_val_samples=200, **QUIET)
    model = mlp(input_shape=(8, 8, 1))
    fit(model, (x_tr, x_va, y_tr, y_va), doctor, epochs=1)
    run = load_run(doctor.run_dir)
    info = run.meta["data"]
    assert info["duplicates_val_in_train"] == 7 and info["duplicate_label_conflicts"] == 7
    assert info["feature_summary"]["val"]["kind"] == "per_channel"
    assert len(info["feature_summary"]["val"]["mean"]) == 1
    assert info["input_shape"] == [8, 8, 1]
    assert run.arrays["x_val"].shape == (200, 64) and run.arrays["val_index"].max() < len(y_va)
    np.testing.assert_array_equal(run.arrays["val_labels"], y_va[run.arrays["val_index"]])


def test_wide_inputs_are_projected(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 400)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    doctor = GapDoctor(validation_data=(x[200:], y[200:]), train_data=(x[:200], y[:200]),
                       output_dir=tmp_path, **QUIET)
    model = mlp(n_out=2, input_shape=(400,))
    fit(model, (x[:200], x[200:], y[:200], y[200:]), doctor, epochs=1)
    run = load_run(doctor.run_dir)
    assert run.arrays["x_train"].shape == (200, 128) and run.arrays["x_val"].shape == (100, 128)
    assert run.meta["data"]["feature_projection"]["from_dim"] == 400
    assert any("random projection" in note for note in run.meta["notes"])
    # the projection is the same for both splits: distances are roughly kept
    d_orig = np.linalg.norm(x[0] - x[200])
    d_proj = np.linalg.norm(run.arrays["x_train"][0] - run.arrays["x_val"][0])
    assert 0.7 < d_proj / d_orig < 1.3


def test_read_source_bounds_an_infinite_pydataset():
    x, y = np.arange(120, dtype="float32").reshape(40, 3), np.arange(40) % 4
    source = Batches(x, y, batch=8, infinite=True)
    sample = read_source(source, limit=20)
    assert sample.n_rows == 24 and not sample.exhausted and source.served == 3


def test_stratified_rows_keeps_class_shares():
    labels = np.repeat(np.arange(4), [400, 300, 200, 100])
    rows, stratified = stratified_rows(labels, 100)
    assert stratified and list(np.bincount(labels[rows])) == [40, 30, 20, 10]
    rows, stratified = stratified_rows(np.array([0, 1, 1, 1, 2, 2]), 3)
    assert len(rows) == 3 and len(set(rows.tolist())) == 3  # a singleton class: uniform


# -- labels GapDoctor cannot use: one warning that says what was received and expected ----

@pytest.mark.parametrize("labels, expected", [
    ({"out": np.zeros(8)}, r"labels are a dict with keys \['out'\].*expected one label per"),
    (np.array(["cat", "dog"] * 4), r"labels are strings or objects \(e.g. 'cat'\).*"
                                   r"LabelEncoder"),
    (3, r"y is a single value \(3\); expected one label per sample"),
])
def test_read_source_says_what_labels_it_received(labels, expected):
    with pytest.raises(TypeError, match=expected):
        read_source((np.zeros((8, 3), "float32"), labels), limit=10, what="validation_data")


def test_read_source_names_an_unbatched_dataset():
    x, y = np.zeros((8, 3), "float32"), np.arange(8) % 2
    unbatched = tf.data.Dataset.from_tensor_slices((x, y))
    with pytest.raises(TypeError, match=r"yields single samples.*dataset.batch\(64\)"):
        read_source(unbatched, limit=10, what="validation_data")
    onehot_unbatched = tf.data.Dataset.from_tensor_slices((x, np.eye(2)[y]))
    with pytest.raises(ValueError, match=r"batches of 3 inputs with 2 labels.*unbatched"):
        read_source(onehot_unbatched, limit=10, what="validation_data")


def fit_and_catch(doctor, data, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(mlp(), data, doctor, epochs=1, **kwargs)
    ours = [w for w in caught if "GapDoctor" in str(w.message)]
    return history, ours


def test_string_and_dict_labels_give_one_warning_naming_them(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    names = np.array([f"digit {i}" for i in range(10)])
    doctor = GapDoctor(validation_data=(x_va, {"digits": y_va}), train_data=(x_tr, names[y_tr]),
                       output_dir=tmp_path, **QUIET)
    history, ours = fit_and_catch(doctor, data)
    assert len(history.history["loss"]) == 1 and len(ours) == 1
    message = str(ours[0].message)
    assert "2 parts" in message and "validation_data at train begin" in message
    assert "labels are a dict with keys ['digits']" in message
    assert "labels are strings or objects (e.g. 'digit" in message
    assert "len() of unsized object" not in message
    run = load_run(doctor.run_dir)
    assert [f["probe"] for f in run.failures] == ["validation_data", "train_data"]
    assert any("Without usable validation_data" in n for n in run.meta["notes"])


def test_unbatched_validation_dataset_is_named_in_the_warning(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    unbatched = tf.data.Dataset.from_tensor_slices((x_va, y_va))
    doctor = GapDoctor(validation_data=unbatched, train_data=(x_tr, y_tr),
                       output_dir=tmp_path, **QUIET)
    _, ours = fit_and_catch(doctor, data)
    assert len(ours) == 1
    assert "an unbatched tf.data.Dataset? Pass it batched" in str(ours[0].message)
    run = load_run(doctor.run_dir)
    assert run.arrays["margins"].shape[0] == 1  # the train probe still recorded


def test_endless_validation_set_is_counted_once_per_distinct_sample(data, tmp_path):
    x_tr, x_va, y_tr, y_va = data
    endless = tf.data.Dataset.from_tensor_slices((x_va[:150], y_va[:150])).batch(32).repeat()
    reshuffled = (tf.data.Dataset.from_tensor_slices((x_tr[:100], y_tr[:100]))
                  .shuffle(100, seed=0, reshuffle_each_iteration=True).repeat().batch(16))
    doctor = GapDoctor(validation_data=endless, train_data=reshuffled, output_dir=tmp_path,
                       **QUIET)
    _, ours = fit_and_catch(doctor, data, validation_data=(x_va, y_va))
    assert not ours
    run = load_run(doctor.run_dir)
    info = run.meta["data"]
    assert info["n_val"] == 150 and info["n_val_used"] == 150  # not 2,048
    np.testing.assert_array_equal(run.arrays["val_index"], np.arange(150))
    np.testing.assert_array_equal(run.arrays["val_labels"], y_va[:150])
    assert run.split_metrics[run.split_metrics.split == "val"]["n"].tolist() == [150]
    assert any("validation_data repeats after 150 samples" in n for n in run.meta["notes"])
    # a reshuffled repeat has no cycle: each distinct sample is kept once, and said so
    assert info["n_train_probe"] == 100 and info["n_train"] is None
    assert len({row.tobytes() for row in run.arrays["x_train"]}) == 100
    assert any("train_data repeats samples" in n and "only 100 are distinct" in n
               for n in run.meta["notes"])


def test_text_inputs_through_text_vectorization(tmp_path):
    """Strings fed to a TextVectorization layer (tf.data, as Keras needs for text): every
    probe records, and exact duplicates are counted on the text (12 validation reviews were
    copied into training; 3 of them with the other label)."""
    rng = np.random.default_rng(0)
    words = {0: ["bad", "awful", "poor", "dull"], 1: ["good", "great", "fine", "superb"]}
    filler = ["the", "a", "movie", "was", "plot", "and", "it", "very", "long", "cast"]

    def reviews(n):
        y = rng.integers(0, 2, n)
        x = [" ".join(rng.permutation(list(rng.choice(filler, 6)) + list(rng.choice(words[t], 2))))
             for t in y]
        return np.array(x), y

    x_tr, y_tr = reviews(600)
    x_va, y_va = reviews(200)
    x_tr = np.concatenate([x_tr, x_va[:12]])
    y_tr = np.concatenate([y_tr, np.where(np.arange(12) < 3, 1 - y_va[:12], y_va[:12])])
    vectorize = keras.layers.TextVectorization(max_tokens=40, output_sequence_length=8)
    vectorize.adapt(x_tr)
    keras.utils.set_random_seed(0)
    text = keras.Input((1,), dtype="string")
    h = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(40, 8)(vectorize(text)))
    model = keras.Model(text, keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    train = tf.data.Dataset.from_tensor_slices((x_tr[:, None], y_tr)).batch(32)
    val = tf.data.Dataset.from_tensor_slices((x_va[:, None], y_va)).batch(32)
    doctor = GapDoctor(validation_data=val, train_data=train, output_dir=tmp_path, **QUIET)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(train, validation_data=val, epochs=2, verbose=0, callbacks=[doctor])
    assert [str(w.message) for w in caught if "GapDoctor" in str(w.message)] == []
    run = load_run(doctor.run_dir)
    assert run.failures == [] and run.meta["task"] == "binary"
    data = run.meta["data"]
    assert data["duplicates_val_in_train"] >= 12  # the copies (and any chance twins)
    assert data["duplicate_label_conflicts"] >= 3
    assert "feature_summary" not in data and any("inputs are text" in n for n in run.meta["notes"])
    assert run.arrays["margins"].shape == (2, 512)  # the train probe (max_probe_samples)
    assert run.arrays["dyn_margin"].shape == (2, len(x_tr))  # dynamics: every training row


def test_a_repeating_text_dataset_is_read_once():
    """tf.data hands text over as object arrays; their rows are compared by content, so a
    .repeat() of 100 reviews is read as the 100, not as 400 rows of copies."""
    x = np.array([f"review number {i}" for i in range(100)])[:, None]
    data = tf.data.Dataset.from_tensor_slices((x, np.arange(100) % 2)).batch(16).repeat()
    sample = read_source(data, limit=400, what="train_data")
    assert sample.n_rows == 100 and sample.exhausted
    assert "repeats after 100 samples" in sample.notes[0]
