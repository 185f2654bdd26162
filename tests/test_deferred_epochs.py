"""Epochs recorded on GapDoctor's worker thread while the next ones train (deferred.py):
the record is the one the training thread writes, bit for bit, because the probes read a
snapshot of the epoch's weights; a user's probe keeps every epoch on the training thread; a
reader of ``doctor.record`` mid-training sees every epoch so far."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
from scripts.tiny import digits, mlp

from gapdoctor.callback import GapDoctor
from gapdoctor.callback.deferred import DeferredEpochs

EPOCHS = 5


def _run(tmp_path, name, defer, probes=None, schedule=False):
    data = digits(n_train=600)
    x_tr, x_va, y_tr, y_va = data
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, run_name=name, diagnose=False, verbose=0,
                       probes=probes)
    doctor._defer = defer
    model = mlp(lr=0.05)
    if schedule:  # the learning rate moves every step: it must be read at the epoch's end
        model.compile(keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(
            0.05, decay_steps=3, decay_rate=0.5)), "sparse_categorical_crossentropy",
            metrics=["accuracy"])
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=EPOCHS, batch_size=64,
              verbose=0, callbacks=[doctor])
    return doctor, model


def test_a_deferred_record_is_the_training_threads_record(tmp_path):
    on_thread, _ = _run(tmp_path, "thread", defer=False, schedule=True)
    deferred, _ = _run(tmp_path, "deferred", defer=True, schedule=True)
    assert on_thread.timings.get("deferred_epochs", 0.0) == 0.0
    assert deferred.timings["deferred_epochs"] > 0.0  # epochs 1-4 ran on the worker
    a, b = on_thread.record, deferred.record
    assert not a.failures and not b.failures
    # the dynamics skip passes by the time they took (a budget), so which epochs they ran
    # may differ; every other array is bit-identical
    keys = {k for k in a.arrays if not k.startswith("dyn_")}
    assert keys == {k for k in b.arrays if not k.startswith("dyn_")}
    for key in keys:
        assert np.array_equal(np.asarray(a.arrays[key]), np.asarray(b.arrays[key])), key
    common = sorted(set(a.arrays["dyn_epochs"]) & set(b.arrays["dyn_epochs"]))
    assert common
    for epoch in common:
        ra = list(a.arrays["dyn_epochs"]).index(epoch)
        rb = list(b.arrays["dyn_epochs"]).index(epoch)
        assert np.array_equal(a.arrays["dyn_margin"][ra], b.arrays["dyn_margin"][rb])
    for table in ("split_metrics", "per_class", "layers"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), check_exact=True)
    curves = ["loss", "val_loss", "accuracy", "val_accuracy", "lr"]
    pd.testing.assert_frame_equal(a.curves[curves], b.curves[curves], check_exact=True)
    assert a.curves["lr"].iloc[-1] < a.curves["lr"].iloc[0] / 100  # the schedule moved it


def test_a_users_probe_keeps_every_epoch_on_the_training_thread(tmp_path):
    seen = []

    def kernel_norm(state, epoch, logs):  # reads the live model: must run at the epoch's end
        seen.append(float(np.linalg.norm(np.asarray(state.model.layers[0].kernel))))

    doctor, model = _run(tmp_path, "user", defer=True, probes=[kernel_norm])
    assert doctor.timings.get("deferred_epochs", 0.0) == 0.0
    assert len(seen) == EPOCHS
    assert seen[-1] == float(np.linalg.norm(np.asarray(model.layers[0].kernel)))
    assert doctor.record.curves.index.tolist() == list(range(EPOCHS))


class _ReadsTheRecord(keras.callbacks.Callback):
    """Reads ``doctor.record`` at every epoch's end, after GapDoctor."""

    def __init__(self, doctor_of):
        super().__init__()
        self.doctor_of, self.epochs_seen = doctor_of, []

    def on_epoch_end(self, epoch, logs=None):
        record = self.doctor_of().record
        self.epochs_seen.append(sorted(set(record.split_metrics["epoch"])))


def test_doctor_record_mid_training_waits_for_the_epochs_being_recorded(tmp_path):
    holder = {}
    reader = _ReadsTheRecord(lambda: holder["doctor"])
    data = digits(n_train=600)
    x_tr, x_va, y_tr, y_va = data
    doctor = holder["doctor"] = GapDoctor(validation_data=(x_va, y_va),
                                          train_data=(x_tr, y_tr), output_dir=tmp_path,
                                          diagnose=False, verbose=0)
    model = mlp()
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=4, batch_size=64, verbose=0,
              callbacks=[doctor, reader])
    assert doctor.timings["deferred_epochs"] > 0.0
    assert reader.epochs_seen == [list(range(e + 1)) for e in range(4)]


def test_the_worker_runs_in_order_and_holds_at_most_two_epochs():
    worker, order, held = DeferredEpochs(), [], []

    def record(i):
        held.append(len(worker._pending))
        order.append(i)

    for i in range(6):
        worker.submit(record, i)
        assert len(worker._pending) <= 2
    worker.close()
    assert order == list(range(6)) and max(held) <= 2
    worker.close()  # twice is harmless
