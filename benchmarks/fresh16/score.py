"""Score gapdoctor on the sixteenth fresh test set (fresh16), calibration in force (read once).

    python benchmarks/fresh16/score.py [--out benchmarks/fresh16/out] [--jobs 2] [--all]
        [--limit N] [--json PATH] [--table PATH]

Diagnoses every kept fresh16 record (OUT/kept.csv from check.py; ``--all``: every ok record)
exactly as benchmarks/diagnosis/heldout.py diagnoses the held-out part (its
``diagnose_corpus``: declared weights, then the shipped ``calibration.json`` applied to the
logits) and prints its figures (benchmarks/diagnosis/scoring.py): top-1 and top-3 on faulty
runs, false alarms on healthy runs, per-cause precision/recall, confusion, reliability, ECE
and Brier score. Test it without seeing fresh16 results on corpus records:
``score.py --out benchmarks/corpus/out --all --limit 3``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.fresh.score import main as score_set

DEFAULT_OUT = Path(__file__).parent / "out"


def main(argv: list[str] | None = None) -> int:
    return score_set(argv, name="fresh16", default_out=DEFAULT_OUT, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
