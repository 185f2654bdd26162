"""Train every case of the sixteenth fresh test set with GapDoctor attached (records for offline
diagnosis only), with the corpus's runner and fresh16's own case builder.

    python benchmarks/fresh16/run.py --out benchmarks/fresh16/out --jobs 2 [--list] [--limit N]
        [--case ID] [--force]

OUT/runs/<case_id>/ and OUT/manifest.csv exactly as benchmarks/corpus/run.py writes them
(same columns; resumable; a failing case is recorded, not fatal). Records are written with
``GapDoctor(diagnose=False, report=False)`` (the corpus's ``run_case``).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):   # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.fresh.run import main as run_set
from benchmarks.fresh16.cases import design, task

DEFAULT_OUT = Path(__file__).parent / "out"


def main(argv: list[str] | None = None) -> int:
    return run_set(argv, plan=design, train=task, default_out=DEFAULT_OUT,
                   description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
