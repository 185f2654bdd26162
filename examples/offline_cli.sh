#!/bin/sh
# Re-analyse saved Keras logs from the command line; TensorFlow is never imported.
# Run from anywhere, with gapdoctor installed (its venv active):
#   sh examples/offline_cli.sh [OUT]          OUT defaults to gapdoctor-examples
set -eu
OUT="${1:-gapdoctor-examples}"
PYTHON="${PYTHON:-python}"
HERE="$(dirname "$0")"
"$PYTHON" "$HERE/make_sample_logs.py" "$OUT/logs"

# A Keras History JSON: json.dump(model.fit(...).history, open("history.json", "w"))
gapdoctor analyze "$OUT/logs/history.json" --json "$OUT/history-diagnosis.json"

# A keras.callbacks.CSVLogger file, with the PDF report
gapdoctor analyze "$OUT/logs/training.csv" --pdf "$OUT/csv-report.pdf"

# A keras.callbacks.TensorBoard log directory (train/ and validation/ inside)
gapdoctor analyze "$OUT/logs/tb"

echo "outputs: $OUT/history-diagnosis.json $OUT/csv-report.pdf"
