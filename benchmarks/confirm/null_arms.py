"""Do one-seed confirmation intervals cover retraining noise? An A/A test on real cases.

    python benchmarks/confirm/null_arms.py --set fresh3 --per-cause 1 --jobs 2 [--out DIR]

Each chosen case (a fresh set's kept cases, as ``benchmarks/confirm/run.py`` chooses them)
is trained once with GapDoctor, then retrained three times with nothing that should change
validation accuracy:

- ``a``: seed 0, a random 10 % of the training rows at weight 0;
- ``b``: seed 0, another random 10 % at weight 0 (``a`` against ``b`` is the label-noise
  experiment's structure with random rows in place of the flagged ones);
- ``c``: seed 1, the same rows as ``a`` (``a`` against ``c``: two seeds, nothing else).

For each null pair the paired effect and its one-seed interval (a bootstrap over validation
samples: :func:`gapdoctor.confirm.outcome.paired_effect`) are computed exactly as an
experiment's. If that interval covered retraining noise, ``effect / (half-width / 1.96)``
would have a standard deviation near 1 over cases and fall outside +-1.96 about 1 time in
20. Prints both, per pair, and the factor the one-seed half-width would need. Rows land in
OUT/null_arms.csv.
"""

from __future__ import annotations

import argparse
import os
import sys
from multiprocessing import get_context
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import pandas as pd

from benchmarks.confirm.run import _init_worker, _set_cases, choose

SHARE = 0.10   # rows at weight 0 in each null arm: about what a label-noise arm leaves out
PAIRS = {"same_seed_other_rows": ("a", "b"), "other_seed_same_rows": ("a", "c")}


def run_one(args: tuple[Any, str, str]) -> list[dict[str, Any]]:
    """Train one case and its three null arms; never raises (an ``error`` row instead)."""
    plan, out, set_name = args
    try:
        from gapdoctor.callback.confirm.arms import Recipe, train_arm
        from gapdoctor.callback.confirm.data import as_arrays, class_ids, n_rows
        from gapdoctor.callback.confirm.experiments import correct
        from gapdoctor.confirm.outcome import Z95, paired_effect

        case, doctor, history, _ = _set_cases(set_name).train_case(
            plan, out, report=False, verbose=0, background=False)
        model = history.model
        train = as_arrays(doctor.train_data, "train_data", None)
        val = as_arrays(doctor.validation_data, "validation_data", None)
        labels, n = class_ids(val[1]), n_rows(train[0])
        epochs = max(1, int(doctor.record.n_epochs))
        steps = (history.params or {}).get("steps")
        batch = int(np.ceil(n / steps)) if steps else 32
        rng = np.random.default_rng(7)
        rows = {"a": rng.choice(n, int(SHARE * n), replace=False),
                "b": rng.choice(n, int(SHARE * n), replace=False)}
        arms = {}
        for name, seed, zero in (("a", 0, rows["a"]), ("b", 0, rows["b"]), ("c", 1, rows["a"])):
            recipe = Recipe(name, seed=seed, epochs=epochs, batch_size=batch, zero_rows=zero)
            arms[name] = correct(train_arm(model, None, recipe, train, val), labels)
        out_rows = []
        for pair, (t, c) in PAIRS.items():
            e = paired_effect(arms[t][None, :], arms[c][None, :])
            half = e.high - e.effect
            out_rows.append({"case_id": plan.case_id, "cause": case.cause, "pair": pair,
                             "n_val": len(labels), "n_train": n, "epochs": epochs,
                             "effect": e.effect, "halfwidth": half,
                             "churn": float(np.mean(arms[t] != arms[c])),
                             "z": e.effect / (half / Z95) if half > 0 else np.nan})
        return out_rows
    except Exception as exc:  # noqa: BLE001 - one failed case does not stop the benchmark
        return [{"case_id": plan.case_id, "error": f"{type(exc).__name__}: {exc}"}]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="fresh3", help="a fresh set with cases.train_case")
    parser.add_argument("--per-cause", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out_null")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    plans = choose("all", args.per_cause, set_name=args.set)
    with get_context("spawn").Pool(args.jobs, initializer=_init_worker) as pool:
        rows = [r for batch in pool.imap_unordered(
            run_one, [(p, str(args.out), args.set) for p in plans]) for r in batch]
    table = pd.DataFrame(rows)
    path = args.out / "null_arms.csv"
    if path.exists():   # several sets into one table
        table = pd.concat([pd.read_csv(path), table], ignore_index=True)
    table.to_csv(path, index=False)
    ok = table.dropna(subset=["z"]) if "z" in table else table.iloc[:0]
    print(f"{len(ok) // len(PAIRS)} cases ({len(table) - len(ok)} rows failed)")
    for pair, group in ok.groupby("pair"):
        z = group["z"].to_numpy()
        print(f"{pair}: sd(z) {np.std(z, ddof=1):.2f}, |z| > 1.96 in {np.mean(np.abs(z) > 1.96):.0%} "
              f"of {len(z)} (5 % if the one-seed interval covered retraining noise); median "
              f"churn {group['churn'].median():.3f}, median |effect| {group['effect'].abs().median():.3f}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
