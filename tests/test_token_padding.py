"""Validation sequences padded with an id training's never are (a tokenizer without its pad
token) count for a pipeline bug; shorter texts padded as usual do not."""

from __future__ import annotations

import keras
import numpy as np

from gapdoctor import GapDoctor
from gapdoctor.analysis.tokens import NEW_FILL_RANGE, new_fill
from gapdoctor.lookalikes import tell_apart

VOCAB, LENGTH, CLASSES = 120, 24, 3


def _texts(n: int, rng: np.random.Generator, longest: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of 6 to ``longest`` ids from 2 up (0 pads, 1 is unknown), each class with
    its own frequent tokens, padded at the end to LENGTH."""
    y = rng.integers(0, CLASSES, n)
    x = np.zeros((n, LENGTH), dtype="int32")
    for i, label in enumerate(y):
        k = rng.integers(6, longest + 1)
        own = rng.random(k) < 0.4
        x[i, :k] = np.where(own, 2 + 10 * label + rng.integers(0, 10, k), rng.integers(40, VOCAB, k))
    return x, y


def _model() -> keras.Model:
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((LENGTH,)), keras.layers.Embedding(VOCAB, 16),
                              keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _evidence(diagnosis, cause: str, key: str) -> list:
    return [e for e in diagnosis.finding(cause).evidence if (e.rule or {}).get("key") == key]


def test_validation_padded_with_the_unknown_id_is_a_bug(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x_tr, y_tr = _texts(800, rng)
    x_va, y_va = _texts(300, rng)
    x_va = np.where(x_va == 0, 1, x_va)   # pad_token = unk_token on the validation path
    assert new_fill(x_tr, x_va) > 0.9
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    _model().fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=6, batch_size=32, verbose=0,
                 callbacks=[doctor])
    d = doctor.diagnosis
    filled = _evidence(d, "pipeline_bug", "pipeline_bug.new_fill")
    assert filled and filled[0].supports and "of validation sequences" in str(filled[0].value)
    assert "new_fill" in d.finding("pipeline_bug").details["fix_tags"]
    facts = {**d.finding("distribution_shift").details, **d.finding("pipeline_bug").details}
    assert "of the validation sequences are filled with an id" in tell_apart(
        "distribution_shift", "pipeline_bug", facts=facts)
    against = _evidence(d, "distribution_shift", "distribution_shift.new_fill")
    assert against and not against[0].supports
    assert d.finding("pipeline_bug").score > d.finding("distribution_shift").score


def test_shorter_texts_padded_as_usual_fill_nothing_new() -> None:
    rng = np.random.default_rng(1)
    x_tr, _ = _texts(800, rng)
    short, _ = _texts(300, rng, longest=8)   # a changed world: much shorter texts
    assert new_fill(x_tr, short) < NEW_FILL_RANGE[0]   # a chance run of a class's tokens at most
    full = rng.integers(2, VOCAB, (300, LENGTH))   # no padding at all: nothing filled
    assert new_fill(full, full[::-1]) < NEW_FILL_RANGE[0]
