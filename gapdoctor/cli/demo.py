"""``gapdoctor demo [--out DIR] [--fault NAME]``: the first command a new user runs.

Trains a small MLP on scikit-learn's digits with a known injected fault (label noise by
default), with a ``GapDoctor`` attached, and prints the diagnosis and where the report
went. This is the one subcommand that imports TensorFlow.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from gapdoctor.cli.common import UsageError


def _report_path(doctor: object, out: Path, name: str) -> Path | None:
    for attr in ("report_path", "run_dir", "output_path"):
        value = getattr(doctor, attr, None)
        if value:
            candidate = Path(value)
            candidate = candidate / "report.pdf" if candidate.is_dir() else candidate
            if candidate.exists():
                return candidate
    candidate = out / name / "report.pdf"
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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter out
    try:
        import tensorflow  # noqa: F401  - fail early with an install hint
    except ImportError:
        raise UsageError("the demo trains a model and needs TensorFlow: "
                         "pip install 'gapdoctor[tensorflow]'") from None
    from gapdoctor.faults import build_case, train_case

    case = build_case(fault, dataset="digits")
    doctor = train_case(case, out)
    diagnosis = getattr(doctor, "diagnosis", None)
    print(f"done in {time.perf_counter() - started:.0f} s")
    if diagnosis is not None:
        print(f"injected fault: {fault}; gapdoctor's verdict: {diagnosis.verdict}")
        for finding in diagnosis.reported[:3]:
            print(f"   {finding.score:4.2f}  {finding.cause:<22} {finding.summary}")
    report = _report_path(doctor, Path(out), getattr(case, "name", fault))
    if report is not None:
        print(f"report: {report.resolve()}")
    else:
        print(f"outputs in {Path(out).resolve()} (no report.pdf found)")
    return 0
