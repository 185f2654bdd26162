"""Did each fresh2 case's fault bite? A rule on the curve summary of manifest.csv only (no
gapdoctor diagnosis), written before any fresh2 run was trained and not changed after.

    python benchmarks/fresh2/check.py [--out benchmarks/fresh2/out]

Writes OUT/kept.csv (case_id, cause, implementation, kept, reason) and prints the counts.
``H`` is the chance loss of a case: the entropy (nats) of its validation labels, rebuilt
deterministically from the plan (no training). Rules, by cause (benchmarks/fresh's rule,
with two changes marked *):

- every case: ``status == ok`` (else dropped: failed).
- premise cases (never-learning / NaN runs): kept if the loss went NaN or the validation
  loss never fell below 0.9 H.
- healthy: kept if no NaN, it learned (validation loss minimum < 0.8 H) and did not
  overfit (last validation loss <= 1.3 x its minimum).
- overfitting, label_noise: kept if validation stopped following training: last validation
  loss >= 1.05 x its minimum, or last training loss <= 2/3 of the last validation loss.
- distribution_shift, pipeline_bug (non-premise): kept if validation lags training (minimum
  validation loss >= 1.1 x minimum training loss) and the validation metric never reached
  0.995. *Except ``pipeline_bug/train_labels_shuffled`` (the bug is in the training labels,
  so training, not validation, is the noisy side): kept by the overfitting/label_noise rule,
  or if the validation loss minimum stayed >= 0.6 H (little was learned).
- subgroup_underfitting: kept if the validation metric never reached 0.995 *and the last
  training metric is below 0.98 (something in the training set was not fitted).
- optimization (non-premise): kept if the run trained badly: NaN, or validation loss
  minimum >= 0.6 H, or last validation loss >= 1.5 x its minimum.
- metric_saturation: kept if the validation metric reached 0.98 (the ceiling was hit).
- metric_mismatch: kept if the training loss fell (minimum <= 0.9 x first) while the
  monitored validation metric moved by less than 0.02 from its first value, or ended below
  its maximum by 0.02 or more (the metric did not follow the loss).
- small_validation_set: kept if the validation set has at most 60 rows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import pandas as pd

from benchmarks.fresh2.cases import build_case, design

DEFAULT_OUT = Path(__file__).parent / "out"


def chance_loss(plan, build: Callable[[Any], Any] = build_case) -> float:
    case = build(plan)
    p = np.bincount(case.y_val, minlength=case.n_classes) / len(case.y_val)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def verdict(r: pd.Series, h: float) -> tuple[bool, str]:
    def f(key: str) -> float:
        value = r.get(key)
        return float(value) if pd.notna(value) and value != "" else np.nan

    if r["status"] != "ok":
        return False, f"failed: {str(r.get('error'))[:80]}"
    nan = f("nan_loss") == 1
    vmin, vlast = f("val_loss_min"), f("val_loss_last")
    lmin, lfirst, llast = f("loss_min"), f("loss_first"), f("loss_last")
    mfirst, mlast, mmax = f("val_metric_first"), f("val_metric_last"), f("val_metric_max")
    train_metric = f("metric_last")
    cause, impl = r["cause"], r["implementation"]
    if int(r["premise"]) == 1:
        ok = nan or not vmin < 0.9 * h
        return ok, f"never learned (val loss min {vmin:.3f}, H {h:.3f}, nan {nan})"
    if cause == "healthy":
        ok = not nan and vmin < 0.8 * h and vlast <= 1.3 * vmin
        return ok, f"val loss min {vmin:.3f} vs H {h:.3f}; last/min {vlast / vmin:.2f}"
    memorised = vlast >= 1.05 * vmin or llast <= 2 / 3 * vlast
    if cause in ("overfitting", "label_noise"):
        return memorised, f"val last/min {vlast / vmin:.2f}; train/val last {llast / vlast:.2f}"
    if impl == "pipeline_bug/train_labels_shuffled":
        ok = memorised or not vmin < 0.6 * h
        return ok, (f"val last/min {vlast / vmin:.2f}; train/val last {llast / vlast:.2f}; "
                    f"val loss min {vmin:.3f} vs H {h:.3f}")
    if cause in ("distribution_shift", "pipeline_bug"):
        ok = vmin >= 1.1 * lmin and not mmax >= 0.995
        return ok, f"val min/train min {vmin / max(lmin, 1e-9):.2f}; val metric max {mmax:.3f}"
    if cause == "subgroup_underfitting":
        ok = not mmax >= 0.995 and not train_metric >= 0.98
        return ok, f"val metric max {mmax:.3f}; train metric last {train_metric:.3f}"
    if cause == "optimization":
        ok = nan or not vmin < 0.6 * h or vlast >= 1.5 * vmin
        return ok, f"nan {nan}; val loss min {vmin:.3f} vs H {h:.3f}; last/min {vlast / vmin:.2f}"
    if cause == "metric_saturation":
        return mmax >= 0.98, f"val metric max {mmax:.3f}"
    if cause == "metric_mismatch":
        ok = lmin <= 0.9 * lfirst and (abs(mlast - mfirst) < 0.02 or mlast <= mmax - 0.02)
        return ok, (f"train loss min/first {lmin / lfirst:.2f}; val metric {mfirst:.3f} -> "
                    f"{mlast:.3f} (max {mmax:.3f})")
    if cause == "small_validation_set":
        return int(r["n_val"]) <= 60, f"n_val {r['n_val']}"
    return True, "no rule"


def main(argv: list[str] | None = None, plan: Callable[[], list[Any]] = design,
         build: Callable[[Any], Any] = build_case, default_out: Path = DEFAULT_OUT,
         description: str = __doc__.splitlines()[0]) -> int:
    """fresh2's check; ``benchmarks/fresh3`` runs it on its own plan and cases."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    manifest = pd.read_csv(args.out / "manifest.csv", keep_default_na=False)
    plans = {p.case_id: p for p in plan()}
    rows = []
    for _, r in manifest.iterrows():
        kept, reason = verdict(r, chance_loss(plans[r["case_id"]], build))
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
