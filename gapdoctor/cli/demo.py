"""``gapdoctor demo [--out DIR] [--fault NAME]``: the first command a new user runs.

Trains a small MLP on scikit-learn's digits with a known injected fault (label noise by
default), with a ``GapDoctor`` attached, and prints the diagnosis and where the report
went. This is the one subcommand that imports TensorFlow. Progress goes to stderr: a bar
redrawn in place on a terminal, a line per tenth of the epochs in a log.
"""

from __future__ import annotations

import gc
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gapdoctor.cli.common import EXIT_OK, UsageError
from gapdoctor.cli.progress import Progress

# absl-format C++ log lines ("I0000 00:00:1795621249.648699   16295 port.cc:153] ...") and
# the banner absl prints before its logging is initialised.
_CPP_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d+(\.\d+)?\s")
_ABSL_BANNER = "WARNING: All log messages before absl::InitializeLog() is called"
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}


def quiet_cpp_lines(text: str, min_level: int) -> list[str]:
    """The lines of ``text`` that ``TF_CPP_MIN_LOG_LEVEL=min_level`` lets through.

    Example:
        >>> quiet_cpp_lines("I0000 00:00:1795621511.373021   26217 port.cc:153] oneDNN on\\nkept", 2)
        ['kept']
    """
    kept = []
    for line in text.splitlines():
        match = _CPP_LINE.match(line)
        if match and _SEVERITY[match.group(1)] < min_level:
            continue
        if line.startswith(_ABSL_BANNER) and min_level >= 1:
            continue
        kept.append(line)
    return kept


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras with their start-up INFO/WARNING C++ lines filtered.

    TensorFlow 2.21 logs "oneDNN custom operations are on" (twice, with absl's banner)
    before absl's logging is initialised, so ``TF_CPP_MIN_LOG_LEVEL`` does not reach them.
    Those lines are written straight to file descriptor 2, so stderr is captured at that
    level during the import and replayed through the same level filter; errors and any
    other output are kept. Raises ImportError when TensorFlow is not installed.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        min_level = int(os.environ["TF_CPP_MIN_LOG_LEVEL"])
    except ValueError:
        min_level = 0
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = quiet_cpp_lines(captured.read().decode("utf-8", "replace"), min_level)
    if kept:
        print("\n".join(kept), file=sys.stderr, flush=True)


def _progress_callback(total_epochs: int) -> Any:
    """A Keras callback that advances a ``Progress`` bar once per epoch (stderr)."""
    import keras

    class _EpochProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs: Any = None) -> None:
            self.bar = Progress(total_epochs, "epochs")

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.bar.update(1)

        def on_train_end(self, logs: Any = None) -> None:
            self.bar.close()
            print("diagnosing the run and writing the report ...", file=sys.stderr, flush=True)

    return _EpochProgress()


def _report_path(doctor: object, out: Path, name: str) -> Path | None:
    run_dir = getattr(doctor, "run_dir", None)
    for candidate in ([Path(run_dir) / "report.pdf"] if run_dir else []) + [out / name / "report.pdf"]:
        if candidate.exists():
            return candidate
    reports = sorted(out.glob("*/report.pdf"), key=lambda p: p.stat().st_mtime)
    return reports[-1] if reports else None


def run_demo(out: str = "gapdoctor-demo", fault: str = "label_noise") -> int:
    """Train the demo case, print the verdict and report location; returns the exit code."""
    from gapdoctor.faults import FAULTS

    if fault not in FAULTS:
        raise UsageError(f"unknown fault {fault!r}; choose one of {', '.join(FAULTS)}")
    started = time.perf_counter()
    print(f"training a small MLP on digits with injected fault '{fault}' ...", flush=True)
    print("loading TensorFlow ...", file=sys.stderr, flush=True)
    try:
        import_tensorflow_quietly()
    except ImportError:
        raise UsageError("the demo trains a model and needs TensorFlow: "
                         "pip install 'gapdoctor[tensorflow]'") from None
    from gapdoctor.faults import build_case, train_case

    case = build_case(fault, dataset="digits")
    doctor = train_case(case, out, callbacks=[_progress_callback(case.epochs)])
    diagnosis = getattr(doctor, "diagnosis", None)
    print(f"done in {time.perf_counter() - started:.0f} s")
    if diagnosis is not None:
        print(f"injected fault: {fault}; gapdoctor's verdict: {diagnosis.verdict}")
        for finding in diagnosis.reported[:3]:
            print(f"   {finding.score:4.2f}  {finding.cause:<22} {finding.summary}")
    report = _report_path(doctor, Path(out), case.name)
    if report is not None:
        print(f"report: {report.resolve()}", flush=True)
    else:
        print(f"outputs in {Path(out).resolve()} (no report.pdf found)", flush=True)
    # Every file is written and closed by now. At exit, Python's last garbage collections
    # walk TensorFlow's whole object graph (~1 s); freezing it skips that walk, nothing else.
    gc.freeze()
    return EXIT_OK
