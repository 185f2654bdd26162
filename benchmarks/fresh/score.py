"""Score gapdoctor on the fresh test set, with the calibration in force (read once, at the end).

    python benchmarks/fresh/score.py [--out benchmarks/fresh/out] [--jobs 2] [--all]
        [--limit N] [--json PATH] [--table PATH]

Diagnoses every kept fresh record (OUT/kept.csv from check.py; ``--all``: every ok record)
exactly as benchmarks/diagnosis/heldout.py diagnoses the held-out part (its
``diagnose_corpus``: declared weights, then the shipped ``calibration.json`` applied to the
logits) and prints its figures (benchmarks/diagnosis/scoring.py): top-1 and top-3 on faulty
runs, false alarms on healthy runs, per-cause precision/recall, confusion, reliability, ECE
and Brier score.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pandas as pd

from benchmarks.diagnosis.heldout import diagnose_corpus
from benchmarks.diagnosis.scoring import (
    figures,
    print_figures,
    shipped_calibration,
    with_shipped_verdicts,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = Path(__file__).parent / "out"


def _resolve(run_dir: str, out: Path) -> str:
    """A manifest's run directory as a path that exists: as written (absolute, or relative to
    the working directory), else relative to this repository, else relative to the repository
    that holds ``out`` (OUT = <repo>/benchmarks/<set>/out)."""
    if not run_dir:
        return run_dir
    candidates = [Path(run_dir), ROOT / run_dir, out.resolve().parents[2] / run_dir]
    return str(next((c for c in candidates if c.exists()), candidates[1]))


def main(argv: list[str] | None = None, name: str = "fresh", default_out: Path = DEFAULT_OUT,
         description: str | None = None) -> int:
    """Score one fresh set (``name`` labels the printout and the JSON; benchmarks/fresh2 reuses
    this with its own output directory)."""
    parser = argparse.ArgumentParser(description=description or __doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default_out)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--all", action="store_true", help="ignore kept.csv (every ok record)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N records (a smoke test)")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    parser.add_argument("--table", type=Path, help="write every diagnosed run as CSV here")
    args = parser.parse_args(argv)
    manifest = pd.read_csv(args.out / "manifest.csv")
    manifest["run_dir"] = [_resolve(p, args.out) for p in manifest["run_dir"].fillna("")]
    if not args.all:
        kept = pd.read_csv(args.out / "kept.csv")
        manifest = manifest[manifest["case_id"].isin(kept.loc[kept["kept"] == 1, "case_id"])]
    if args.limit:
        manifest = manifest.head(args.limit)
    table = diagnose_corpus(manifest, args.jobs)
    if args.table:
        with_shipped_verdicts(table, shipped_calibration()).to_csv(args.table, index=False)
    errors = int(table["error"].notna().sum()) if "error" in table else 0
    print(f"{len(table)} diagnosed {name} runs ({errors} load errors); 'test' and 'held-out' "
          f"below are the {name} set (benchmarks/diagnosis/scoring.py's labels)")
    result = {name: figures(table, shipped_calibration())}
    print_figures(f"{name} test set, calibration in force", {"test": result[name]})
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
