"""``gapdoctor analyze PATH... [--pdf FILE] [--json FILE] [--fail-on SCORE]``."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gapdoctor.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAIL_ON,
    EXIT_OK,
    UsageError,
    ensure_dir,
    format_summary,
    no_collections,
    output_path,
    print_error,
    unique_names,
)
from gapdoctor.cli.diagnosis_child import Child, WarmChild, fork_diagnosis, result
from gapdoctor.cli.lean_imports import artists_without_set_docs
from gapdoctor.diagnosis import Diagnosis, score_text
from gapdoctor.errors import RecordError
from gapdoctor.importers import load_runs
from gapdoctor.record.atomic import atomic_path
from gapdoctor.record.schema import RunRecord, follow_monitor


def diagnose(run: RunRecord) -> Diagnosis:
    """``gapdoctor.diagnose``, imported on first use: with --pdf only the forked child
    needs the rules, and the process that draws never loads them."""
    from gapdoctor.engine import diagnose as run_rules

    return run_rules(run)


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


def _diagnose_while_drawing(run: RunRecord, draw: bool = True, child: Child | None = None
                            ) -> tuple[Diagnosis, dict[str, Any] | None, int | None]:
    """Diagnose in a child process while this one draws what needs only the record;
    returns the diagnosis, the prebuilt sections and the child's pid (to reap), if any.

    The two halves are independent and about equally long (the diagnosis mostly imports
    scikit-learn and scipy; the drawing imports matplotlib and reportlab and rasterises
    figures), so on two cores they overlap. ``child`` is a child already diagnosing
    ``run`` (the warm child, see ``WarmChild``); without one, a child is forked now, before
    this process imports the plotting libraries, so that it starts at once. Where fork is
    unavailable or the child fails, the diagnosis runs here (and raises here, as it would
    have). Without a PDF (``draw=False``) the child diagnoses all the same: it runs with
    one BLAS and OpenMP thread (see ``one_blas_thread``), which this process, perhaps a
    caller's, must not impose on itself; their spinning threads made the JSON alone slower
    than JSON + PDF (3.4 s against 2.6 s, load 4).
    """
    if child is None:
        child = fork_diagnosis(run)
    prebuilt = None
    try:
        if draw:
            with artists_without_set_docs():
                from gapdoctor.report import prebuild_sections

            gc.freeze()  # matplotlib's and reportlab's objects too (see run_analyze)
            prebuilt = prebuild_sections(run)
    except Exception:  # noqa: BLE001 - write_report draws (and reports) it all again
        prebuilt = None
    finally:
        diagnosis = result(child) if child is not None else None
    pid = child[0] if child is not None else None
    try:
        return (diagnosis if diagnosis is not None else diagnose(run)), prebuilt, pid
    except BaseException:
        if pid is not None:
            os.waitpid(pid, 0)
        raise


def run_analyze(paths: list[str], pdf: str | None = None, json_out: str | None = None,
                fail_on: float | None = None, warm: WarmChild | None = None,
                monitor: str | None = None) -> int:
    """Diagnose each path, print summaries, write outputs; returns the exit code.

    Every readable path is analysed even when another is not; an unreadable one prints one
    line on stderr and makes the exit code 2. ``warm`` (see ``WarmChild``) diagnoses the
    first readable run; it is stopped if there is none. ``monitor`` names the logged value
    to follow in every run (a run that does not log it is an unreadable one).
    """
    try:
        return _run_analyze(paths, pdf, json_out, fail_on, warm, monitor)
    finally:
        if warm is not None:
            warm.close()


def _run_analyze(paths: list[str], pdf: str | None, json_out: str | None,
                 fail_on: float | None, warm: WarmChild | None, monitor: str | None) -> int:
    runs, bad = [], 0
    for path in paths:
        try:
            with no_collections():  # the importers a path needs load on first use
                # a file of runs keyed by name gives each (FILE#name); else one run
                found = load_runs(path, fits=False)
            for run in found if monitor is not None else []:
                follow_monitor(run, monitor)
        except RecordError as exc:
            print_error(exc)
            bad += 1
            continue
        for run in found:
            if warm is not None and not runs:
                warm.send(run)  # its diagnosis starts now, while the other paths load
            selected = run.meta.get("selected")
            named = selected and not path.endswith(f"#{selected}")  # FILE#name named it already
            runs.append((f"{path}#{selected}" if named else path, run))
    names = unique_names([run.name for _, run in runs])
    failed: list[str] = []
    for i, ((path, run), name) in enumerate(zip(runs, names, strict=True)):
        child = warm.take() if warm is not None and i == 0 else None
        try:
            # No collections while a run is diagnosed and drawn (see no_collections); the
            # libraries it imports (matplotlib, reportlab) are frozen before the fork, as
            # gc.freeze's documentation suggests, so the forked child does not touch their
            # pages either. Unfrozen after each run, so that its garbage can be freed.
            with no_collections():
                failed += _analyze_one(path, run, name, len(runs), pdf, json_out, fail_on,
                                       child)
                if i < len(runs) - 1:
                    gc.collect(0)  # the run's cycles (its figures): young, none collected
        finally:
            gc.unfreeze()
    if not runs:
        gc.unfreeze()  # what loading froze
    if bad:
        return EXIT_BAD_INPUT
    if failed:
        print(f"FAIL (--fail-on {fail_on:g}): " + "; ".join(failed))
        return EXIT_FAIL_ON
    return EXIT_OK


def _analyze_one(path: str, run: RunRecord, name: str, n_runs: int, pdf: str | None,
                 json_out: str | None, fail_on: float | None,
                 child: Child | None = None) -> list[str]:
    """Diagnose one run, print its summary, write its outputs; returns its --fail-on hits."""
    gc.freeze()  # see run_analyze
    diagnosis, prebuilt, pid = _diagnose_while_drawing(run, bool(pdf), child)
    try:
        print(format_summary(path, run, diagnosis), flush=True)
        if json_out:
            _write("diagnosis JSON", output_path(json_out, name, n_runs, ".json"),
                   diagnosis.to_json)
        if pdf:
            from gapdoctor.report import write_report

            _write("PDF report", output_path(pdf, name, n_runs, ".pdf"),
                   lambda p: write_report(run, diagnosis, p, prebuilt))
    finally:
        if pid is not None:
            os.waitpid(pid, 0)  # reaped once the outputs are written (see result)
    if fail_on is None:
        return []
    return [f"{name}: {f.cause} scored {score_text(f.score)}" for f in diagnosis.findings
            if f.score >= fail_on]
