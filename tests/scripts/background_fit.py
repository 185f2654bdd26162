"""Train a tiny model with GapDoctor's background analysis, then end in one of three ways.

Usage: python tests/scripts/background_fit.py OUTPUT_DIR MODE

The script has no ``if __name__ == "__main__"`` guard on purpose (most training scripts have
none). After ``fit`` it prints ``child <pid>`` (the analysis process), then by MODE:

- ``exit``: ends at once; the analysis finishes during interpreter exit.
- ``sigkill``: kills itself with SIGKILL (the analysis process must not outlive it).
- ``wait``: sleeps until interrupted (the test sends Ctrl-C to the process group).
"""

import os
import signal
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gapdoctor.callback import GapDoctor  # noqa: E402
from scripts.tiny import digits, fit, mlp  # noqa: E402

output_dir, mode = sys.argv[1], sys.argv[2]
data = digits(n_train=200)
x_tr, x_va, y_tr, y_va = data
doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                   output_dir=output_dir, run_name="bg")
fit(mlp(), data, doctor, epochs=2)
print(f"child {doctor._pending.proc.pid}", flush=True)
if mode == "sigkill":
    os.kill(os.getpid(), signal.SIGKILL)
elif mode == "wait":
    time.sleep(120)
