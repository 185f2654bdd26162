"""``gapdoctor batch PATH_OR_GLOB... --out DIR [--jobs N] [--no-pdf] [--backend dask
[--scheduler ADDRESS]]``.

Runs are analysed in worker processes, in chunks so that per-task overhead stays small;
each worker loads, diagnoses and (unless ``--no-pdf``) writes one PDF per run, and sends
back a summary row (and, for the overview, the run without its per-sample arrays). An
unreadable run becomes a row with its ``error``; it never stops the batch. With
``--backend dask`` the chunks run on a dask.distributed cluster instead (``cluster.py``).
"""

from __future__ import annotations

import glob
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from gapdoctor.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    UsageError,
    ensure_dir,
    one_line,
    quiet_library_warnings,
    safe_name,
)
from gapdoctor.cli.naming import report_names, summary_names
from gapdoctor.cli.progress import Progress
from gapdoctor.diagnosis import CAUSES
from gapdoctor.errors import RecordError
from gapdoctor.record.atomic import atomic_path
from gapdoctor.record.store import MANIFEST

COLUMNS = ["path", "run_name", "source", "verdict", *[f"score_{c}" for c in CAUSES],
           "monitor", "best_value", "best_epoch", "epochs", "error", "pdf",
           "unexplained_gap",  # a "healthy" verdict's train-minus-validation gap no cause explains
           "unfinished"]  # True for a gapdoctor record whose fit never ended (killed, or running)
BACKENDS = ("local", "dask")
_RUN_SUFFIXES = (".json", ".csv", ".tsv", ".log", ".json.gz", ".csv.gz", ".tsv.gz", ".log.gz")


def expand_inputs(patterns: list[str], skip: Path | None = None) -> list[str]:
    """Paths named by ``patterns``: globs expanded, directories of runs searched one level.

    Raises:
        UsageError: nothing to analyse (no match, or only folders without runs).
    """
    found: list[str] = []
    empty: list[str] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) \
            else [pattern]
        runs = [run for match in matches for run in _runs_in(Path(match), skip)]
        found += runs
        if not runs:
            empty.append(pattern)
    if not found:
        raise UsageError(f"nothing to analyse: no saved runs match {' '.join(patterns)}")
    for pattern in empty:
        print(f"gapdoctor: warning: no saved runs match {one_line(repr(pattern))}",
              file=sys.stderr)
    return list(dict.fromkeys(found))


def _is_run_dir(path: Path) -> bool:
    """A gapdoctor record dir or the log dir of one TensorBoard run."""
    from gapdoctor.importers.tensorboard import event_files, run_dirs

    if (path / MANIFEST).is_file():
        return True
    files = event_files(path)
    return bool(files) and not run_dirs(files, path)


def _runs_in(path: Path, skip: Path | None = None) -> list[str]:
    """``path`` itself when it is a run (or not a directory); else the runs inside it."""
    if not path.is_dir() or _is_run_dir(path):
        return [str(path)]
    inside = []
    for child in sorted(path.iterdir()):
        if skip is not None and child.resolve() == skip:
            continue
        if child.is_file() and (child.name.lower().endswith(_RUN_SUFFIXES)
                                or "tfevents" in child.name):
            inside.append(str(child))
        elif child.is_dir() and _is_run_dir(child):
            inside.append(str(child))
    return inside


