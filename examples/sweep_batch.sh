#!/bin/sh
# Diagnose every run of a hyper-parameter sweep at once: one row per run in summary.csv,
# one PDF per run and overview.pdf. Quote the glob so that gapdoctor expands it.
#   sh examples/sweep_batch.sh [OUT]          OUT defaults to gapdoctor-examples
set -eu
OUT="${1:-gapdoctor-examples}"
PYTHON="${PYTHON:-python}"
HERE="$(dirname "$0")"
"$PYTHON" "$HERE/make_sample_logs.py" "$OUT/logs"

gapdoctor batch "$OUT/logs/sweep/*/history.json" --out "$OUT/sweep-report" --jobs 2

# Which runs have a problem, and which report is theirs (summary.csv has every score too).
# Files that share a name are told apart by their folders: lr-0.1/history.json gets
# lr-0.1-history.pdf.
"$PYTHON" - "$OUT/sweep-report/summary.csv" <<'PY'
import csv, os, sys
with open(sys.argv[1], newline="") as handle:
    for row in csv.DictReader(handle):
        print(f"{row['verdict']:<22} {os.path.basename(row['pdf']):<26} {row['path']}")
PY
