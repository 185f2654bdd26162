"""Fault-injection benchmark: train real Keras models with known faults, diagnose, score.

    python benchmarks/diagnosis/run.py                 # full grid: 10 faults x 2 datasets x
                                                       # 2 architectures x 2 severities x 2 seeds
    python benchmarks/diagnosis/run.py --subset fast   # one run per fault, 11 in all (tests)

Prints the confusion matrix of expected cause vs verdict, top-1 and top-3 accuracy over the
faulty runs, and the false-alarm rate on healthy runs. A healthy run counts as correct
when its verdict is "healthy"; a faulty run is top-3 correct when its cause is among the
three highest-scoring findings. Records are kept under --out, so rules can be re-checked
without retraining (--rediagnose).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from gapdoctor import Diagnosis, diagnose, load_run
from gapdoctor.faults import ARCHS, DATASETS, FAULTS

TARGETS = {"top1": 0.90, "top3": 0.98, "false_alarm": 0.05}
DEFAULT_OUT = Path(__file__).parent / "out"


def grid(subset: str) -> list[tuple[str, str, str, int, int]]:
    """(fault, dataset, arch, severity, seed) of every run in the chosen subset."""
    if subset == "fast":
        # every fault once at the strong severity, the four dataset x architecture pairs in
        # turn, and a second healthy run on the pair the first one missed: eleven trainings
        # keep the suite's time down; the full grid and the held-out corpus hold the mild cases
        fast = [(f, DATASETS[i % 2], ARCHS[(i // 2) % 2], 2, 0) for i, f in enumerate(FAULTS)]
        return fast + [("healthy", DATASETS[1], ARCHS[1], 1, 0)]
    return list(itertools.product(FAULTS, DATASETS, ARCHS, (1, 2), (0, 1)))


def _run_one(task: tuple[tuple[str, str, str, int, int], str]) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # one thread per worker: tiny models gain nothing from intra-op parallelism, and the
    # workers already fill the cores
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    from gapdoctor.faults import build_case, train_case

    spec, records = task
    start = time.perf_counter()
    doctor = train_case(build_case(*spec), records, report=False, verbose=0)
    return _row(spec, doctor.diagnosis or diagnose(doctor.record), time.perf_counter() - start)


def _rediagnose(task: tuple[tuple[str, str, str, int, int], str]) -> dict:
    spec, records = task
    start = time.perf_counter()
    name = "{}-{}-{}-s{}-r{}".format(*spec)
    return _row(spec, diagnose(load_run(Path(records) / name)), time.perf_counter() - start)


def _row(spec: tuple[str, str, str, int, int], d: Diagnosis, seconds: float) -> dict:
    fault, dataset, arch, severity, seed = spec
    ranked = [f.cause for f in d.findings]
    return {"fault": fault, "dataset": dataset, "arch": arch, "severity": severity,
            "seed": seed, "verdict": d.verdict, "top3": ",".join(ranked[:3]),
            "rank": ranked.index(fault) + 1 if fault in ranked else None,
            **{f"score_{f.cause}": round(f.score, 3) for f in d.findings},
            "errors": "; ".join(e["error"] for e in d.errors),
            "seconds": round(seconds, 2)}


def score(results: pd.DataFrame) -> dict[str, float]:
    """Top-1, top-3 (faulty runs) and false-alarm rate (healthy runs)."""
    faulty = results[results["fault"] != "healthy"]
    healthy = results[results["fault"] == "healthy"]
    top1 = (faulty["verdict"] == faulty["fault"]).mean() if len(faulty) else float("nan")
    top3 = (faulty["rank"].fillna(99) <= 3).mean() if len(faulty) else float("nan")
    false_alarm = (healthy["verdict"] != "healthy").mean() if len(healthy) else float("nan")
    overall = (results["verdict"] == results["fault"]).mean()
    return {"top1": float(top1), "top3": float(top3), "false_alarm": float(false_alarm),
            "overall_top1": float(overall.mean()), "runs": len(results)}


def run_benchmark(subset: str = "full", jobs: int = 2, out: str | Path = DEFAULT_OUT,
                  faults: tuple[str, ...] = (), rediagnose: bool = False,
                  progress: bool = True) -> pd.DataFrame:
    """Train (or re-diagnose) every run of ``subset``; one row per run.

    Records are kept under ``out/records-<subset>/<case name>``.
    """
    specs = [s for s in grid(subset) if not faults or s[0] in faults]
    records = str(Path(out) / f"records-{subset}")
    work = _rediagnose if rediagnose else _run_one
    rows = []
    # spawn: forking a process that already initialised TensorFlow can deadlock
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        for i, row in enumerate(pool.map(work, [(s, records) for s in specs]), 1):
            rows.append(row)
            if progress:
                print(f"[{i}/{len(specs)}] {row['fault']:22s} {row['dataset']:7s} {row['arch']} "
                      f"s{row['severity']} r{row['seed']} -> {row['verdict']:22s} ({row['top3']})",
                      file=sys.stderr, flush=True)
    results = pd.DataFrame(rows)
    Path(out).mkdir(parents=True, exist_ok=True)
    results.to_csv(Path(out) / f"results-{subset}.csv", index=False)
    return results


def report(results: pd.DataFrame) -> str:
    """The confusion matrix and the headline figures, as printed text."""
    labels = list(FAULTS)
    matrix = pd.crosstab(results["fault"], results["verdict"]).reindex(
        index=labels, columns=labels, fill_value=0)
    s = score(results)
    lines = ["confusion matrix (rows: injected fault, columns: verdict)",
             matrix.rename(columns=lambda c: c[:8]).to_string(line_width=250), "",
             f"runs {s['runs']}  top-1 {s['top1']:.3f}  top-3 {s['top3']:.3f}  "
             f"false alarms {s['false_alarm']:.3f}  (targets: top-1 >= {TARGETS['top1']}, "
             f"top-3 >= {TARGETS['top3']}, false alarms <= {TARGETS['false_alarm']})"]
    failed = results[results["errors"].fillna("") != ""]
    if len(failed):
        lines.append(f"{len(failed)} runs had rule errors, e.g.: {failed['errors'].iloc[0]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", choices=("full", "fast"), default="full")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--faults", default="", help="comma-separated faults to keep")
    parser.add_argument("--rediagnose", action="store_true",
                        help="re-run only the diagnosis on the records a previous run kept")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = run_benchmark(args.subset, args.jobs, args.out,
                            tuple(f for f in args.faults.split(",") if f), args.rediagnose)
    print(report(results))
    print(f"wall time {time.perf_counter() - start:.0f} s with {args.jobs} jobs; "
          f"median seconds per run {results['seconds'].median():.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
