"""The ``gapdoctor`` command line, run as a real subprocess (plus one in-process gate test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gapdoctor.diagnosis import CAUSES, Finding

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from keras_logs import keras_logs  # noqa: E402

GAPDOCTOR = Path(sys.executable).parent / "gapdoctor"


def gd(*args: str, cwd: Path | None = None, timeout: float = 120
       ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GAPDOCTOR), *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return keras_logs(tmp_path_factory.mktemp("keras_logs"))


@pytest.fixture(scope="module")
def overfit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A History JSON that overfits plainly: train loss falls, val loss turns up at 15."""
    e = np.arange(60)
    hist = {"loss": 2.0 * np.exp(-e / 8) + 0.01, "accuracy": 1 - 0.9 * np.exp(-e / 8),
            "val_loss": 0.9 + 0.02 * (e - 15) ** 2 / 15, "val_accuracy": 0.8 - 0.001 * abs(e - 15)}
    path = tmp_path_factory.mktemp("overfit") / "overfit.json"
    path.write_text(json.dumps({k: v.tolist() for k, v in hist.items()}))
    return path


def _imported_top_level(stderr: str) -> set[str]:
    """Top-level packages in ``python -X importtime`` output."""
    return {line.rsplit("|", 1)[-1].strip().split(".")[0]
            for line in stderr.splitlines() if line.startswith("import time:")}


