"""How long ``gapdoctor batch --no-pdf`` takes on 1,000 saved Keras History JSON files.

Generates 1,000 histories of realistic curves (healthy, overfitting, noisy-label-like
plateaus, unstable optimisation; 20-120 epochs; some with ``validation_freq=2`` and a
few NaN losses) in a temporary directory, then times the CLI as a subprocess with
``--jobs 2`` (target: under 15 s) and with ``--jobs 1`` for the speed-up ratio. ``--dask``
also times ``--backend dask`` on a local dask cluster of ``--jobs`` workers (which the CLI
starts itself: its start-up is included) and checks that its summary equals the local one.

``--baseline REF`` also times ``--jobs N`` with the code of a git revision (``git archive``,
extracted to a temporary folder) or of a source folder, right after this tree's run, and
checks that both summaries are equal.

Usage:
    .venv/bin/python benchmarks/batch_speed.py [--runs 1000] [--jobs 2] [--dask]
        [--baseline REF]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

GAPDOCTOR = Path(sys.executable).parent / "gapdoctor"
ROOT = Path(__file__).resolve().parent.parent
CLI = "import sys; from gapdoctor.cli.main import main; sys.exit(main())"
KINDS = ("healthy", "overfitting", "plateau", "unstable")


def make_history(rng: np.random.Generator, kind: str) -> dict[str, list[float | None]]:
    """One History dict of a run of the given ``kind``."""
    n = int(rng.integers(20, 121))
    e = np.arange(n)
    tau = rng.uniform(4, 15)
    loss = 2.3 * np.exp(-e / tau) + rng.uniform(0.01, 0.2)
    val_loss = loss + rng.uniform(0.02, 0.1)
    if kind == "overfitting":
        turn = int(rng.integers(5, max(6, n // 2)))
        val_loss = val_loss + rng.uniform(0.005, 0.03) * np.maximum(e - turn, 0)
    elif kind == "plateau":
        val_loss = np.maximum(val_loss, rng.uniform(0.8, 1.2))
    elif kind == "unstable":
        loss = loss + np.abs(rng.normal(0, 0.3, n))
        val_loss = val_loss + np.abs(rng.normal(0, 0.4, n))
    noise = lambda: rng.normal(0, 0.01, n)  # noqa: E731
    acc = np.clip(1 - loss / 2.5 + noise(), 0, 1)
    val_acc = np.clip(1 - val_loss / 2.5 + noise(), 0, 1)
    hist = {"loss": loss + noise(), "accuracy": acc, "val_loss": val_loss + noise(),
            "val_accuracy": val_acc}
    out: dict[str, list[float | None]] = {k: [float(x) for x in v] for k, v in hist.items()}
    if rng.random() < 0.15:  # fit(validation_freq=2)
        out = {k: (v[1::2] if k.startswith("val_") else v) for k, v in out.items()}
    if rng.random() < 0.03:  # a run that diverged
        out["loss"][-3:] = [float("nan")] * 3
    return out


def write_histories(folder: Path, runs: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for i in range(runs):
        kind = KINDS[i % len(KINDS)]
        (folder / f"run{i:04d}-{kind}.json").write_text(json.dumps(make_history(rng, kind)))


def extract(ref: str, into: Path) -> Path:
    """The tree of git revision ``ref`` (or the folder ``ref`` itself)."""
    if Path(ref).is_dir():
        return Path(ref)
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def time_batch(folder: Path, out: Path, jobs: int, *extra: str, tree: Path | None = None
               ) -> float:
    """Wall seconds of one ``gapdoctor batch`` subprocess (CPU seconds printed too), of the
    code in ``tree`` when given."""
    args = ["batch", str(folder / "*.json"), "--out", str(out), "--no-pdf", "--jobs", str(jobs),
            *extra]
    cmd, env = [str(GAPDOCTOR), *args], None
    if tree is not None:
        cmd, env = [sys.executable, "-c", CLI, *args], {**os.environ, "PYTHONPATH": str(tree)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=folder.parent)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if proc.returncode != 0:
        raise SystemExit(f"batch failed ({proc.returncode}): {proc.stderr[-2000:]}")
    label = f"--jobs {jobs}{' ' + ' '.join(extra) if extra else ''}" + (
        f" ({tree.name})" if tree is not None else "")
    print(f"  {label}: {seconds:6.1f} s wall, {cpu:6.1f} s CPU (load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)   {proc.stdout.splitlines()[0]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--dask", action="store_true", help="also time --backend dask")
    parser.add_argument("--baseline", metavar="REF", help="also time this git revision")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "histories"
        folder.mkdir()
        write_histories(folder, args.runs)
        print(f"gapdoctor batch --no-pdf over {args.runs} History JSON files:")
        parallel = time_batch(folder, Path(tmp) / "out_par", args.jobs)
        if args.baseline:
            tree = extract(args.baseline, Path(tmp) / "baseline")
            base = time_batch(folder, Path(tmp) / "out_base", args.jobs, tree=tree)
            same = pd.read_csv(Path(tmp) / "out_par" / "summary.csv").equals(
                pd.read_csv(Path(tmp) / "out_base" / "summary.csv"))
            print(f"--jobs {args.jobs}: this tree {parallel:.1f} s vs {args.baseline} "
                  f"{base:.1f} s: {base / parallel:.2f}x faster; summaries "
                  f"{'equal' if same else 'DIFFER'}")
        serial = time_batch(folder, Path(tmp) / "out_ser", 1)
        summary = pd.read_csv(Path(tmp) / "out_par" / "summary.csv")
        errors = int(summary["error"].notna().sum())
        if args.dask:
            on_dask = time_batch(folder, Path(tmp) / "out_dask", args.jobs, "--backend", "dask")
            same = summary.equals(pd.read_csv(Path(tmp) / "out_dask" / "summary.csv"))
            print(f"--backend dask (local cluster, {args.jobs} workers): {on_dask:.1f} s; "
                  f"summary {'equals' if same else 'DIFFERS FROM'} the local backend's")
    print(f"--jobs {args.jobs} {parallel:.1f} s vs --jobs 1 {serial:.1f} s: "
          f"{serial / parallel:.2f}x faster; {args.runs / parallel:.0f} runs/s; "
          f"{errors} errors (target < 15 s: {'met' if parallel < 15 else 'MISSED'})")
    print("verdicts: " + ", ".join(f"{k} {v}" for k, v in
                                   summary["verdict"].value_counts().items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
