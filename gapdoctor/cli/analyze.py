"""``gapdoctor analyze PATH... [--pdf FILE] [--json FILE] [--fail-on SCORE]``."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import warnings
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
from gapdoctor.diagnosis import Diagnosis, score_text
from gapdoctor.errors import RecordError
from gapdoctor.importers import load_run
from gapdoctor.record.atomic import atomic_path
from gapdoctor.record.schema import RunRecord


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


def one_blas_thread() -> None:
    """Limit this process's BLAS to one thread: OpenBLAS threads spin while they wait, and
    beside a second busy process they burn the other core (a quarter of an analysis's CPU)."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"  # for the libraries loaded from now on (scipy's own BLAS)
    try:
        from threadpoolctl import threadpool_limits  # scikit-learn's dependency

        threadpool_limits(1)  # for those already loaded (numpy's)
    except Exception:  # noqa: BLE001 - only a speed-up
        pass


def _fork_diagnosis(run: RunRecord) -> tuple[int, int] | None:
    """Start ``diagnose(run)`` in a forked child (which inherits the loaded record, so
    nothing is pickled to it); returns (pid, read end of its result pipe), or None."""
    if not hasattr(os, "fork") or "fork" not in multiprocessing.get_all_start_methods():
        return None
    try:
        read, write = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid:
        os.close(write)
        return pid, read
    try:  # the child: never returns, never runs the parent's exit handlers
        os.close(read)
        gc.disable()  # a short-lived process: its cycles die with it (see run_analyze)
        try:
            one_blas_thread()  # the parent draws on the other core
            with warnings.catch_warnings(record=True) as caught:  # the parent shows them
                diagnosis = diagnose(run)
            shown = [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
            data = pickle.dumps((diagnosis, shown), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # noqa: BLE001 - the parent diagnoses again and sees it
            data = b""
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)
    finally:
        os._exit(0)


def _result(child: tuple[int, int]) -> Diagnosis | None:
    """The child's diagnosis, or None if it failed. The child is not waited for here: its
    exit (unmapping its copy of this process) takes 10-20 ms that the outputs need not
    wait for; ``_analyze_one`` reaps it after writing them."""
    _, read = child
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    try:
        diagnosis, shown = pickle.loads(data) if data else (None, [])
    except Exception:  # noqa: BLE001 - a truncated result: diagnose here instead
        return None
    for message, category, filename, lineno in shown:  # the warnings the child let through
        warnings.warn_explicit(message, category, filename, lineno)
    return diagnosis


def _diagnose_while_drawing(run: RunRecord, draw: bool = True) -> tuple[
        Diagnosis, dict[str, Any] | None, int | None]:
    """Diagnose in a forked process while this one draws what needs only the record;
    returns the diagnosis, the prebuilt sections and the child's pid (to reap), if any.

    The two halves are independent and about equally long (the diagnosis mostly imports
    scikit-learn and scipy; the drawing imports matplotlib and reportlab and rasterises
    figures), so on two cores they overlap. The child is forked before this process imports
    the plotting libraries, so that it starts at once. Where fork is unavailable or the
    child fails, the diagnosis runs here (and raises here, as it would have). Without a
    PDF (``draw=False``) the child diagnoses all the same: it runs with one BLAS and
    OpenMP thread (see ``one_blas_thread``), which this process, perhaps a caller's,
    must not impose on itself; their spinning threads made the JSON alone slower than
    JSON + PDF (3.4 s against 2.6 s, load 4).
    """
    child = _fork_diagnosis(run)
    prebuilt = None
    try:
        if draw:
            from gapdoctor.report import prebuild_sections

            gc.freeze()  # matplotlib's and reportlab's objects too (see run_analyze)
            prebuilt = prebuild_sections(run)
    except Exception:  # noqa: BLE001 - write_report draws (and reports) it all again
        prebuilt = None
    finally:
        diagnosis = _result(child) if child is not None else None
    pid = child[0] if child is not None else None
    try:
        return (diagnosis if diagnosis is not None else diagnose(run)), prebuilt, pid
    except BaseException:
        if pid is not None:
            os.waitpid(pid, 0)
        raise


def run_analyze(paths: list[str], pdf: str | None = None, json_out: str | None = None,
                fail_on: float | None = None) -> int:
    """Diagnose each path, print summaries, write outputs; returns the exit code.

    Every readable path is analysed even when another is not; an unreadable one prints one
    line on stderr and makes the exit code 2.
    """
    runs, bad = [], 0
    for path in paths:
        try:
            with no_collections():  # the importers a path needs load on first use
                runs.append((path, load_run(path)))
        except RecordError as exc:
            print_error(exc)
            bad += 1
    names = unique_names([run.name for _, run in runs])
    failed: list[str] = []
    for i, ((path, run), name) in enumerate(zip(runs, names, strict=True)):
        try:
            # No collections while a run is diagnosed and drawn (see no_collections); the
            # libraries it imports (matplotlib, reportlab) are frozen before the fork, as
            # gc.freeze's documentation suggests, so the forked child does not touch their
            # pages either. Unfrozen after each run, so that its garbage can be freed.
            with no_collections():
                failed += _analyze_one(path, run, name, len(runs), pdf, json_out, fail_on)
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
                 json_out: str | None, fail_on: float | None) -> list[str]:
    """Diagnose one run, print its summary, write its outputs; returns its --fail-on hits."""
    gc.freeze()  # see run_analyze
    diagnosis, prebuilt, child = _diagnose_while_drawing(run, draw=bool(pdf))
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
        if child is not None:
            os.waitpid(child, 0)  # reaped once the outputs are written (see _result)
    if fail_on is None:
        return []
    return [f"{name}: {f.cause} scored {score_text(f.score)}" for f in diagnosis.findings
            if f.score >= fail_on]
