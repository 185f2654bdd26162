"""``gapdoctor analyze PATH... [--pdf FILE] [--json FILE] [--fail-on SCORE]``."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from gapdoctor.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAIL_ON,
    EXIT_OK,
    UsageError,
    ensure_dir,
    format_summary,
    output_path,
    print_error,
    unique_names,
)
from gapdoctor.diagnosis import Diagnosis
from gapdoctor.engine import diagnose
from gapdoctor.errors import RecordError
from gapdoctor.importers import load_run
from gapdoctor.record.atomic import atomic_path
from gapdoctor.record.schema import RunRecord


def _write(kind: str, path: Path, write: Callable[[Path], object]) -> None:
    ensure_dir(path.parent, kind)
    if path.is_dir():
        raise UsageError(f"{path}: cannot write the {kind}: a directory is in the way")
    try:
        with atomic_path(path) as tmp:  # a reader finds the previous file or the new one
            write(tmp)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the {kind} ({exc.strerror or exc})") from None
    print(f"   wrote {kind}: {path}")


def _diagnose_while_drawing(run: RunRecord) -> tuple[Diagnosis, dict[str, Any] | None]:
    """Diagnose in a forked process while this one draws the record-only report sections.

    The two halves are independent and about equally long (the diagnosis mostly imports
    scikit-learn; the sections mostly rasterise figures), so on two cores this saves about
    a second. Where fork is unavailable or the child fails, everything runs here.
    """
    from gapdoctor.report import prebuild_sections

    if "fork" not in multiprocessing.get_all_start_methods():
        return diagnose(run), prebuild_sections(run)
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            future = pool.submit(diagnose, run)
            prebuilt = prebuild_sections(run)
            return future.result(), prebuilt
    except (BrokenProcessPool, OSError, pickle.PicklingError):
        return diagnose(run), None


def run_analyze(paths: list[str], pdf: str | None = None, json_out: str | None = None,
                fail_on: float | None = None) -> int:
    """Diagnose each path, print summaries, write outputs; returns the exit code.

    Every readable path is analysed even when another is not; an unreadable one prints one
    line on stderr and makes the exit code 2.
    """
    runs, bad = [], 0
    for path in paths:
        try:
            runs.append((path, load_run(path)))
        except RecordError as exc:
            print_error(exc)
            bad += 1
    names = unique_names([run.name for _, run in runs])
    failed: list[str] = []
    for (path, run), name in zip(runs, names, strict=True):
        diagnosis, prebuilt = _diagnose_while_drawing(run) if pdf else (diagnose(run), None)
        print(format_summary(path, run, diagnosis), flush=True)
        if json_out:
            _write("diagnosis JSON", output_path(json_out, name, len(runs), ".json"),
                   diagnosis.to_json)
        if pdf:
            from gapdoctor.report import write_report

            _write("PDF report", output_path(pdf, name, len(runs), ".pdf"),
                   lambda p, run=run, d=diagnosis, pre=prebuilt: write_report(run, d, p, pre))
        if fail_on is not None:
            failed += [f"{name}: {f.cause} scored {f.score:.2f}" for f in diagnosis.findings
                       if f.score >= fail_on]
    if bad:
        return EXIT_BAD_INPUT
    if failed:
        print(f"FAIL (--fail-on {fail_on:g}): " + "; ".join(failed))
        return EXIT_FAIL_ON
    return EXIT_OK