def test_help_and_analyze_never_import_tensorflow(logs: dict[str, Path], tmp_path: Path) -> None:
    from gapdoctor.record import RunRecord, save_record

    record = RunRecord.empty(run_name="saved")
    record.curves = pd.DataFrame({"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.9, 0.95]})
    save_record(record, tmp_path / "saved")
    for args in (["--help"],
                 ["analyze", str(tmp_path / "saved"), str(logs["json"]), str(logs["tb"])]):
        proc = subprocess.run([sys.executable, "-X", "importtime", str(GAPDOCTOR), *args],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr[-2000:]
        modules = _imported_top_level(proc.stderr)
        assert "gapdoctor" in modules and not modules & {"tensorflow", "keras"}
        if args == ["--help"]:
            for word in ("analyze", "batch", "demo", "exit codes"):
                assert word in proc.stdout


def test_analyze_prints_ranked_summary_and_writes_outputs(logs: dict[str, Path],
                                                          overfit: Path, tmp_path: Path) -> None:
    proc = gd("analyze", str(overfit), str(logs["csv_freq2"]), "--json", str(tmp_path / "j/"),
              "--pdf", str(tmp_path / "report.pdf"))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "== overfit" in out and "verdict: overfitting" in out and "fix:" in out
    assert "== training  (csv_logger, 5 epochs)" in out
    assert "skipped" in out and "Traceback" not in proc.stderr
    doc = json.loads((tmp_path / "j" / "overfit.json").read_text())
    assert doc["schema"] == "gapdoctor.diagnosis/1" and doc["verdict"] == "overfitting"
    assert (tmp_path / "j" / "training.json").exists()
    from pypdf import PdfReader

    text = PdfReader(tmp_path / "report-overfit.pdf").pages[0].extract_text()
    assert "overfitting" in text.lower()
    assert (tmp_path / "report-training.pdf").stat().st_size > 1000


def test_fail_on_gates(overfit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failing = gd("analyze", str(overfit), "--fail-on", "0.5")
    assert failing.returncode == 1, failing.stderr
    assert "FAIL (--fail-on 0.5): overfit: overfitting scored" in failing.stdout
    from gapdoctor.cli.main import main

    assert main(["analyze", str(overfit), "--fail-on", "1"]) == 0
    assert "FAIL" not in capsys.readouterr().out


def test_fail_on_in_process(monkeypatch: pytest.MonkeyPatch, overfit: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    """The gate compares every finding (reported or not) with --fail-on."""
    from gapdoctor.cli.main import main
    from gapdoctor.rules.base import Rule

    class Fixed(Rule):
        cause = "label_noise"

        def evaluate(self, run, ctx):  # noqa: ANN001, ANN201
            return Finding(cause=self.cause, score=0.3, summary="fixed")

    monkeypatch.setattr("gapdoctor.engine.RULES", [Fixed])
    assert main(["analyze", str(overfit), "--fail-on", "0.3"]) == 1
    assert main(["analyze", str(overfit), "--fail-on", "0.31"]) == 0
    assert "below threshold: label_noise 0.30" in capsys.readouterr().out


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text('{"loss": [1.0, 0.9')
    assert_one_line_error(gd("analyze", str(path)), "run.json", "truncated JSON")


@pytest.mark.parametrize("content, fragment", [
    (None, "no such file"),
    (b"\x00\x01\x02binary", "binary file"),
    ('{"loss": ["low"]}', "'loss'[0] is a str"),
])
def test_bad_input_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              content: str | bytes | None, fragment: str) -> None:
    from gapdoctor.cli.main import main

    path = tmp_path / "run.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run.json" in err[0] and fragment in err[0], err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gapdoctor.cli.main import main

    proc = gd("analyze")
    assert proc.returncode == 2 and "required: PATH" in proc.stderr
    assert "Traceback" not in proc.stderr
    for args in (["analyze", "x.json", "--fail-on", "high"], ["analyze", "x", "--fail-on", "2"],
                 ["frobnicate"], ["batch", "x.json"],
                 ["batch", "x", "--out", str(tmp_path), "--jobs", "0"]):
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 2, args
    capsys.readouterr()
    assert main(["batch", str(tmp_path / "none-*.json"), "--out", str(tmp_path / "o")]) == 2
    assert main(["demo", "--fault", "gremlins"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no saved runs match" in err[0] and "unknown fault" in err[1]


def test_batch_with_one_unreadable_run(logs: dict[str, Path], overfit: Path,
                                       tmp_path: Path) -> None:
    runs = tmp_path / "sweep"
    runs.mkdir()
    for i in range(2):
        (runs / f"h{i}.json").write_text(logs["json"].read_text())
    (runs / "h3.json").write_text(overfit.read_text())
    (runs / "broken.json").write_text('{"loss": [1.0,')
    out = tmp_path / "out"
    proc = gd("batch", str(runs / "*.json"), str(logs["tb"]), "--out", str(out), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    assert "analysed 5 runs" in proc.stdout and "(1 with errors)" in proc.stdout
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 5
    assert {f"score_{c}" for c in CAUSES} <= set(summary.columns)
    for column in ("path", "run_name", "source", "verdict", "monitor", "best_value",
                   "best_epoch", "epochs", "error"):
        assert column in summary.columns
    broken = summary[summary["path"].str.endswith("broken.json")].iloc[0]
    assert "truncated JSON" in broken["error"] and pd.isna(broken["verdict"])
    good = summary[summary["error"].isna()]
    assert len(good) == 4 and set(good["source"]) == {"keras_history", "tensorboard"}
    assert summary.loc[summary["path"].str.endswith("h3.json"), "verdict"].item() == "overfitting"
    assert (out / "overview.pdf").exists() and len(list(out.glob("h*.pdf"))) == 3


def test_batch_no_pdf_jobs_1_matches_jobs_2(logs: dict[str, Path], tmp_path: Path) -> None:
    for i in range(6):
        (tmp_path / f"r{i}.csv").write_text(logs["csv_freq2"].read_text())
    tables = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        proc = gd("batch", str(tmp_path), "--out", str(out), "--jobs", jobs, "--no-pdf")
        assert proc.returncode == 0, proc.stderr
        assert not list(out.glob("*.pdf"))
        tables.append(pd.read_csv(out / "summary.csv"))
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert list(tables[0]["run_name"]) == [f"r{i}" for i in range(6)]