def _row(path: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(path=path, **{f"score_{c}": float("nan") for c in CAUSES})
    return row


def _analyze_one(path: str, run: Any, pdf: str | None, keep_runs: bool
                 ) -> tuple[dict[str, Any], Any]:
    from gapdoctor.engine import diagnose

    row = _row(path)
    try:
        diagnosis = diagnose(run)
    except RecordError as exc:
        row["error"] = str(exc)
        return row, None
    except Exception as exc:  # a bug in one run must not sink the batch
        row["error"] = f"internal error: {type(exc).__name__}: {exc}"
        return row, None
    s = diagnosis.summary
    row.update(run_name=run.name, source=run.meta.get("source"), verdict=diagnosis.verdict,
               monitor=s.get("monitor"), best_value=s.get("best_value"),
               best_epoch=s.get("best_epoch"), epochs=s.get("epochs", run.n_epochs),
               unfinished=s.get("completed") is False)
    gap = diagnosis.unexplained_gap
    if gap is not None:
        row["unexplained_gap"] = gap["gap"]
    for finding in diagnosis.findings:
        if finding.cause in CAUSES:
            row[f"score_{finding.cause}"] = round(finding.score, 4)
    if pdf:
        try:
            from gapdoctor.record.atomic import atomic_path
            from gapdoctor.report import write_report

            with atomic_path(pdf) as tmp:
                write_report(run, diagnosis, tmp)
            row["pdf"] = pdf
        except Exception as exc:
            row["error"] = f"PDF failed: {type(exc).__name__}: {exc}"
    if keep_runs:
        run.arrays = {}  # the overview draws curves; per-sample arrays stay behind
        return row, run
    return row, None


def analyze_chunk(tasks: list[tuple[str, str | None]], keep_runs: bool,
                  monitor: str | None = None) -> list[tuple[dict[str, Any], Any]]:
    """Analyse ``(path, pdf_path)`` tasks in this process; returns (row, light run) pairs.
    ``monitor``: the logged value followed in every run (a run without it gets an error row).

    A CSV log appended by several fits gives one row per fit (``file.csv#fit1``, ...;
    PDFs ``<stem>-fit1.pdf``, ...), a JSON file holding runs keyed by name one per run
    (``file.json#vgg16``, PDF ``<stem>-vgg16.pdf``).
    """
    quiet_library_warnings()
    from gapdoctor.importers import load_runs
    from gapdoctor.record.schema import follow_monitor

    out = []
    for path, pdf in tasks:
        try:
            runs = load_runs(path)
            for run in runs if monitor is not None else []:
                follow_monitor(run, monitor)
        except RecordError as exc:
            out.append(({**_row(path), "error": str(exc)}, None))
            continue
        except Exception as exc:  # a bug in one run must not sink the batch
            out.append(({**_row(path), "error": f"internal error: {type(exc).__name__}: "
                                                f"{exc}"}, None))
            continue
        for k, run in enumerate(runs, start=1):
            if len(runs) == 1:
                out.append(_analyze_one(path, run, pdf, keep_runs))
                continue
            part = str(run.meta.get("selected") or f"fit{k}")  # a keyed JSON run, or a CSV fit
            part_pdf = str(Path(pdf).with_name(f"{Path(pdf).stem}-{safe_name(part)}.pdf")) if pdf else None
            out.append(_analyze_one(f"{path}#{part}", run, part_pdf, keep_runs))
    return out


def _chunks(items: list[Any], jobs: int) -> list[list[Any]]:
    size = max(1, min(64, math.ceil(len(items) / (jobs * 8))))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _execute(tasks: list[tuple[str, str | None]], jobs: int, keep_runs: bool,
             scheduler: str | None = None, backend: str = "local", monitor: str | None = None
             ) -> list[tuple[dict[str, Any], Any]]:
    progress = Progress(len(tasks), "runs")
    work = partial(analyze_chunk, monitor=monitor)  # picklable: a module-level function
    results: dict[int, list[tuple[dict[str, Any], Any]]] = {}
    chunks = _chunks(tasks, jobs)
    if backend == "dask":
        from gapdoctor.cli.cluster import run_on_dask

        done = run_on_dask(work, tasks, _chunks, keep_runs, scheduler, jobs,
                           progress.update)
        results = dict(enumerate(done))
    elif jobs == 1 or len(chunks) == 1:
        for i, chunk in enumerate(chunks):
            results[i] = work(chunk, keep_runs)
            progress.update(len(chunk))
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(chunks))) as pool:
            futures = {pool.submit(work, chunk, keep_runs): i
                       for i, chunk in enumerate(chunks)}
            for future in as_completed(futures):
                i = futures[future]
                try:
                    results[i] = future.result()
                except BrokenProcessPool as exc:  # a worker died (e.g. out of memory)
                    results[i] = [({**_row(p), "error": f"worker process died: {exc}"}, None)
                                  for p, _ in chunks[i]]
                progress.update(len(chunks[i]))
    progress.close()
    return [pair for i in sorted(results) for pair in results[i]]


