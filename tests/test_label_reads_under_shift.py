"""Label comparisons across the splits presume alike inputs. Digits split by row order (the
first 1,400 rows against the last 397: other writers, a domain classifier AUC near 0.67) once
read as label noise after a few epochs (0.60-0.76): the labels differed with the inputs. Runs
with wrong training labels keep their inputs, and the trust stays full for them."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gapdoctor.analysis.features import FeatureFacts  # noqa: E402
from gapdoctor.analysis.label_agreement import (  # noqa: E402
    LABEL_AUC_DIFFERENT,
    LABEL_AUC_SAME,
    label_consistency,
    label_disagreement,
)


def _facts(domain_auc: float) -> FeatureFacts:
    nan = float("nan")
    return FeatureFacts(n_train=512, n_val=400, n_features=64, nonfinite=False,
                        domain_auc=domain_auc, domain_auc_standardized=domain_auc,
                        shifted_fraction=0.1, scale_change=0.0, offset_change=0.0,
                        ref_cv_accuracy=0.8, ref_val_accuracy=0.75,
                        ref_val_accuracy_realigned=0.75, chance=0.1, rev_cv_accuracy=0.9,
                        rev_train_agreement=0.8, rev_se=0.02, rev_cv_auc=nan)


@pytest.mark.parametrize("read", [label_disagreement, label_consistency])
def test_trust_is_full_for_alike_inputs_and_none_for_a_clear_shift(read) -> None:
    assert read(_facts(0.52))[2] == 1.0        # wrong labels read at most 0.56 on the corpus
    assert read(_facts(LABEL_AUC_SAME))[2] == 1.0
    assert 0.0 < read(_facts(0.62))[2] < 1.0
    assert read(_facts(0.67))[2] < 0.25
    assert read(_facts(LABEL_AUC_DIFFERENT))[2] == 0.0


def test_digits_split_by_writer_blocks_is_not_label_noise(tmp_path) -> None:
    import keras
    from sklearn.datasets import load_digits

    from gapdoctor import GapDoctor

    x, y = load_digits(return_X_y=True)
    x = (x / 16).astype("float32")
    x_tr, y_tr, x_va, y_va = x[:1400], y[:1400], x[1400:], y[1400:]
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=4, verbose=0,
              callbacks=[doctor])
    d = doctor.diagnosis
    label_noise = next(f for f in d.findings if f.cause == "label_noise")
    assert d.verdict != "label_noise" and label_noise.score < 0.3, label_noise.score
    assert np.isfinite(label_noise.score)
