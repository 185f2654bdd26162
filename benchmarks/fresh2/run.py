"""Train every case of the second fresh test set with GapDoctor attached (records for
offline diagnosis only), with the corpus's runner and fresh2's own case builder.

    python benchmarks/fresh2/run.py --out benchmarks/fresh2/out --jobs 2 [--list] [--limit N]
        [--case ID] [--force]

OUT/runs/<case_id>/ and OUT/manifest.csv exactly as benchmarks/corpus/run.py writes them
(same columns; resumable; a failing case is recorded, not fatal).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):   # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


from benchmarks.corpus.run import print_plans, run_cases, select
from benchmarks.fresh2.cases import design, task

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
        return print_plans(plans)
    return run_cases(everything, plans, args, task)


if __name__ == "__main__":
    raise SystemExit(main())
