"""How long ``gapdoctor analyze`` takes on a 100-epoch run record, JSON + PDF, end to end.

Builds a realistic synthetic record (curves, eval-mode split metrics, per-class table,
per-layer statistics, per-sample margins and confusion matrices for 10 classes and 1,000
probe samples), then times the CLI as a subprocess. Target: under 1.5 s.

``--baseline REF`` also times the code of a git revision (``git archive REF``, extracted to
a temporary folder; the work tree is not touched) or of a source tree given as a folder,
alternating them run by run so that all see the same machine load, and prints them side by
side (repeat ``--baseline`` to compare several).

``--compiled`` byte-compiles gapdoctor's modules of every tree first (into their
``__pycache__``), as installing a wheel does: where ``PYTHONDONTWRITEBYTECODE`` is set and
no bytecode exists, each run compiles ~70 modules again (~0.1 s on the critical path).

Usage:
    .venv/bin/python benchmarks/analyze_speed.py [--repeat 3] [--baseline HEAD ...] [--compiled]
"""

from __future__ import annotations

import argparse
import compileall
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
TARGET = 1.5
ROOT = Path(__file__).resolve().parent.parent
CLI = "import sys; from gapdoctor.cli.main import main; sys.exit(main())"


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


def extract(ref: str, into: Path) -> Path:
    """The tree of git revision ``ref`` of this repository, extracted under ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def command(tree: Path, run_dir: Path, out: Path, pdf: bool = True) -> list[str]:
    cmd = [sys.executable, "-c", CLI, "analyze", str(run_dir), "--json", str(out / "d.json")]
    return cmd + (["--pdf", str(out / "r.pdf")] if pdf else [])


def run_in(tree: Path, cmd: list[str], cwd: Path) -> tuple[float, str]:
    """Wall seconds of ``cmd`` with ``tree`` first on the import path; CPU goes to CPU."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[3:]} failed in {tree}:\n{proc.stdout}\n{proc.stderr}")
    return wall, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", metavar="REF", action="append", default=[],
                        help="also time this git revision or source folder (repeatable)")
    parser.add_argument("--compiled", action="store_true",
                        help="byte-compile gapdoctor in every tree first, as a wheel install does")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        run_dir = make_record(tmp / "bench-100")
        trees = {"this tree": ROOT}
        for i, ref in enumerate(args.baseline):
            trees[ref] = Path(ref) if Path(ref).is_dir() else extract(ref, tmp / f"base{i}")
        if args.compiled:
            for tree in trees.values():
                compileall.compile_dir(tree / "gapdoctor", quiet=1)
        outs = {label: tmp / f"out{i}" for i, label in enumerate(trees)}
        for out in outs.values():
            out.mkdir()
        load = os.getloadavg()[0]
        times: dict[str, list[float]] = {label: [] for label in trees}
        cpu: dict[str, list[float]] = {label: [] for label in trees}
        stdout = ""
        for _ in range(args.repeat):  # alternate, so that both see the same load
            for label, tree in trees.items():
                seconds, out = run_in(tree, command(tree, run_dir, outs[label]), tmp)
                times[label].append(seconds)
                cpu[label].append(CPU[-1])
                stdout = stdout or out
        startup = min(run_in(ROOT, [sys.executable, "-c", "import gapdoctor"], tmp)[0]
                      for _ in range(2))
        no_pdf = min(run_in(ROOT, command(ROOT, run_dir, outs["this tree"], pdf=False),
                            tmp)[0] for _ in range(2))
        pdf_kb = {label: (outs[label] / "r.pdf").stat().st_size / 1024 for label in trees}
        load_end = os.getloadavg()[0]
    median = {label: statistics.median(t) for label, t in times.items()}
    for label in trees:
        print(f"gapdoctor analyze ({label}), {EPOCHS}-epoch record, JSON + PDF "
              f"({pdf_kb[label]:.0f} KB): best {min(times[label]):.2f} s, median "
              f"{median[label]:.2f} s over {args.repeat} runs; CPU (user + sys) median "
              f"{statistics.median(cpu[label]):.2f} s")
    mine = median["this tree"]
    print(f"  target < {TARGET} s: {'met' if mine < TARGET else 'MISSED'}"
          + "".join(f"; {median[ref] / mine:.2f}x faster than {ref}" for ref in args.baseline))
    print(f"  of which: python + import gapdoctor {startup:.2f} s; analyze without PDF "
          f"{no_pdf:.2f} s")
    print(f"  gapdoctor byte-compiled first: {'yes' if args.compiled else 'no'}")
    print(f"  load average {load:.1f} on {os.cpu_count()} CPUs when started, {load_end:.1f} "
          "when done (wall times grow with load; CPU times much less)")
    print(f"  the run's{stdout.splitlines()[2] if stdout else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
