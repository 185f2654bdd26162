"""Did each fresh16 case's fault bite? fresh2's bite rule, imported unchanged
(``benchmarks.fresh2.check.verdict``), on the curve summary of manifest.csv only (no
gapdoctor diagnosis); fixed before any fresh16 run was trained.

    python benchmarks/fresh16/check.py [--out benchmarks/fresh16/out]

Writes OUT/kept.csv (case_id, cause, implementation, kept, reason) and prints the counts.
``H`` is the chance loss of a case: the entropy (nats) of its validation labels, rebuilt
deterministically from fresh16's plan (no training). The rule per cause is in
``benchmarks/fresh2/check.py``'s docstring.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.fresh2.check import main as check_set
from benchmarks.fresh16.cases import build_case, design

DEFAULT_OUT = Path(__file__).parent / "out"


def main(argv: list[str] | None = None) -> int:
    return check_set(argv, plan=design, build=build_case, default_out=DEFAULT_OUT,
                     description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
