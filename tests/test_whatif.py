"""benchmarks/diagnosis/whatif.py: a weight change re-scores a diagnosed table exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.diagnosis.whatif import declared_weights, reweigh, verdicts

ROOT = Path(__file__).resolve().parents[1]


def _table() -> pd.DataFrame:
    # two label-noise runs where overfitting leads on the memorisation gap; the second one's
    # gap evidence was counted at 0.4 of its declared weight
    return pd.DataFrame({
        "case_id": ["a", "b"], "cause": ["label_noise", "label_noise"], "acceptable": ["", ""],
        "logit_overfitting": [3.0, 3.0], "cap_overfitting": [1.0, 1.0],
        "ev_overfitting.gap": [1.0, 0.4],
        "logit_label_noise": [2.0, 2.0], "cap_label_noise": [1.0, 1.0]})


def test_a_weight_moves_the_logit_by_its_change_times_the_counted_strength() -> None:
    declared = declared_weights()
    w = declared["overfitting.gap"]
    moved = reweigh(_table(), {"overfitting.gap": w - 2.0})
    assert moved["logit_overfitting"].tolist() == pytest.approx([1.0, 2.2])
    assert reweigh(_table(), {"overfitting.gap": w})["logit_overfitting"].tolist() == [3.0, 3.0]
    assert verdicts(_table(), None).tolist() == ["overfitting", "overfitting"]
    assert verdicts(moved, None).tolist() == ["label_noise", "overfitting"]


def test_an_unknown_evidence_key_is_refused() -> None:
    with pytest.raises(KeyError):
        reweigh(_table(), {"overfitting.no_such_thing": 1.0})


def test_the_command_prints_the_figures_and_each_changed_verdict(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    _table().to_csv(path, index=False)
    w = declared_weights()["overfitting.gap"]
    done = subprocess.run([sys.executable, "benchmarks/diagnosis/whatif.py", "--table", str(path),
                           "--no-calibration", f"overfitting.gap={w - 2.0}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 verdicts changed" in done.stdout
    assert "set: a (label_noise): overfitting (wrong) -> label_noise (right)" in done.stdout
    bad = subprocess.run([sys.executable, "benchmarks/diagnosis/whatif.py", "--table", str(path),
                          "overfitting.gap"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "key=weight" in bad.stdout


@pytest.mark.parametrize("content", [None, "", "a,b\n1,2\n", '"unclosed,quote\n1,2\n'])
def test_a_missing_or_malformed_table_is_one_line_and_exit_2(tmp_path: Path, content) -> None:
    path = tmp_path / "t.csv"
    if content is not None:
        path.write_text(content)
    done = subprocess.run([sys.executable, "benchmarks/diagnosis/whatif.py", "--table", str(path),
                           "overfitting.gap=1"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stdout.count("\n") == 1 and not done.stderr


def test_agreement_reads_without_any_set_on_disk_says_so() -> None:
    done = subprocess.run([sys.executable, "benchmarks/diagnosis/agreement_reads.py", "--set",
                           "no_such_set"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "no corpus or fresh set on disk" in done.stdout
