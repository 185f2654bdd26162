#!/bin/sh
# Fail a CI job when a saved training log shows a likely cause of a train/validation gap.
#   sh examples/ci_gate.sh LOG [SCORE]        SCORE defaults to 0.7
# Scores are calibrated on held-out runs: a finding at 0.7 was right about 7 times in 10.
# gapdoctor's exit codes: 0 nothing reached SCORE; 1 a finding scored >= SCORE;
# 2 the log could not be read (one line on stderr); 3 an internal error.
set -u
LOG="$1"
SCORE="${2:-0.7}"
gapdoctor analyze "$LOG" --fail-on "$SCORE" --json gapdoctor-diagnosis.json
status=$?
case "$status" in
  0) echo "gapdoctor: no cause reached $SCORE" ;;
  1) echo "gapdoctor: a cause reached $SCORE; see gapdoctor-diagnosis.json" ;;
  *) echo "gapdoctor: could not analyse $LOG (exit $status)" ;;
esac
exit "$status"
