"""A monitored metric of known direction that gets worse while the validation loss improves
(``metric_mismatch.wrong_way``): a mean reciprocal rank whose ranking is sorted ascending
falls as the model learns. The same training with the ranking the right way round moves
with the loss and raises nothing."""

from __future__ import annotations

import keras
import pytest
from scripts.tiny import digits, fit, mlp

from gapdoctor import GapDoctor


def _reciprocal_rank(y_true, y_pred, ascending: bool):
    y = keras.ops.cast(keras.ops.reshape(y_true, (-1, 1)), "int32")
    p_true = keras.ops.take_along_axis(y_pred, y, axis=1)
    beaten = (y_pred < p_true) if ascending else (y_pred > p_true)
    rank = keras.ops.sum(keras.ops.cast(beaten, "float32"), axis=1) + 1.0
    return keras.ops.mean(1.0 / rank)


def mrr(y_true, y_pred):
    """Mean reciprocal rank of the true class, ranked ascending by mistake."""
    return _reciprocal_rank(y_true, y_pred, ascending=True)


def mrr_right(y_true, y_pred):
    """The same, ranked the right way (the most probable class first)."""
    return _reciprocal_rank(y_true, y_pred, ascending=False)


def _wrong_way(finding) -> list:
    return [e for e in finding.evidence if (e.rule or {}).get("key") == "metric_mismatch.wrong_way"]


@pytest.mark.parametrize("metric, expect", [(mrr, True), (mrr_right, False)])
def test_a_metric_falling_as_the_loss_improves_is_a_metric_mismatch(tmp_path, metric, expect):
    data = digits()
    doctor = GapDoctor(validation_data=data[1::2], train_data=data[0::2], output_dir=tmp_path,
                       monitor=f"val_{metric.__name__}", report=False, verbose=0,
                       background=False)
    fit(mlp(metrics=(metric,), lr=0.001), data, doctor, epochs=8)
    curve = doctor.record.curves[f"val_{metric.__name__}"]
    losses = doctor.record.curves["val_loss"]
    assert losses.iloc[-1] < 0.7 * losses.iloc[0]  # the model learned
    mismatch = next(f for f in doctor.diagnosis.findings if f.cause == "metric_mismatch")
    if expect:
        assert curve.iloc[-1] < curve.iloc[0]      # yet the metric fell
        assert _wrong_way(mismatch), mismatch.evidence
        assert doctor.diagnosis.verdict == "metric_mismatch"
        assert "got worse as the validation loss improved" in mismatch.summary
    else:
        assert curve.iloc[-1] > curve.iloc[0]
        assert not _wrong_way(mismatch)
        assert mismatch.score < 0.5
