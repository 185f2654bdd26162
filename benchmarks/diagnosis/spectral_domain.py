"""Would the domain classifier see more shifts on the spectral view? A measurement, not a rule.

For every signal and image run of the benchmark sets (``benchmarks/*/out/manifest.csv``), the
domain classifier of ``gapdoctor.analysis.features`` on the recorded input samples of both
splits, once on the raw values and once on ``spectra.spectral_view`` (what the reference model
reads when it predicts better), then a summary by cause.

    python benchmarks/diagnosis/spectral_domain.py [--jobs 2] [--csv OUT.csv]

Takes about 5 minutes for 470 runs on 2 cores (2026-11-29).
"""

from __future__ import annotations

import argparse
import glob
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def domain_aucs(args: tuple[str, str]) -> dict[str, Any] | None:
    """Raw and spectral domain AUC of one run (None when it has no 2-D/3-D input samples)."""
    warnings.simplefilter("ignore")
    from gapdoctor.analysis.features import _domain_auc
    from gapdoctor.analysis.spectra import spectral_view
    from gapdoctor.importers import load_run

    run_dir, cause = args
    try:
        run = load_run(run_dir)
        shape = (run.meta.get("data") or {}).get("input_shape")
        if not run.has("x_train") or not run.has("x_val"):
            return None
        a, b = (np.asarray(run.arrays[k], float) for k in ("x_train", "x_val"))
        a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
        va, vb = spectral_view(a, shape), spectral_view(b, shape)
        if va is None or vb is None:
            return None
        return {"run_dir": run_dir, "cause": cause, "raw": _domain_auc(a, b),
                "spec": _domain_auc(va, vb)}
    except Exception as exc:  # a benchmark reports, never stops
        return {"run_dir": run_dir, "cause": cause, "error": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--csv", type=Path, help="write one row per run here")
    args = parser.parse_args(argv)
    parts = []
    for path in glob.glob(str(ROOT / "benchmarks" / "*" / "out" / "manifest.csv")):
        d = pd.read_csv(path)
        d["set"] = Path(path).parent.parent.name
        parts.append(d[["case_id", "cause", "run_dir", "set", "source_kind"]])
    runs = pd.concat(parts)
    runs = runs[runs["run_dir"].notna() & runs["source_kind"].isin(["signal", "image"])]
    runs["run_dir"] = [p if Path(p).is_absolute() else str(ROOT / p) for p in runs["run_dir"]]
    with ProcessPoolExecutor(args.jobs) as pool:
        pairs = zip(runs["run_dir"], runs["cause"], strict=True)
        found = [r for r in pool.map(domain_aucs, pairs, chunksize=4) if r]
    table = pd.DataFrame(found).merge(runs[["run_dir", "case_id", "set"]], on="run_dir")
    if args.csv:
        table.to_csv(args.csv, index=False)
    ok = table.dropna(subset=["raw", "spec"])
    print(f"{len(ok)} runs with signal or image samples ({len(table) - len(ok)} errors)")
    print("median domain AUC by cause, raw / spectral:")
    print(ok.groupby("cause")[["raw", "spec"]].median().round(3).to_string())
    seen = ok.assign(only_spectral=(ok["spec"] > 0.8) & (ok["raw"] < 0.8))
    print("spectral above 0.8 where raw is below, by cause:")
    print(seen.groupby("cause")["only_spectral"].agg(["sum", "count"]).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
