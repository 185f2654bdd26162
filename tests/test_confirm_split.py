"""confirm() after fit(validation_split=...): the retrainings train on the rows fit trained
on and are scored on the rows fit held out, after fit and inside it (confirm=True)."""

from __future__ import annotations

import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from scripts.tiny import digits, mlp  # noqa: E402

from gapdoctor import GapDoctor  # noqa: E402

# 500 rows, validation_split=0.2: Keras trains on the first 400, validates on the last 100
N, N_FIT = 500, 400


def _by_cause(d) -> dict:
    return {c["cause"]: c for c in d.confirmations}


def test_confirm_after_fit_uses_fits_split(tmp_path):
    x, _, y, _ = digits(n_train=N)
    doctor = GapDoctor(train_data=(x, y), output_dir=tmp_path, verbose=0, report=False,
                       background=False)
    mlp().fit(x, y, validation_split=0.2, epochs=3, callbacks=[doctor], verbose=0)
    d = doctor.confirm(causes=["small_validation_set", "label_noise"], seeds=1, epochs=2,
                       max_seconds=math.inf, verbose=0)
    tested = _by_cause(d)
    assert tested["small_validation_set"]["details"]["n_val"] == N - N_FIT
    noise = tested["label_noise"]
    assert noise["outcome"] != "skipped", noise["text"]
    if noise["experiment"] == "drop_flagged_samples" and "n_train" in noise["details"]:
        assert noise["details"]["n_train"] == N_FIT


def test_confirm_inside_fit_reads_the_split_from_fit(tmp_path):
    import keras

    x, _, y, _ = digits(n_train=N)
    # neither train_data nor validation_data: only fit's own rows can be used, and only
    # while fit runs (GapDoctor(confirm=True) confirms from its on_train_end)
    doctor = GapDoctor(output_dir=tmp_path, verbose=0, report=False, background=False)
    seen = {}

    class ConfirmAtEnd(keras.callbacks.Callback):
        def on_train_end(self, logs=None):   # after GapDoctor's own, still inside fit
            seen["d"] = doctor.confirm(causes=["small_validation_set", "label_noise"],
                                       seeds=1, epochs=1, max_seconds=math.inf, verbose=0)

    mlp().fit(x, y, validation_split=0.2, epochs=2, callbacks=[doctor, ConfirmAtEnd()],
              verbose=0)
    tested = _by_cause(seen["d"])
    assert tested["small_validation_set"]["details"]["n_val"] == N - N_FIT
    assert tested["label_noise"]["outcome"] != "skipped", tested["label_noise"]["text"]
