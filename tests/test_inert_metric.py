"""A monitored metric that hardly moves while the model learns reads something else: a macro
recall averaged over 1000 class slots of which the task has 10 (the fresh12 benchmark's
ImageNet-sized class count) stays near 0.009 while gapdoctor's own accuracy climbs. The same
recall averaged over the 10 real classes moves with accuracy and is no evidence."""

from __future__ import annotations

import keras
from keras import ops
from scripts.tiny import doctored_digits_fit

from gapdoctor import GapDoctor


def _macro_recall(slots: int):
    def macro_recall(y_true, y_pred):
        true = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), 10)
        hit = true * ops.one_hot(ops.argmax(y_pred, axis=-1), 10)
        return ops.sum(ops.sum(hit, 0) / ops.maximum(ops.sum(true, 0), 1.0)) / slots
    return macro_recall


def _train(tmp_path, slots: int) -> GapDoctor:
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    # plain SGD at 0.02: the accuracy climbs over several epochs instead of in the first
    model.compile(keras.optimizers.SGD(0.02), "sparse_categorical_crossentropy",
                  metrics=[_macro_recall(slots)])
    return doctored_digits_fit(model, tmp_path, epochs=10, monitor="val_macro_recall")


def _inert(finding):
    return [e for e in finding.evidence if e.rule and e.rule["key"] == "metric_mismatch.inert"]


def test_a_recall_over_absent_classes_does_not_follow_the_learning(tmp_path):
    d = _train(tmp_path, slots=1000).diagnosis
    inert = _inert(d.finding("metric_mismatch"))
    assert inert and inert[0].supports and inert[0].rule["measured"] < 0.05
    assert d.verdict == "metric_mismatch"


def test_the_same_recall_over_the_real_classes_moves_with_accuracy(tmp_path):
    d = _train(tmp_path, slots=10).diagnosis
    assert not [e for e in _inert(d.finding("metric_mismatch")) if e.supports]
    assert d.verdict != "metric_mismatch"
