"""Train every corpus case with GapDoctor attached and keep the records for offline diagnosis.

    python benchmarks/corpus/run.py --out benchmarks/corpus/out --jobs 2
        [--only CAUSE] [--impl IMPL] [--case ID] [--limit N] [--list] [--force]

Each case is a real Keras training with a known fault; its record lands in
OUT/runs/<case_id>/ and one row in OUT/manifest.csv (case fields, run_dir, train_seconds,
status, error and a short summary of the curves). Resumable: a case whose row says "ok" and
whose record is complete is skipped. A failing case is recorded and the run goes on.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path
from typing import Any

if __package__ in (None, ""):   # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pandas as pd

from benchmarks.corpus.cases import CAUSES, Plan, design

DEFAULT_OUT = Path(__file__).parent / "out"


def _init_worker() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    import warnings

    warnings.filterwarnings("ignore")
    import keras  # noqa: F401 - pay the TensorFlow import once per worker


def _curves(history: dict[str, list[float]], metric: str) -> dict[str, Any]:
    """A few numbers that show at a glance whether the fault bit."""
    import numpy as np

    def get(key: str, how: str) -> float | None:
        values = np.asarray(history.get(key, []), float)
        if not len(values):
            return None
        finite = values[np.isfinite(values)]
        if how == "nan":
            return int(len(finite) < len(values))
        if not len(finite):
            return None
        pick = {"first": values[0], "last": values[-1], "min": finite.min(),
                "max": finite.max()}[how]
        return round(float(pick), 4)

    return {"epochs_run": len(history.get("loss", [])), "monitor": metric,
            "loss_first": get("loss", "first"), "loss_last": get("loss", "last"),
            "loss_min": get("loss", "min"), "val_loss_first": get("val_loss", "first"),
            "val_loss_last": get("val_loss", "last"), "val_loss_min": get("val_loss", "min"),
            "metric_last": get(metric, "last"), "val_metric_first": get(f"val_{metric}", "first"),
            "val_metric_last": get(f"val_{metric}", "last"),
            "val_metric_max": get(f"val_{metric}", "max"),
            "nan_loss": get("loss", "nan")}


def train_case(plan: Plan, out: str, build: Callable | None = None, model_fn: Callable | None = None,
               **doctor_kwargs: Any) -> tuple[Any, Any, Any, float]:
    """Build the case and its model, and fit it with GapDoctor attached (recording into
    ``out/runs/<case_id>``): ``(case, doctor, history, train seconds)``. ``build`` and
    ``model_fn`` replace the corpus's case builder and model factory (benchmarks/fresh2)."""
    import keras

    from benchmarks.corpus.cases import build_case
    from benchmarks.corpus.models import build_model, fit_kwargs, targets
    from gapdoctor import GapDoctor

    build_model = model_fn or build_model
    case = (build or build_case)(plan)
    keras.backend.clear_session()
    model = build_model(case.spec, case.x_train.shape[1:], case.n_classes,
                        case.source.vocab, plan.seed)
    y_train = targets(case.spec, case.y_train, case.n_classes)
    y_val = targets(case.spec, case.y_val, case.n_classes)
    doctor = GapDoctor(validation_data=(case.x_val, y_val), train_data=(case.x_train, y_train),
                       output_dir=str(Path(out) / "runs"), run_name=plan.case_id,
                       class_names=case.class_names, **doctor_kwargs)
    kwargs = fit_kwargs(case.spec, case.y_train, case.n_classes)
    kwargs["callbacks"].append(doctor)
    start = time.perf_counter()
    history = model.fit(case.x_train, y_train, validation_data=(case.x_val, y_val), **kwargs)
    return case, doctor, history, time.perf_counter() - start


def run_case(plan: Plan, out: str, train: Callable = train_case) -> dict[str, Any]:
    """Build, train (``train``: the corpus's :func:`train_case` unless a set brings its own)
    and record one case; never raises (failures land in the row)."""
    import shutil
    import traceback

    row: dict[str, Any] = {"case_id": plan.case_id, "implementation": plan.implementation,
                           "source": plan.source, "model_family": plan.family,
                           "severity": plan.severity, "seed": plan.seed}
    run_dir = Path(out) / "runs" / plan.case_id
    try:
        if run_dir.exists():
            shutil.rmtree(run_dir)   # a half-written record of an earlier attempt
        case, doctor, history, seconds = train(plan, out, diagnose=False, report=False,
                                               verbose=0)
        row.update(case.record())
        row["train_seconds"] = round(seconds, 2)
        metric = next((k for k in history.history if k not in ("loss", "learning_rate")
                       and not k.startswith("val_")), "loss")
        row.update(_curves(history.history, metric))
        failures = doctor.record.failures if doctor.record is not None else []
        row["run_dir"] = str(doctor.run_dir)
        row["probe_failures"] = "; ".join(sorted({f"{f['probe']}: {f['error'][:120]}"
                                                  for f in failures}))
        row["status"], row["error"] = "ok", ""
    except Exception as exc:  # noqa: BLE001 - one failing case must not stop the corpus
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}"[:500]
        row["traceback"] = traceback.format_exc()[-1500:]
    return row


