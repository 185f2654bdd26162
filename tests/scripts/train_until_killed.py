"""Train a tiny model with GapDoctor for many epochs (the kill test SIGKILLs this process).

Usage: python tests/scripts/train_until_killed.py OUTPUT_DIR [thread|worker]

The epochs are paced by a probe of GapDoctor's own (which keeps every epoch on the training
thread) or, with ``worker``, by a plain Keras callback (GapDoctor then records the epochs on
its worker thread while the next ones train).
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402

from gapdoctor.callback import GapDoctor  # noqa: E402
from scripts.tiny import digits, mlp  # noqa: E402


def slow_down(state, epoch, logs):
    time.sleep(0.05)  # keeps epochs coming at a pace the test can observe


if __name__ == "__main__":
    data = digits(n_train=400)
    x_tr, x_va, y_tr, y_va = data
    on_worker = len(sys.argv) > 2 and sys.argv[2] == "worker"
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=sys.argv[1], run_name="killed", diagnose=False,
                       report=False, verbose=0, probes=None if on_worker else [slow_down])
    pace = [keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: slow_down(None, e, logs))]
    x_tr, x_va, y_tr, y_va = data
    mlp().fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=10_000, batch_size=64,
              verbose=0, callbacks=[doctor, *(pace if on_worker else [])])
