"""A loss that is exactly 0 from the first epoch gives no gradient: the model never learns.

The classic Keras slip: ``categorical_crossentropy`` on a one-unit sigmoid output normalises
the single probability to 1, so the loss is 0 whatever the labels, fit prints
``loss: 0.0000e+00`` and the accuracy stays at the base rate. A real tiny training (digits,
"digit below 5" as the label, 3 epochs) against the same model with the binary loss.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from scripts.tiny import digits  # noqa: E402

from gapdoctor import diagnose  # noqa: E402
from gapdoctor.analysis.premise import premise_facts  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402
from gapdoctor.importers import load_runs  # noqa: E402


def _fit(tmp_path, loss: str):
    x_tr, x_va, y_tr, y_va = digits()
    y_tr, y_va = (y_tr < 5).astype("float32"), (y_va < 5).astype("float32")
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", loss, metrics=["accuracy"])
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, report=False, background=False, verbose=0)
    history = model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=3, batch_size=64,
                        verbose=0, callbacks=[doctor])
    return history.history, doctor.diagnosis


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # Keras' own note on a one-unit output
@pytest.mark.parametrize("loss, zero", [("categorical_crossentropy", True),
                                        ("binary_crossentropy", False)])
def test_a_loss_that_is_zero_from_the_start_is_a_model_that_never_learned(tmp_path, loss, zero):
    history, d = _fit(tmp_path, loss)
    assert (np.asarray(history["loss"]) == 0).all() == zero, history["loss"]
    if zero:
        assert d.verdict == "optimization" and d.status == "not_learning", d.findings[:3]
        assert "exactly 0 in all 3 epochs" in d.findings[0].summary, d.findings[0].summary
    else:
        assert d.status != "not_learning" and d.score_of("optimization") < 0.5, d.findings[:3]
    # the same from the History alone (``gapdoctor analyze history.json``)
    path = tmp_path / "history.json"
    pd.Series({k: list(map(float, v)) for k, v in history.items()}).to_json(path)
    offline = diagnose(load_runs(path)[0])
    assert (offline.status == "not_learning") == zero, offline.findings[:3]


def test_a_loss_that_reaches_zero_later_is_not_this_fact() -> None:
    """A fit that drives its loss to 0 after a first epoch above it learned (a tiny set)."""
    p = premise_facts(pd.DataFrame({"loss": [0.4, 0.0, 0.0, 0.0], "accuracy": [0.8, 1, 1, 1]}))
    assert not p.zero_loss and p.never_learned == 0.0
    one = premise_facts(pd.DataFrame({"loss": [0.0]}))  # one epoch: too little to judge
    assert not one.zero_loss
