"""Train a tiny model with GapDoctor for many epochs (the kill test SIGKILLs this process).

Usage: python tests/scripts/train_until_killed.py OUTPUT_DIR
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gapdoctor.callback import GapDoctor  # noqa: E402
from scripts.tiny import digits, fit, mlp  # noqa: E402


def slow_down(state, epoch, logs):
    time.sleep(0.05)  # keeps epochs coming at a pace the test can observe


if __name__ == "__main__":
    data = digits(n_train=400)
    x_tr, x_va, y_tr, y_va = data
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=sys.argv[1], run_name="killed", diagnose=False,
                       report=False, verbose=0, probes=[slow_down])
    fit(mlp(), data, doctor, epochs=10_000)
