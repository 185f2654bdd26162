"""Did each fresh3 case's fault bite? fresh2's bite rule, imported unchanged
(``benchmarks.fresh2.check.verdict``), on the curve summary of manifest.csv only (no
gapdoctor diagnosis); fixed before any fresh3 run was trained.

    python benchmarks/fresh3/check.py [--out benchmarks/fresh3/out]

Writes OUT/kept.csv (case_id, cause, implementation, kept, reason) and prints the counts.
``H`` is the chance loss of a case: the entropy (nats) of its validation labels, rebuilt
deterministically from fresh3's plan (no training). The rule per cause is in
``benchmarks/fresh2/check.py``'s docstring.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import pandas as pd

from benchmarks.fresh2.check import verdict
from benchmarks.fresh3.cases import build_case, design

DEFAULT_OUT = Path(__file__).parent / "out"


def chance_loss(plan) -> float:
    case = build_case(plan)
    p = np.bincount(case.y_val, minlength=case.n_classes) / len(case.y_val)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    manifest = pd.read_csv(args.out / "manifest.csv", keep_default_na=False)
    plans = {p.case_id: p for p in design()}
    rows = []
    for _, r in manifest.iterrows():
        kept, reason = verdict(r, chance_loss(plans[r["case_id"]]))
        rows.append({"case_id": r["case_id"],
                     "cause": r.get("cause") or r["implementation"].split("/")[0],
                     "implementation": r["implementation"], "kept": int(kept),
                     "reason": reason})
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "kept.csv", index=False)
    print(table.groupby("cause")["kept"].agg(["sum", "count"]).rename(
        columns={"sum": "kept", "count": "ran"}).to_string())
    for _, r in table[table["kept"] == 0].iterrows():
        print(f"dropped {r['case_id']}: {r['reason']}")
    print(f"{int(table['kept'].sum())} kept of {len(table)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
