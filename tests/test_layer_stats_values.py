"""The layers probe's weight norms and update ratios equal numpy's on the weights Keras
reached at each epoch end (the probe keeps the previous epoch's weights as the values it
read then, which the optimizer's later in-place updates must not change)."""

from __future__ import annotations

import keras
import numpy as np
from scripts.tiny import digits, mlp

from gapdoctor import load_run
from gapdoctor.callback import GapDoctor


class _Weights(keras.callbacks.Callback):
    """The model's weights at each epoch end (placed after GapDoctor)."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[list[np.ndarray]] = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append([np.array(w, dtype=np.float64) for w in self.model.get_weights()])


def _norm(arrays: list[np.ndarray]) -> float:
    return float(np.sqrt(sum((a ** 2).sum() for a in arrays)))


def test_update_ratios_follow_the_weights_of_each_epoch(tmp_path):
    x_tr, x_va, y_tr, y_va = digits(n_train=400)
    model = mlp()
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, run_name="r", diagnose=False, report=False,
                       verbose=0, dynamics=False)
    weights = _Weights()
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=4, batch_size=64, verbose=0,
              callbacks=[doctor, weights])
    layers = load_run(tmp_path / "r").layers.set_index(["epoch", "layer"])
    for epoch in range(1, 4):
        now, before = weights.epochs[epoch], weights.epochs[epoch - 1]
        for name, part in (("dense", slice(0, 2)), ("dense_1", slice(2, 4))):
            row = layers.loc[(epoch, name)]
            norm = _norm(now[part])
            change = _norm([a - b for a, b in zip(now[part], before[part], strict=True)])
            np.testing.assert_allclose(row["weight_norm"], norm, rtol=1e-5)
            np.testing.assert_allclose(row["update_ratio"], change / norm, rtol=1e-4)
