"""Report names of ``gapdoctor batch``: runs that share a file name are told apart by their
folders (``a/history.json`` -> ``a-history.pdf``), in the files, summary.csv and overview."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
from pypdf import PdfReader

from gapdoctor.cli.naming import report_names, summary_names

GAPDOCTOR = Path(sys.executable).parent / "gapdoctor"
HISTORY = {"loss": [1.0, 0.8, 0.6, 0.5, 0.4], "accuracy": [0.5, 0.6, 0.7, 0.8, 0.85],
           "val_loss": [1.1, 1.0, 1.0, 1.05, 1.1], "val_accuracy": [0.5, 0.55, 0.56, 0.55, 0.55]}


def _batch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GAPDOCTOR), "batch", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_batch_names_reports_after_the_folders_of_shared_file_names(tmp_path: Path) -> None:
    for folder in ("lr-0.1/seed0", "lr-0.1/seed1", "lr-0.01/seed0"):
        (tmp_path / "sweep" / folder).mkdir(parents=True)
        (tmp_path / "sweep" / folder / "history.json").write_text(json.dumps(HISTORY))
    (tmp_path / "sweep" / "baseline.json").write_text(json.dumps(HISTORY))
    expected = {"sweep/lr-0.1/seed0/history.json": "lr-0.1-seed0-history",
                "sweep/lr-0.1/seed1/history.json": "lr-0.1-seed1-history",
                "sweep/lr-0.01/seed0/history.json": "lr-0.01-seed0-history",
                "sweep/baseline.json": "baseline"}  # a unique stem keeps its own name
    listings = []
    for _ in range(2):  # a re-run writes the same files again, nothing beside them
        proc = _batch("sweep/**/*.json", "--out", "report", "--jobs", "1", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        listings.append(sorted(p.name for p in (tmp_path / "report").iterdir()))
        summary = pd.read_csv(tmp_path / "report" / "summary.csv")
        assert summary["error"].isna().all(), summary["error"]
        got = {path: (name, Path(pdf).name)
               for path, name, pdf in zip(summary["path"], summary["run_name"], summary["pdf"],
                                          strict=True)}
        assert got == {path: (name, f"{name}.pdf") for path, name in expected.items()}
    assert listings[0] == listings[1] == sorted(
        [f"{name}.pdf" for name in expected.values()] + ["overview.pdf", "summary.csv"])
    reader = PdfReader(str(tmp_path / "report" / "overview.pdf"))
    text = re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in reader.pages))
    for path, name in expected.items():  # each input beside its report (cells may wrap)
        assert path.removeprefix("sweep/") in text and f"{name}.pdf" in text


def test_batch_keeps_plain_stems_when_they_are_unique(tmp_path: Path) -> None:
    for name in ("h0", "h1"):
        (tmp_path / f"{name}.json").write_text(json.dumps(HISTORY))
    proc = _batch(str(tmp_path / "h0.json"), str(tmp_path / "h1.json"), "--out",
                  str(tmp_path / "out"), "--jobs", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in (tmp_path / "out").glob("*.pdf")} == {"h0.pdf", "h1.pdf",
                                                                   "overview.pdf"}


def test_report_names_of_what_still_clashes() -> None:
    assert report_names(["runs/a.json", "runs/a.csv", "runs/b.json"]) == ["a.json", "a.csv", "b"]
    assert report_names(["x/run1/", "y/run1"]) == ["x-run1", "y-run1"]  # record folders
    assert report_names(["a.json", "./a.json"]) == ["a.json", "a.json-2"]
    assert report_names(["r/a/history.json", "r/b/history.json", "r/a-history.json"]) == [
        "a-history", "b-history", "a-history-2"]
    assert report_names(["only.csv.gz"]) == ["only"]


def test_summary_names_follow_the_reports_where_run_names_clash() -> None:
    paths = ["a/log.csv", "b/log.csv", "c/other.json"]
    reports = dict(zip(paths, report_names(paths), strict=True))
    rows = ["a/log.csv#fit1", "a/log.csv#fit2", "b/log.csv", "c/other.json", "d/broken.json"]
    names = summary_names(["log", "log", "log", "other", None], rows, reports)
    assert names == ["a-log-fit1", "a-log-fit2", "b-log", "other", "broken"]
