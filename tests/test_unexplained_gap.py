"""A "healthy" verdict never hides a real gap: when no cause reaches the threshold but
training accuracy ends 15 points or more above validation (beyond validation's interval),
the console, the callback's summary, the JSON, the batch table and the PDF say so, name the
leading causes and the check that tells them apart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
from pypdf import PdfReader

from gapdoctor import diagnose, load_run
from gapdoctor.analysis.gap import GAP_MEMORISED, established_gap
from gapdoctor.callback.console import summary as callback_summary
from gapdoctor.cli.common import format_summary
from gapdoctor.diagnosis import Diagnosis, Finding
from gapdoctor.report import write_report

GAPDOCTOR = Path(sys.executable).parent / "gapdoctor"


def _history(path: Path, val_accuracy: list[float]) -> Path:
    n = len(val_accuracy)
    history = {"loss": [1.2 * 0.7 ** i for i in range(n)],
               "accuracy": [min(1.0, 0.55 + 0.06 * i) for i in range(n)],
               "val_loss": [1.0 + 0.01 * i for i in range(n)],
               "val_accuracy": val_accuracy}
    path.write_text(json.dumps(history))
    return path


def test_the_gap_must_be_wide_and_beyond_validation_noise() -> None:
    train = pd.Series([0.9, 0.95, 1.0])
    assert established_gap(train, train - GAP_MEMORISED + 0.01, None) is None
    assert established_gap(train, train - 0.2, None)["gap"] == 0.2
    # 20 points on 12 validation samples is inside their interval: not established
    assert established_gap(train, train - 0.2, (12, 0.77, 0.50, 0.92)) is None


def test_no_finding_but_a_real_gap_is_said_everywhere(tmp_path: Path) -> None:
    run = load_run(_history(tmp_path / "history.json", [0.5, 0.55, 0.56, 0.55] + [0.56] * 8))
    # a threshold nothing reaches: the verdict is healthy by contract
    d = diagnose(run, threshold=0.99)
    assert d.verdict == "healthy"
    gap = d.unexplained_gap
    assert gap is not None and abs(gap["gap"] - (1.0 - 0.56)) < 0.01
    assert [c for c, _ in gap["candidates"]] == [f.cause for f in d.findings[:2]]
    assert gap["tell_apart"]
    assert json.loads(d.to_json())["unexplained_gap"]["gap"] == gap["gap"]
    text = format_summary("history.json", run, d)
    assert "verdict: healthy" in text and "but the gap is real" in text and "44 points" in text
    assert "but the gap is real" in callback_summary(run, d, {})
    pdf = tmp_path / "report.pdf"
    write_report(run, d, pdf)
    page1 = PdfReader(str(pdf)).pages[0].extract_text()
    assert "but the run is not healthy" in " ".join(page1.split())
    assert "looks healthy" not in page1


def test_a_small_gap_stays_a_plain_healthy_verdict(tmp_path: Path) -> None:
    run = load_run(_history(tmp_path / "history.json", [0.5 + 0.06 * i for i in range(8)]
                            + [0.95] * 4))
    d = diagnose(run, threshold=0.99)
    assert d.verdict == "healthy" and d.unexplained_gap is None
    assert "but the gap is real" not in format_summary("history.json", run, d)
    # and a reported cause is the verdict, with no gap note beside it
    reported = Diagnosis(findings=[Finding(cause="overfitting", score=0.8, summary="memorised")],
                         summary={"gap": {"train": 1.0, "val": 0.5, "gap": 0.5}})
    assert reported.unexplained_gap is None


def test_batch_lists_the_unexplained_gap(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    _history(runs / "wide.json", [0.5, 0.55, 0.56, 0.55] + [0.56] * 8)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(GAPDOCTOR), "batch", str(runs / "*.json"),
                           "--out", str(out), "--no-pdf"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "summary.csv")
    assert "unexplained_gap" in table.columns
    row = table.iloc[0]
    # whichever verdict the evidence gives, the column is filled only for a healthy one
    assert (row["verdict"] == "healthy") == pd.notna(row["unexplained_gap"])


def test_an_imported_log_is_judged_at_the_size_its_steps_show(tmp_path: Path) -> None:
    """A History holds no validation size: accuracies in steps of 0.1 mean 10 samples, whose
    interval (+-0.25) swallows a 20-point gap; the same gap in steps of 1/500 is real."""
    tens = [0.6, 0.7, 0.8, 0.7, 0.8, 0.8, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8]
    run = load_run(_history(tmp_path / "tiny.json", tens))
    assert diagnose(run, threshold=0.99).unexplained_gap is None
    fine = [round(v - 0.002, 3) for v in tens]  # multiples of 1/500
    run = load_run(_history(tmp_path / "fine.json", fine))
    assert diagnose(run, threshold=0.99).unexplained_gap is not None
