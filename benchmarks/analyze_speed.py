"""How long ``gapdoctor analyze`` takes on a 100-epoch run record, JSON + PDF, end to end.

Builds a realistic synthetic record (curves, eval-mode split metrics, per-class table,
per-layer statistics, per-sample margins and confusion matrices for 10 classes and 1,000
probe samples), then times the CLI as a subprocess. Target: under 3 s.

Usage:
    .venv/bin/python benchmarks/analyze_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gapdoctor.record import RunRecord, save_record

EPOCHS, CLASSES, PROBE, VAL = 100, 10, 1000, 360
GAPDOCTOR = Path(sys.executable).parent / "gapdoctor"


def make_record(run_dir: Path, seed: int = 0) -> Path:
    """Write a 100-epoch record of an overfitting digits-like run into ``run_dir``."""
    rng = np.random.default_rng(seed)
    e = np.arange(EPOCHS)
    loss = 2.2 * np.exp(-e / 12) + 0.02 + rng.normal(0, 0.01, EPOCHS)
    val_loss = 0.55 + 1.6 * np.exp(-e / 10) + 0.004 * np.maximum(e - 25, 0)
    acc = 1 - 0.9 * np.exp(-e / 10)
    val_acc = 0.88 - 0.78 * np.exp(-e / 9) - 0.0005 * np.maximum(e - 25, 0)
    run = RunRecord.empty(source="gapdoctor", run_name="bench-100")
    run.curves = pd.DataFrame({"loss": loss, "accuracy": acc, "val_loss": val_loss,
                               "val_accuracy": val_acc, "lr": 1e-3, "epoch_time": 0.3},
                              index=pd.Index(e, name="epoch"))
    run.meta.update(task="multiclass", n_classes=CLASSES, monitor="val_accuracy",
                    monitor_mode="max", class_names=[f"digit {i}" for i in range(CLASSES)],
                    label_format="sparse", output="probabilities", epochs_planned=EPOCHS,
                    completed=True, data={"n_train": 1437, "n_val": VAL,
                                          "n_train_probe": PROBE, "n_val_used": VAL})
    rows = [(i, s, lo, ac, 0.05, n) for i in e for s, lo, ac, n in
            (("val", val_loss[i], val_acc[i], VAL), ("train", loss[i], acc[i], PROBE))]
    run.split_metrics = pd.DataFrame(rows, columns=["epoch", "split", "loss", "accuracy",
                                                    "ece", "n"])
    run.per_class = pd.DataFrame(
        [(i, "val", c, f"digit {c}", val_acc[i], val_acc[i] - 0.02 * (c % 3), val_acc[i], 36)
         for i in e for c in range(CLASSES)],
        columns=["epoch", "split", "class_index", "class_name", "precision", "recall", "f1",
                 "support"])
    run.layers = pd.DataFrame(
        [(i, f"dense_{k}", 5 + 0.01 * i, 1e-3 / (1 + i), 0.1 / (1 + i), 0.05 * k, 0.0)
         for i in e for k in range(4)],
        columns=["epoch", "layer", "weight_norm", "update_ratio", "grad_norm",
                 "dead_fraction", "nonfinite"])
    labels = rng.integers(0, CLASSES, PROBE)
    margins = np.clip(rng.normal(0.0, 0.3, (EPOCHS, PROBE)).cumsum(0) / 10, -1, 1)
    confusion = np.zeros((EPOCHS, CLASSES, CLASSES), dtype=np.int64)
    confusion[:, np.arange(CLASSES), np.arange(CLASSES)] = 32
    confusion[:, 0, 1] = 4
    probe_proba = rng.dirichlet(np.ones(CLASSES), PROBE).astype(np.float32)
    val_proba = rng.dirichlet(np.ones(CLASSES), VAL).astype(np.float32)
    run.arrays = {"margins": margins.astype(np.float32), "correct": margins > 0,
                  "probe_index": np.arange(PROBE), "probe_labels": labels,
                  "probe_proba_last": probe_proba, "val_labels": rng.integers(0, CLASSES, VAL),
                  "val_proba_last": val_proba, "val_proba_best": val_proba,
                  "confusion_val": confusion, "confusion_train": confusion,
                  "x_train": rng.normal(size=(PROBE, 64)).astype(np.float32),
                  "x_val": rng.normal(size=(VAL, 64)).astype(np.float32),
                  "y_val_features": rng.integers(0, CLASSES, VAL)}
    save_record(run, run_dir, seq=EPOCHS)
    return run_dir


CPU: list[float] = []  # CPU seconds (user + sys) of each timed subprocess


def timed(args: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall seconds of one subprocess run; its CPU seconds are appended to ``CPU``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = make_record(Path(tmp) / "bench-100")
        cmd = [str(GAPDOCTOR), "analyze", str(run_dir), "--json", f"{tmp}/d.json",
               "--pdf", f"{tmp}/r.pdf"]
        load = os.getloadavg()[0]
        times, cpu = [], []
        for _ in range(args.repeat):
            seconds, proc = timed(cmd)
            if proc.returncode not in (0, 1):
                print(proc.stdout, proc.stderr, sep="\n")
                return 1
            times.append(seconds)
            cpu.append(CPU[-1])
        startup = min(timed([sys.executable, "-c", "import gapdoctor"])[0] for _ in range(2))
        no_pdf = min(timed(cmd[:-2])[0] for _ in range(2))
        pdf_kb = Path(f"{tmp}/r.pdf").stat().st_size / 1024
    best, median = min(times), statistics.median(times)
    print(f"gapdoctor analyze, {EPOCHS}-epoch record, JSON + PDF ({pdf_kb:.0f} KB): "
          f"best {best:.2f} s, median {median:.2f} s over {args.repeat} runs "
          f"(target < 3 s: {'met' if median < 3 else 'MISSED'})")
    print(f"  of which: python + import gapdoctor {startup:.2f} s; analyze without PDF "
          f"{no_pdf:.2f} s, so the PDF costs about {best - no_pdf:.2f} s")
    print(f"  CPU time (user + sys) median {statistics.median(cpu):.2f} s; load average "
          f"{load:.1f} on {os.cpu_count()} CPUs when started (wall times grow with load)")
    print(f"  the run's{proc.stdout.splitlines()[2] if proc.stdout else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
