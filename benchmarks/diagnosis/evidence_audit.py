"""Does each piece of evidence point the way its weight says? A check over diagnosed tables.

    python benchmarks/diagnosis/heldout.py --table corpus.csv            # once (~10 min)
    python benchmarks/fresh6/score.py --table fresh6.csv                 # once per set
    python benchmarks/diagnosis/evidence_audit.py --table corpus.csv --table fresh6.csv [--all]

A positive weight says the evidence is stronger on runs of its own cause than on the rest; a
negative one, weaker. Per table (a "part": the corpus, each fresh set) the audit compares the
evidence's mean applied strength (``ev_<key>``: strength times gate, 0 where it did not fire)
on runs whose true cause is the evidence's cause with its mean on all other runs, and counts
the parts where the difference has the weight's sign. Evidence contradicted on every part
where it fires (at least ``--min-parts``) is listed as contradicted: its stated reason did not
hold on any data it met. Without ``--all`` only contradicted and split evidence is printed.

Example (2026-11-28, the corpus and six fresh sets): ``metric_mismatch.ece`` (+0.5, a high
validation calibration error counts for a metric mismatch) had mean strength 0.16 on metric
mismatches and 0.52 on the rest, the wrong way on 7 of 7 parts; it was removed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import pandas as pd

from benchmarks.diagnosis.whatif import _parts, declared_weights

FIRES = 0.01  # a part where the evidence's mean strength is below this on both sides is not counted


def audit(table: pd.DataFrame, weights: dict[str, float], min_parts: int = 2) -> pd.DataFrame:
    """One row per declared piece of evidence found in ``table`` (its ``part`` column groups
    the runs): weight, mean strength on its own cause and on the rest (all parts together),
    parts that agree with the weight's sign / parts where it fires, and a ``status``.

    Example:
        >>> t = pd.DataFrame({"part": ["a", "a", "b", "b"], "cause": ["x", "y", "x", "y"],
        ...                   "ev_x.e": [0.0, 1.0, 0.1, 0.9]})
        >>> audit(t, {"x.e": 2.0}).loc[0, "status"]
        'contradicted'
    """
    rows = []
    for key, weight in weights.items():
        column = f"ev_{key}"
        if column not in table or weight == 0:
            continue
        cause = key.split(".", 1)[0]
        strength = table[column].fillna(0.0).astype(float)
        own = table["cause"] == cause
        agree = fired = 0
        for _, part in table.groupby("part"):
            s, o = strength.loc[part.index], own.loc[part.index]
            mine = float(s[o].mean()) if o.any() else 0.0
            rest = float(s[~o].mean()) if (~o).any() else 0.0
            if max(mine, rest) < FIRES:
                continue
            fired += 1
            agree += int(np.sign(mine - rest) == np.sign(weight))
        if fired == 0:
            status = "silent"
        elif agree == 0 and fired >= min_parts:
            status = "contradicted"
        elif agree < fired:
            status = "split"
        else:
            status = "agrees"
        rows.append({"key": key, "weight": weight,
                     "own": round(float(strength[own].mean()) if own.any() else 0.0, 3),
                     "rest": round(float(strength[~own].mean()) if (~own).any() else 0.0, 3),
                     "parts": f"{agree}/{fired}", "status": status})
    return pd.DataFrame(rows, columns=["key", "weight", "own", "rest", "parts", "status"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, action="append", required=True,
                        help="a table written by heldout.py --table or a fresh set's score.py --table")
    parser.add_argument("--min-parts", type=int, default=2,
                        help="parts an evidence must fire on to be called contradicted (default 2)")
    parser.add_argument("--all", action="store_true", help="print every piece of evidence")
    args = parser.parse_args(argv)
    try:
        table = _parts(args.table)
    except (OSError, ValueError) as exc:
        print(f"cannot read a table: {' '.join(str(exc).split())[:200]}")
        return 2
    result = audit(table, declared_weights(), args.min_parts)
    order = {"contradicted": 0, "split": 1, "agrees": 2, "silent": 3}
    result = result.sort_values(["status", "key"], key=lambda c: c.map(order) if c.name == "status" else c)
    shown = result if args.all else result[result["status"].isin(["contradicted", "split"])]
    print(f"{len(result)} pieces of evidence over {table['part'].nunique()} parts, "
          f"{len(table)} runs: " + ", ".join(f"{n} {s}" for s, n in result["status"].value_counts().items()))
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(shown.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
