"""What would a different evidence weight do? Re-scores diagnosed tables in seconds.

    python benchmarks/diagnosis/heldout.py --table corpus.csv            # once (~10 min)
    python benchmarks/fresh3/score.py --table fresh3.csv                 # once per set
    python benchmarks/diagnosis/whatif.py --table corpus.csv --table fresh3.csv \\
        overfitting.splits_disagree=-4 label_noise.disagree=3.5

Every table row holds, per cause, the evidence sum (``logit_<cause>``, declared weights) and
per piece of evidence its strength times its gate (``ev_<key>``: the applied weight over the
declared one). A weight is a linear coefficient of that sum, so changing ``key`` from its
declared weight ``w`` to ``w'`` moves the cause's logit by exactly ``(w' - w) * ev_<key>``; the
shipped calibration and the caps are then applied as ``scoring.figures`` does. Caps, gates
and facts are not re-measured: a change to a ramp's range or to a fact needs a re-diagnosis.
Checked 2026-11-28: ``overfitting.disagree`` at -4 instead of -2, fresh2 re-diagnosed with the
edited rule, matches the prediction to 2e-15 on the 7 runs whose logit it moves.

Prints top-1, top-3 and false alarms per part (corpus development, corpus held-out, each fresh
table) as shipped and with the changes, and every run whose verdict changed. Read the
development part to choose; the others only to report what the choice did.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import pandas as pd

from benchmarks.diagnosis.heldout import split
from benchmarks.diagnosis.scoring import _acceptable, figures, scores
from gapdoctor.diagnosis import CAUSES, REPORT_THRESHOLD


def declared_weights() -> dict[str, float]:
    """Every declared piece of evidence's weight, by key (read from the rule modules)."""
    import gapdoctor.rules as rules
    from gapdoctor.rules.evidence import Ramp

    out: dict[str, float] = {}
    for module in pkgutil.iter_modules(rules.__path__):
        for value in vars(importlib.import_module(f"gapdoctor.rules.{module.name}")).values():
            if isinstance(value, Ramp):
                out[value.key] = value.weight
    return out


def reweigh(table: pd.DataFrame, changes: dict[str, float],
            declared: dict[str, float] | None = None) -> pd.DataFrame:
    """``table`` with each cause's logit moved as if evidence ``key`` weighed ``changes[key]``.

    Example:
        >>> t = pd.DataFrame({"logit_overfitting": [1.0], "ev_overfitting.gap": [0.5]})
        >>> float(reweigh(t, {"overfitting.gap": 4.5}, {"overfitting.gap": 2.5})["logit_overfitting"][0])
        2.0
    """
    declared = declared_weights() if declared is None else declared
    out = table.copy()
    for key, weight in changes.items():
        if key not in declared:
            raise KeyError(f"no declared evidence {key!r}")
        cause, column = key.split(".", 1)[0], f"ev_{key}"
        if column in out and f"logit_{cause}" in out:
            out[f"logit_{cause}"] = out[f"logit_{cause}"] + (weight - declared[key]) * out[column].fillna(0.0)
    return out


IDENTITY = {cause: {"a": 1.0, "b": 0.0} for cause in CAUSES}  # the declared weights, no map


def verdicts(table: pd.DataFrame, params: dict | None) -> pd.Series:
    """Each run's verdict as ``scoring.figures`` reads it: the top cause at 0.5 or more, else
    healthy; scores from the logits through ``params`` (the identity map when None)."""
    s = scores(table, params or IDENTITY)
    return pd.Series(np.where(s.max(axis=1) >= REPORT_THRESHOLD, s.idxmax(axis=1), "healthy"),
                     index=table.index)


def _parts(paths: list[Path]) -> pd.DataFrame:
    frames = []
    for path in paths:
        t = pd.read_csv(path).copy()  # one block: adding a column to a wide table stays cheap
        if not {"case_id", "cause", "acceptable"} <= set(t.columns):
            raise ValueError(f"{path} is not a diagnosed table (no case_id, cause, acceptable columns)")
        t["part"] = (np.where(split(t), "corpus held-out", "corpus development")
                     if "heldout" in t else path.stem)
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, action="append", required=True,
                        help="a table written by heldout.py --table or a fresh set's score.py --table")
    parser.add_argument("--no-calibration", action="store_true",
                        help="score the logits as they are (the declared weights, no calibration map)")
    parser.add_argument("changes", nargs="*", help="key=weight, e.g. overfitting.gap=3.0")
    args = parser.parse_args(argv)
    try:
        changes = {k: float(v) for k, v in (c.split("=", 1) for c in args.changes)}
    except ValueError:
        print("each change is key=weight, e.g. overfitting.gap=3.0")
        return 2
    from benchmarks.diagnosis.scoring import shipped_calibration

    params = IDENTITY if args.no_calibration else (shipped_calibration() or IDENTITY)
    try:
        table = _parts(args.table)
    except (OSError, ValueError) as exc:  # pandas' parser errors are ValueErrors
        print(f"cannot read a table: {' '.join(str(exc).split())[:200]}")
        return 2
    try:
        changed = reweigh(table, changes)
    except KeyError as exc:
        print(exc.args[0])
        return 2
    for name, t in (("as shipped", table), ("with the changes", changed)):
        print(f"== {name}")
        for part, g in t.groupby("part", sort=False):
            f = figures(g, params)
            print(f"  {part:20s} top-1 {f['top1']:.3f}  top-3 {f['top3']:.3f}  false alarms "
                  f"{f['false_alarms']:.3f} ({f['n_faulty']} faulty, {f['n_healthy']} healthy)")
    before, after = verdicts(table, params), verdicts(changed, params)
    accept = _acceptable(table)
    moved = table.index[before != after]
    print(f"{len(moved)} verdicts changed:")
    for i in moved:
        ok = ["wrong", "right"]
        print(f"  {table.at[i, 'part']}: {table.at[i, 'case_id']} ({table.at[i, 'cause']}): "
              f"{before[i]} ({ok[before[i] in accept[i]]}) -> {after[i]} ({ok[after[i] in accept[i]]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
