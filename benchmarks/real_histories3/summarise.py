"""Print a plain numeric summary of every history in files/ (used to label them by hand).

For each file: its format, columns, number of epochs, and for every numeric column the
first / last / min (with epoch) / max (with epoch) value, the number of NaN/inf values and
the values at every eighth of the run (epochs 1, E/8, 2E/8, ..., E).

Only json, csv, pandas and numpy are used (no gapdoctor).
Usage: python summarise.py [file ...]   (default: every file in files/)
"""
import io
import json
import math
import os
import sys

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "files")


def load(path):
    """Return (format description, dict of column -> list of values)."""
    text = open(path, "rb").read().decode("utf-8")
    stripped = text.strip()
    if stripped.startswith("{") or stripped.startswith('"'):
        obj = json.loads(stripped)
        kind = "json dict"
        if isinstance(obj, str):
            # json.dump(str(history.history)): a JSON string holding a Python dict repr
            obj = json.loads(obj.replace("'", '"').replace("nan", "NaN"))
            kind = "JSON STRING holding a Python dict repr"
        cols = {}
        other = []
        for k, v in obj.items():
            if isinstance(v, list):
                cols[k] = v
            else:
                other.append(k)
        if other:
            kind += "; non-list keys: " + ", ".join(other)
        return kind, cols
    first = stripped.splitlines()[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    df = pd.read_csv(io.StringIO(text), sep=sep)
    kind = f"csv (sep {sep!r})"
    if df.columns[0].startswith("Unnamed"):
        kind += ", unnamed index column"
    elif df.columns[0] == "epoch":
        kind += ", epoch column (first value {})".format(df["epoch"].iloc[0])
    return kind, {c: df[c].tolist() for c in df.columns}


def fmt(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan"
    return f"{x:.4g}"


def summarise(path):
    kind, cols = load(path)
    lengths = {k: len(v) for k, v in cols.items()}
    print("=" * 100)
    print(os.path.basename(path), "|", kind)
    print("columns:", ", ".join(f"{k}[{n}]" for k, n in lengths.items()))
    for k, v in cols.items():
        try:
            a = np.array([np.nan if x is None else x for x in v], dtype=float)
        except (TypeError, ValueError):
            print(f"  {k:<28s} non-numeric")
            continue
        n = len(a)
        if n == 0:
            continue
        bad = int((~np.isfinite(a)).sum())
        finite = np.where(np.isfinite(a), a, np.nan)
        if np.all(np.isnan(finite)):
            print(f"  {k:<28s} E={n} all NaN/inf")
            continue
        imin = int(np.nanargmin(finite))
        imax = int(np.nanargmax(finite))
        idx = sorted(set([0] + [max(0, int(round(n * j / 8)) - 1) for j in range(1, 9)]))
        eighths = " ".join(f"{i + 1}:{fmt(a[i])}" for i in idx)
        print(f"  {k:<28s} E={n} first={fmt(a[0])} last={fmt(a[-1])} "
              f"min={fmt(finite[imin])}@{imin + 1} max={fmt(finite[imax])}@{imax + 1} "
              f"nonfinite={bad}")
        print(f"  {'':<28s}   eighths {eighths}")
        if n >= 3:
            last3 = np.nanmean(finite[-3:])
            ratio = fmt(last3 / finite[imin]) if finite[imin] != 0 else "n/a"
            print(f"  {'':<28s}   mean(last3)={fmt(last3)}  last3/min={ratio}")


def main():
    paths = sys.argv[1:] or [os.path.join(FILES, f) for f in sorted(os.listdir(FILES))]
    for p in paths:
        summarise(p)


if __name__ == "__main__":
    main()
