"""Train every case of the fresh test set with GapDoctor attached (records for offline
diagnosis), with the corpus's own runner pieces.

    python benchmarks/fresh/run.py --out benchmarks/fresh/out --jobs 2 [--list] [--limit N]
        [--case ID] [--force]

OUT/runs/<case_id>/ and OUT/manifest.csv exactly as benchmarks/corpus/run.py writes them
(same columns; resumable; a failing case is recorded, not fatal).
"""

from __future__ import annotations

import argparse
import sys
import time
from multiprocessing import get_context
from pathlib import Path
from typing import Any

if __package__ in (None, ""):   # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pandas as pd

from benchmarks.corpus.run import _complete, _init_worker, _save, select
from benchmarks.fresh.cases import design, task

DEFAULT_OUT = Path(__file__).parent / "out"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--case", default="", help="case ids containing this text")
    parser.add_argument("--limit", type=int, default=0, help="at most N pending cases")
    parser.add_argument("--list", action="store_true", help="print the plan and exit")
    parser.add_argument("--force", action="store_true", help="re-run completed cases too")
    args = parser.parse_args(argv)
    everything = design()
    plans = select(everything, case=args.case)
    if args.list:
        for p in plans:
            print(f"{p.case_id:70s} {p.implementation:40s} sev={p.severity:.2f} seed={p.seed}")
        print(f"{len(plans)} cases")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "manifest.csv"
    manifest: dict[str, dict[str, Any]] = {}
    if path.exists():
        old = pd.read_csv(path, keep_default_na=False)
        known = {p.case_id for p in everything}
        manifest = {r["case_id"]: r.to_dict() for _, r in old.iterrows() if r["case_id"] in known}
    pending = [p for p in plans if args.force or p.case_id not in manifest
               or not _complete(pd.Series(manifest[p.case_id]), out)]
    if args.limit:
        pending = pending[: args.limit]
    print(f"{len(pending)} of {len(plans)} cases to run", file=sys.stderr, flush=True)
    start = time.perf_counter()
    ctx = get_context("spawn")
    with ctx.Pool(args.jobs, initializer=_init_worker, maxtasksperchild=60) as pool:
        for i, row in enumerate(pool.imap_unordered(task, [(p, str(out)) for p in pending]), 1):
            manifest[row["case_id"]] = row
            _save(manifest, path)
            note = row["error"][:80] if row["status"] != "ok" else f"{row.get('train_seconds')} s"
            print(f"[{i}/{len(pending)}] {row['case_id']:64s} {row['status']:6s} {note}",
                  file=sys.stderr, flush=True)
    rows = pd.DataFrame(list(manifest.values()))
    done = rows[rows["status"] == "ok"]
    print(f"{len(done)} ok, {len(rows) - len(done)} failed; wall "
          f"{time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
