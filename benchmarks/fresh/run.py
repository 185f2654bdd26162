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
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):   # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


from benchmarks.corpus.run import print_plans, run_cases, select
from benchmarks.fresh.cases import design, task

DEFAULT_OUT = Path(__file__).parent / "out"


def main(argv: list[str] | None = None, plan: Callable[[], list] = design,
         train: Callable = task, default_out: Path = DEFAULT_OUT, description: str | None = None) -> int:
    """Train one fresh set (benchmarks/fresh2 passes its own plan, task and output directory)."""
    parser = argparse.ArgumentParser(description=description or __doc__.splitlines()[0])
    parser.add_argument("--out", default=str(default_out))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--case", default="", help="case ids containing this text")
    parser.add_argument("--limit", type=int, default=0, help="at most N pending cases")
    parser.add_argument("--list", action="store_true", help="print the plan and exit")
    parser.add_argument("--force", action="store_true", help="re-run completed cases too")
    args = parser.parse_args(argv)
    everything = plan()
    plans = select(everything, case=args.case)
    if args.list:
        return print_plans(plans)
    return run_cases(everything, plans, args, train)


if __name__ == "__main__":
    raise SystemExit(main())
