"""benchmarks/diagnosis/evidence_audit.py: evidence whose weight points the wrong way is named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from benchmarks.diagnosis.evidence_audit import audit

ROOT = Path(__file__).resolve().parents[1]


def _table() -> pd.DataFrame:
    # two sets; "x.good" fires on its own cause, "x.bad" (positive weight) on the other one,
    # "x.guard" (negative weight) on the other one as a guard should
    return pd.DataFrame({
        "case_id": list("abcdef"), "acceptable": [""] * 6,
        "cause": ["x", "y", "x", "y", "x", "y"],
        "part": ["one", "one", "one", "two", "two", "two"],
        "ev_x.good": [0.9, 0.0, 0.8, 0.1, 1.0, 0.0],
        "ev_x.bad": [0.0, 0.7, 0.1, 0.9, 0.0, 0.4],
        "ev_x.guard": [0.0, 0.6, 0.0, 0.5, 0.1, 0.9],
        "ev_x.mixed": [0.9, 0.0, 0.9, 0.0, 0.0, 0.8]})


def test_each_piece_of_evidence_is_judged_by_its_sign_on_every_part() -> None:
    weights = {"x.good": 2.0, "x.bad": 1.5, "x.guard": -2.0, "x.mixed": 1.0, "x.unused": 1.0}
    result = audit(_table(), weights).set_index("key")
    assert result["status"].to_dict() == {"x.good": "agrees", "x.bad": "contradicted",
                                          "x.guard": "agrees", "x.mixed": "split"}
    assert result.loc["x.bad", "parts"] == "0/2"
    assert result.loc["x.good", "own"] == 0.9


def test_the_command_reads_tables_and_names_what_is_contradicted(tmp_path: Path) -> None:
    t = _table().drop(columns=["part"]).rename(columns={"ev_x.bad": "ev_metric_mismatch.rare"})
    t["cause"] = t["cause"].map({"x": "metric_mismatch", "y": "overfitting"})
    t.to_csv(tmp_path / "set.csv", index=False)
    run = subprocess.run([sys.executable, "benchmarks/diagnosis/evidence_audit.py", "--table",
                          str(tmp_path / "set.csv"), "--min-parts", "1"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "metric_mismatch.rare" in run.stdout and "contradicted" in run.stdout
    bad = subprocess.run([sys.executable, "benchmarks/diagnosis/evidence_audit.py", "--table",
                          str(tmp_path / "missing.csv")], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and "cannot read a table" in bad.stdout