def _task(args: tuple[Plan, str]) -> dict[str, Any]:
    return run_case(*args)


def _complete(row: pd.Series, out: Path) -> bool:
    run_dir = Path(str(row.get("run_dir", "")))
    return row.get("status") == "ok" and (run_dir / "record.json").exists()


def _save(manifest: dict[str, dict[str, Any]], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    pd.DataFrame(list(manifest.values())).to_csv(tmp, index=False)
    os.replace(tmp, path)


def select(plans: list[Plan], only: str = "", impl: str = "", case: str = "") -> list[Plan]:
    """The plans matching the filters (cause, implementation, case id substring)."""
    return [p for p in plans if (not only or p.implementation.split("/")[0] == only)
            and (not impl or p.implementation == impl) and (not case or case in p.case_id)]


def print_plans(plans: list) -> int:
    """``--list``: one line per case."""
    for p in plans:
        print(f"{p.case_id:70s} {p.implementation:40s} sev={p.severity:.2f} seed={p.seed}")
    print(f"{len(plans)} cases")
    return 0


def run_cases(everything: list, plans: list, args: argparse.Namespace,
              task: Callable[[tuple], dict[str, Any]]) -> int:
    """Run the pending ``plans`` (``args``: out, force, limit, jobs) with ``task`` in spawned
    workers, keeping OUT/manifest.csv (rows of cases ``everything`` no longer has go)."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "manifest.csv"
    manifest: dict[str, dict[str, Any]] = {}
    if path.exists():
        old = pd.read_csv(path, keep_default_na=False)
        known = {p.case_id for p in everything}   # rows of cases no longer designed go
        manifest = {r["case_id"]: r.to_dict() for _, r in old.iterrows()
                    if r["case_id"] in known}
    pending = [p for p in plans if args.force or p.case_id not in manifest
               or not _complete(pd.Series(manifest[p.case_id]), out)]
    if args.limit:
        pending = pending[: args.limit]
    print(f"{len(pending)} of {len(plans)} cases to run", file=sys.stderr, flush=True)
    start = time.perf_counter()
    ctx = get_context("spawn")   # forking a process that initialised TensorFlow can deadlock
    with ctx.Pool(args.jobs, initializer=_init_worker, maxtasksperchild=60) as pool:
        for i, row in enumerate(pool.imap_unordered(task, [(p, str(out)) for p in pending]), 1):
            manifest[row["case_id"]] = row
            _save(manifest, path)
            note = row["error"][:80] if row["status"] != "ok" else (
                f"{row.get('train_seconds')} s, val {row.get('val_metric_first')} -> "
                f"{row.get('val_metric_last')}")
            print(f"[{i}/{len(pending)}] {row['case_id']:64s} {row['status']:6s} {note}",
                  file=sys.stderr, flush=True)
    rows = pd.DataFrame(list(manifest.values()))
    done = rows[rows["status"] == "ok"]
    print(f"{len(done)} ok, {len(rows) - len(done)} failed; wall {time.perf_counter() - start:.0f} s;"
          f" training seconds total {pd.to_numeric(done['train_seconds']).sum():.0f}, median "
          f"{pd.to_numeric(done['train_seconds']).median():.1f}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", default="", choices=("",) + CAUSES, help="one cause")
    parser.add_argument("--impl", default="", help="one implementation, e.g. label_noise/pair")
    parser.add_argument("--case", default="", help="case ids containing this text")
    parser.add_argument("--limit", type=int, default=0, help="at most N pending cases")
    parser.add_argument("--list", action="store_true", help="print the design and exit")
    parser.add_argument("--force", action="store_true", help="re-run completed cases too")
    args = parser.parse_args(argv)
    everything = design()
    plans = select(everything, args.only, args.impl, args.case)
    if args.list:
        return print_plans(plans)
    return run_cases(everything, plans, args, _task)


if __name__ == "__main__":
    raise SystemExit(main())