def run_batch(patterns: list[str], out: str, jobs: int | None = None, pdf: bool = True,
              backend: str = "local", scheduler: str | None = None,
              monitor: str | None = None) -> int:
    """Analyse every run matched by ``patterns`` into ``out``; returns the exit code.

    ``backend="dask"`` runs the work on the dask scheduler at ``scheduler`` (a new local
    cluster of ``jobs`` workers when None); the local backend uses ``jobs`` processes.
    """
    if backend not in BACKENDS:
        raise UsageError(f"--backend: expected one of {', '.join(BACKENDS)}, received "
                         f"{backend!r}")
    if scheduler is not None and backend != "dask":
        raise UsageError(f"--scheduler {scheduler!r} needs --backend dask (received "
                         f"--backend {backend})")
    started = time.perf_counter()
    out_dir = Path(out)
    paths = expand_inputs(patterns, skip=out_dir.resolve())
    ensure_dir(out_dir, "batch output")
    jobs = jobs or os.cpu_count() or 1
    stems = report_names(paths)
    tasks = [(p, str(out_dir / f"{stem}.pdf") if pdf else None)
             for p, stem in zip(paths, stems, strict=True)]
    pairs = _execute(tasks, jobs, keep_runs=pdf, scheduler=scheduler, backend=backend,
                     monitor=monitor)
    summary = pd.DataFrame([row for row, _ in pairs], columns=COLUMNS)
    for column in ("best_epoch", "epochs"):
        summary[column] = pd.to_numeric(summary[column], errors="coerce").astype("Int64")
    ok = summary["verdict"].notna()
    names = summary_names(list(summary["run_name"]), list(summary["path"]),
                          dict(zip(paths, stems, strict=True)))
    summary["run_name"] = names
    with atomic_path(out_dir / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    wrote = [str(out_dir / "summary.csv")]
    if pdf and ok.any():
        runs = {name: run for name, (_, run) in zip(names, pairs, strict=True)
                if run is not None}
        from gapdoctor.report import write_overview

        try:
            with atomic_path(out_dir / "overview.pdf") as tmp:
                write_overview(summary, runs, tmp)
            wrote.append(str(out_dir / "overview.pdf"))
        except OSError as exc:
            raise UsageError(f"{out_dir / 'overview.pdf'}: cannot write ({exc})") from None
        except Exception as exc:  # the summary is written; a drawing bug must not hide it
            print(f"gapdoctor: warning: overview.pdf failed ({type(exc).__name__}: {exc})",
                  file=sys.stderr)
    errors = int(summary["error"].notna().sum())
    verdicts = summary.loc[summary["verdict"].notna(), "verdict"].value_counts()
    print(f"analysed {len(summary)} runs in {time.perf_counter() - started:.1f} s "
          f"({errors} with errors); verdicts: "
          + (", ".join(f"{v} {n}" for v, n in verdicts.items()) or "none")
          + _gap_note(summary))
    print("wrote " + ", ".join(wrote))
    if not ok.any():
        print(f"gapdoctor: error: none of the {len(summary)} runs could be read "
              f"(see {one_line(out_dir / 'summary.csv')})", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _gap_note(summary: pd.DataFrame) -> str:
    """How many "healthy" runs carry a train/validation gap that no cause explains."""
    n = int(pd.to_numeric(summary["unexplained_gap"], errors="coerce").notna().sum())
    return (f" ({n} of the healthy with a real gap no cause explains: column unexplained_gap)"
            if n else "")
