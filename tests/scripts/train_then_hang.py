"""Train a tiny model with GapDoctor (diagnosis and report on), stalling at a train-end step so
that a test can SIGKILL the process there.

Usage: python tests/scripts/train_then_hang.py OUTPUT_DIR MARKER_DIR

``GAPDOCTOR_TEST_HANG`` (read by this script only; the product has no such hook) picks the
moment; the script creates ``MARKER_DIR/<moment>`` when it gets there:

- ``diagnosis``: the record is final; the diagnosis is running (it stalls before returning).
- ``report-written``: diagnosis.json is on disk and the report's temporary file is complete,
  but not yet renamed to report.pdf (it stalls in between).
- ``report-writing``: the report is being drawn and written (no stall: the test kills a
  moment after the marker appears).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gapdoctor.engine  # noqa: E402
import gapdoctor.report  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402
from scripts.tiny import digits, fit, mlp  # noqa: E402

STALL = 300.0


def main(output_dir: str, marker_dir: str) -> None:
    moment = os.environ["GAPDOCTOR_TEST_HANG"]
    markers = Path(marker_dir)
    real_diagnose, real_report = gapdoctor.engine.diagnose, gapdoctor.report.write_report

    def diagnose(*args, **kwargs):
        if moment == "diagnosis":
            (markers / moment).touch()
            time.sleep(STALL)
        return real_diagnose(*args, **kwargs)

    def write_report(run, diagnosis, path, *args, **kwargs):
        if moment == "report-writing":
            (markers / moment).touch()
        out = real_report(run, diagnosis, path, *args, **kwargs)
        if moment == "report-written":
            (markers / moment).touch()
            time.sleep(STALL)
        return out

    gapdoctor.engine.diagnose, gapdoctor.report.write_report = diagnose, write_report
    data = digits(n_train=200)
    x_tr, x_va, y_tr, y_va = data
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=output_dir, run_name="killed", verbose=0,
                       background=False)  # the stalls are patched into this process
    fit(mlp(), data, doctor, epochs=2)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
