"""How specific are the two reads of "validation contradicts the training labels"? Per cause.

    python benchmarks/diagnosis/agreement_reads.py [--jobs 2] [--csv PATH]
        [--set corpus] [--set fresh3 ...]

For every ok run of the fault corpus (split into its development and held-out parts) and of
the fresh sets present on disk, prints per injected cause how often each read reaches the
start and the middle of its ramp (``DISAGREE_RANGE`` for the reverse reference,
``SPLITS_RANGE`` for the neighbours across the splits, each times its trust), and the
largest value. It reads facts only (:class:`~gapdoctor.analysis.context.Context`), no rule,
so it answers "which causes raise this fact" before anyone weighs it.

Example (2026-11-28): both reads are silent on every clean-label cause except a few
neighbour reads of 4-5.3 standard errors, but they fire on pipeline bugs that remap or
offset the *validation* labels as often as on wrong *training* labels: the reads cannot say
which split is wrong. About 5 minutes for the corpus on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import pandas as pd

from benchmarks.diagnosis.heldout import CORPUS, split
from gapdoctor.analysis.label_agreement import DISAGREE_RANGE, SPLITS_RANGE
from gapdoctor.analysis.ramps import ramp

BENCHMARKS = Path(__file__).resolve().parents[1]
READS = {"reverse": DISAGREE_RANGE, "splits": SPLITS_RANGE}


def _reads(row: dict[str, Any]) -> dict[str, Any]:
    warnings.filterwarnings("ignore")
    from gapdoctor import load_run
    from gapdoctor.analysis.context import Context

    out: dict[str, Any] = {"case_id": row["case_id"], "set": row["set"]}
    try:
        ctx = Context(load_run(row["run_dir"]))
        for name, (_, z, trust, _) in (("reverse", ctx.label_disagreement),
                                       ("splits", ctx.split_disagreement)):
            out[f"{name}_z"], out[f"{name}_trust"] = z, trust
    except Exception as exc:  # a benchmark reports, never stops
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


def _manifest(name: str) -> pd.DataFrame:
    out = CORPUS if name == "corpus" else BENCHMARKS / name / "out"
    table = pd.read_csv(out / "manifest.csv")
    table = table[table["status"] == "ok"].copy()
    if name != "corpus" and (out / "kept.csv").exists():
        kept = pd.read_csv(out / "kept.csv")
        table = table[table["case_id"].isin(kept.loc[kept["kept"] == 1, "case_id"])]
    root = out.parents[2]
    table["run_dir"] = [str(p if Path(p).is_absolute() else root / p) for p in table["run_dir"]]
    table["set"] = (np.where(split(table), "corpus held-out", "corpus development")
                    if name == "corpus" else name)
    return table


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per set and cause: runs, reads past the ramp's start / half way (trusted), largest z."""
    rows = []
    for (where, cause), g in table.groupby(["set", "cause"]):
        row: dict[str, Any] = {"set": where, "cause": cause, "runs": len(g)}
        for name, (lo, hi) in READS.items():
            z, trust = g[f"{name}_z"].fillna(-np.inf), g[f"{name}_trust"].fillna(0.0)
            strength = np.array([ramp(v, lo, hi) for v in z]) * trust.to_numpy()
            row[f"{name} >0"] = int((strength > 0).sum())
            row[f"{name} half+"] = int((strength >= 0.5).sum())
            row[f"{name} max z"] = round(float(g[f"{name}_z"].max()), 1)
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--set", action="append", dest="sets",
                        help="corpus or a fresh set's folder name (default: all present)")
    parser.add_argument("--csv", type=Path, help="write every run's reads here")
    args = parser.parse_args(argv)
    names = args.sets or ["corpus", *sorted(p.parent.name for p in BENCHMARKS.glob("fresh*/out"))]
    present = [n for n in names if (CORPUS if n == "corpus" else BENCHMARKS / n / "out").exists()]
    if not present:
        print("no corpus or fresh set on disk: train one first (benchmarks/corpus/run.py)")
        return 2
    manifest = pd.concat([_manifest(n) for n in present], ignore_index=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        reads = pd.DataFrame(pool.map(_reads, manifest.to_dict("records"), chunksize=4))
    table = manifest[["case_id", "set", "cause", "implementation"]].merge(reads, on=["case_id", "set"])
    if args.csv:
        table.to_csv(args.csv, index=False)
    errors = int(table["error"].notna().sum()) if "error" in table else 0
    print(f"{len(table)} runs ({errors} unreadable); reverse reference ramp {DISAGREE_RANGE}, "
          f"splits ramp {SPLITS_RANGE} (standard errors, times trust)")
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(summary(table).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
