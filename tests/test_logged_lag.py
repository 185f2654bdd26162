"""Keras logs the training metric as its running mean over the epoch, half an epoch behind
validation. A short run still learning fast must not read as 'validation ahead of
training' (label noise); a steady validation lead on flat curves still must."""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fixtures.keras_logs import keras_logs  # noqa: E402

from gapdoctor import diagnose, load_run  # noqa: E402


def _noise(path):
    d = diagnose(load_run(path))
    return d.finding("label_noise"), d


def test_a_short_run_still_learning_is_not_label_noise(tmp_path_factory) -> None:
    logs = keras_logs(tmp_path_factory.mktemp("logs"))
    history = json.loads(logs["json"].read_text())
    # the premise of the test: logged training accuracy trails validation while learning
    assert history["accuracy"][-1] < history["val_accuracy"][-1]
    noise, d = _noise(logs["json"])
    assert noise.score < 0.3 and d.verdict != "label_noise", (noise.score, d.verdict)


def test_a_steady_validation_lead_on_flat_curves_still_counts(tmp_path) -> None:
    flat = 12
    history = {"loss": [1.2 - 0.05 * i for i in range(6)] + [0.9] * flat,
               "accuracy": [0.5 + 0.03 * i for i in range(6)] + [0.70] * flat,
               "val_loss": [1.0 - 0.05 * i for i in range(6)] + [0.72] * flat,
               "val_accuracy": [0.6 + 0.04 * i for i in range(6)] + [0.86] * flat}
    path = tmp_path / "history.json"
    path.write_text(json.dumps(history))
    noise, _ = _noise(path)
    lag = [e for e in noise.evidence if e.key.startswith("label_noise.lag")]
    assert lag and lag[0].weight > 1.0, [(e.key, e.weight) for e in noise.evidence]
