"""Held-out figures of the diagnosis on the wide fault corpus (benchmarks/corpus/).

    python benchmarks/corpus/run.py --jobs 2              # train the corpus once (~30 min)
    python benchmarks/diagnosis/heldout.py [--fit] [--jobs 2]

The corpus is split *by design* before any rule was adjusted on it: the cases of the
held-out data sources (``HELD_OUT_SOURCES``) or the held-out fault implementations
(``HELD_OUT_IMPLEMENTATIONS``) form the test part; everything else is the development part
that rules and calibration may look at. Reported figures are on the test part: each of its
cases has a data source or a fault implementation the rules and the calibration never saw.

``--fit`` fits the per-cause calibration (gapdoctor/rules/calibration.py) on the development
part only and writes gapdoctor/rules/calibration.json. Prints: top-1, top-3, false alarms on
healthy runs, per-cause precision and recall, the confusion matrix, a reliability table,
expected calibration error and Brier score — for development and test parts side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import pandas as pd

from benchmarks.diagnosis.fitting import CANDIDATES, STORED_METHOD, choose
from benchmarks.diagnosis.scoring import (
    figures,
    print_figures,
    shipped_calibration,
    with_shipped_verdicts,
)
from gapdoctor.rules.calibration import CALIBRATION_FILE

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "out"

# Chosen from the corpus's list of sources and implementations before any diagnosis was
# looked at: one source of each kind, and for every cause the implementation that differs
# most from the one the old benchmark (gapdoctor/faults) used.
HELD_OUT_SOURCES = ("textures16", "pulses", "tokens_pool", "penguins", "wine", "clf_k6")
HELD_OUT_IMPLEMENTATIONS = (
    "label_noise/feature", "distribution_shift/subpopulation", "metric_mismatch/class_id",
    "pipeline_bug/train_mode_eval", "pipeline_bug/remapped_labels", "optimization/dead_relu",
    "overfitting/irrelevant_features", "subgroup_underfitting/slice_rule",
    "small_validation_set/per_class", "metric_saturation/planted_signal", "healthy/noisy",
    "healthy/short")


def _diagnose_one(row: dict[str, Any]) -> dict[str, Any]:
    import os
    import warnings

    warnings.filterwarnings("ignore")
    # declared weights: the calibration in force is applied afterwards, from the logits
    os.environ["GAPDOCTOR_CALIBRATION"] = "off"
    from gapdoctor import diagnose, load_run
    from gapdoctor.rules.evidence import printed_disagrees

    out = {"case_id": row["case_id"]}
    try:
        d = diagnose(load_run(row["run_dir"]))
    except Exception as exc:  # a benchmark reports, never stops
        return {**out, "error": f"{type(exc).__name__}: {exc}"}
    out.update(verdict=d.verdict, status=d.status, ranking=[f.cause for f in d.findings],
               errors=len(d.errors), best_value=d.summary.get("best_value"),
               diagnosed_monitor=d.summary.get("monitor"))
    mismatches = 0
    for f in d.findings:
        out[f"score_{f.cause}"] = f.score
        out[f"logit_{f.cause}"] = float(f.details.get("logit", np.nan))
        out[f"prior_{f.cause}"] = float(f.details.get("logit", np.nan)) - sum(e.weight for e in f.evidence)
        out[f"cap_{f.cause}"] = float(f.details.get("cap", 1.0))
        for e in f.evidence:
            if e.rule and e.rule.get("weight"):
                # the evidence's strength x gate: what a refit of the weights works on
                out[f"ev_{e.key}"] = out.get(f"ev_{e.key}", 0.0) + e.weight / e.rule["weight"]
            if e.weight and (not e.rule or printed_disagrees(e.comparison, e.rule["measured"], e.weight)):
                mismatches += 1
    out["printed_mismatches"] = mismatches
    return out


def diagnose_corpus(manifest: pd.DataFrame, jobs: int) -> pd.DataFrame:
    rows = manifest[manifest["status"] == "ok"].to_dict("records")
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(_diagnose_one, rows, chunksize=4))
    # a fresh set's manifest keeps each training's own "error" (empty on ok rows): dropped, so
    # that "error" is the diagnosis's and load errors are counted, not hidden as "error_y"
    return manifest.drop(columns=["error"], errors="ignore").merge(
        pd.DataFrame(results), on="case_id", how="inner")


def split(table: pd.DataFrame) -> pd.Series:
    """True for the test (held-out) part."""
    return table["source"].isin(HELD_OUT_SOURCES) | table["implementation"].isin(HELD_OUT_IMPLEMENTATIONS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--fit", action="store_true", help="fit calibration.json on the development part")
    parser.add_argument("--json", type=Path, help="write all figures as JSON here")
    parser.add_argument("--table", type=Path, help="write every diagnosed run (verdict, ranking, "
                        "scores, evidence strengths) as CSV here")
    parser.add_argument("--dev-only", action="store_true",
                        help="diagnose and print the development part only (while adjusting rules, "
                             "so that the held-out part stays unseen)")
    args = parser.parse_args(argv)
    manifest = pd.read_csv(args.corpus / "manifest.csv")
    manifest["run_dir"] = [str(p if Path(p).is_absolute() else args.corpus.parent.parent.parent / p)
                           for p in manifest["run_dir"].fillna("")]
    if args.dev_only:
        manifest = manifest[~split(manifest)]
    table = diagnose_corpus(manifest, args.jobs)
    table["heldout"] = split(table)
    shipped = shipped_calibration()
    if args.table:
        with_shipped_verdicts(table, shipped).to_csv(args.table, index=False)
    dev, test = table[~table["heldout"]], table[table["heldout"]]
    print(f"{len(table)} diagnosed runs: {len(dev)} development, {len(test)} held out "
          f"({table['printed_mismatches'].sum()} printed/applied mismatches, "
          f"{int(table['error'].notna().sum()) if 'error' in table else 0} load errors)")
    result: dict[str, Any] = {"raw": {"dev": figures(dev, shipped), "test": figures(test, shipped)}}
    if args.dev_only:
        result["raw"].pop("test")
        dev_misses = figures(dev, shipped)["misses"]
        print("development misses:\n  " + "\n  ".join(dev_misses))
    print_figures("as shipped (current calibration)", result["raw"])
    if args.fit:
        # choose the method by cross-validation inside the development part only
        best, cv = choose(dev)
        for by, figs in cv.items():
            for name, f in figs.items():
                print(f"dev leave-one-{by}-out, {name}: top-1 {f['top1']:.3f} top-3 {f['top3']:.3f} "
                      f"false alarms {f['false_alarms']:.3f} ECE {f['ece']:.3f}")
        print(f"chosen: {best}")
        params = CANDIDATES[best](dev) or {}
        method = STORED_METHOD.get(best, "platt")
        calibrated = {"dev": figures(dev, params), "test": figures(test, params)}
        print_figures("recalibrated on the development part", calibrated)
        CALIBRATION_FILE.write_text(json.dumps({
            "method": method, "candidate": best,
            "fitted_on": f"{len(dev)} development runs of the fault corpus",
            "held_out": {k: calibrated["test"][k] for k in ("top1", "top3", "false_alarms", "ece", "brier", "n_faulty", "n_healthy")},
            "causes": {k: v for k, v in params.items() if not k.startswith("_")}}, indent=2) + "\n")
        print(f"wrote {CALIBRATION_FILE}")
        result["calibrated"] = calibrated
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
