"""False alarms on short runs, made from the development part's healthy runs.

    python benchmarks/diagnosis/truncated.py [--corpus DIR] [--epochs 1 2 3 5]

A healthy run cut after its first k epochs is still a healthy run (a short training, or
one stopped early by the user). The held-out part has 1-3-epoch runs of its own; this
check lets the rules be adjusted against short runs without looking at those. Prints, for
each k, how many truncated runs get a verdict other than healthy / metric_saturation, and
which cause (a validation set of 60 or fewer accepts small_validation_set, a run at
the accuracy ceiling metric_saturation, as in the held-out scoring).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pandas as pd

from benchmarks.diagnosis.heldout import CORPUS, split
from benchmarks.diagnosis.scoring import CEILING, SMALL_VAL

_EPOCH_AXIS = ("margins", "correct", "confusion_val", "confusion_train", "score_hist_val",
               "pred_epochs")


def truncate(run, k: int):
    """The record as it stood after its first ``k`` epochs (whole-set dynamics dropped)."""
    from dataclasses import replace

    def cut(df: pd.DataFrame) -> pd.DataFrame:
        if df.empty:
            return df
        if "epoch" in df.columns:
            return df[df["epoch"] < k].reset_index(drop=True)
        return df.iloc[:k]

    arrays = {}
    for name, value in run.arrays.items():
        if name in _EPOCH_AXIS:
            arrays[name] = value[:k]
        elif not name.startswith("dyn"):
            arrays[name] = value
    meta = {**run.meta, "epochs_completed": k}
    meta.pop("label_dynamics", None)
    return replace(run, curves=cut(run.curves), split_metrics=cut(run.split_metrics),
                   per_class=cut(run.per_class), layers=cut(run.layers), groups=cut(run.groups),
                   arrays=arrays, meta=meta)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--epochs", type=int, nargs="+", default=[1, 2, 3, 5])
    args = parser.parse_args(argv)
    import os
    import warnings

    warnings.filterwarnings("ignore")
    os.environ["GAPDOCTOR_CALIBRATION"] = "off"
    from gapdoctor import diagnose, load_run

    manifest = pd.read_csv(args.corpus / "manifest.csv")
    manifest = manifest[(manifest["status"] == "ok") & ~split(manifest)
                        & (manifest["cause"] == "healthy")]
    for k in args.epochs:
        wrong: Counter[str] = Counter()
        names = []
        for row in manifest.itertuples():
            run = load_run(args.corpus / "runs" / row.case_id)
            if run.n_epochs <= k:
                continue
            d = diagnose(truncate(run, k))
            names.append(row.case_id)
            # the acceptances of the held-out scoring (benchmarks/diagnosis/scoring.py)
            accept = {"healthy"} | set(str(row.acceptable).split(";"))
            if pd.notna(row.n_val) and row.n_val <= SMALL_VAL:
                accept.add("small_validation_set")
            best = d.summary.get("best_value")
            if isinstance(best, float) and best >= CEILING and "acc" in str(d.summary.get("monitor")):
                accept.add("metric_saturation")
            if d.verdict not in accept:
                wrong[d.verdict] += 1
                print(f"  k={k} {row.case_id}: {d.verdict} {d.findings[0].score:.2f}")
        print(f"{k} epochs: {sum(wrong.values())} of {len(names)} healthy runs flagged {dict(wrong)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
