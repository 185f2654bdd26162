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


def test_python_dash_m_runs_the_same_command(overfit: Path, tmp_path: Path) -> None:
    """``python -m gapdoctor`` for a venv whose scripts are not on PATH: same output, same
    exit codes as the ``gapdoctor`` script."""
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gapdoctor", *args], capture_output=True,
                              text=True, cwd=tmp_path, timeout=120)

    proc = run("analyze", str(overfit), "--fail-on", "0.5")
    assert proc.returncode == 1 and "verdict: overfitting" in proc.stdout, proc.stderr
    assert proc.stdout == gd("analyze", str(overfit), "--fail-on", "0.5").stdout
    assert "usage: gapdoctor" in run("--help").stdout
    assert_one_line_error(run("analyze", str(tmp_path / "missing.json")), "missing.json")


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


# -- real log shapes and error lines (issues 7 and 10) ------------------------------------------

def _saved_run(root: Path, name: str) -> None:
    from gapdoctor.record import RunRecord, save_record

    run = RunRecord.empty(run_name=name)
    run.curves = pd.DataFrame({"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.9, 0.95]})
    save_record(run, root / name)


def test_analyze_output_dir_reads_its_newest_run(tmp_path: Path) -> None:
    out = tmp_path / "gapdoctor-runs"
    _saved_run(out, "run-1")
    one = gd("analyze", str(out))
    assert one.returncode == 0, one.stderr
    assert "== run-1" in one.stdout and "note:" not in one.stdout
    _saved_run(out, "run-2")
    two = gd("analyze", str(out))
    assert two.returncode == 0, two.stderr
    assert "== run-2" in two.stdout and "holds 2 runs; analysed the newest" in two.stdout


def test_batch_with_nothing_to_analyse(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for target in (str(empty), str(tmp_path / "nothing-*.json")):
        proc = gd("batch", target, "--out", str(tmp_path / "out"))
        assert_one_line_error(proc, "nothing to analyse")
        assert proc.stdout == "" and not (tmp_path / "out").exists()


def test_batch_analyses_each_fit_of_an_appended_csv(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "appended.csv").write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,1.0\n2,0.7,1.0\n"
                                       "0,1.2,1.3\n1,0.9,1.1\n")
    (runs / "single.csv").write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,1.0\n")
    proc = gd("batch", str(runs), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert [Path(p).name for p in summary["path"]] == ["appended.csv#fit1", "appended.csv#fit2",
                                                       "single.csv"]
    assert list(summary["epochs"]) == [3, 2, 2] and summary["error"].isna().all()
    assert {p.name for p in (tmp_path / "out").glob("*.pdf")} >= {"appended-fit1.pdf",
                                                                   "appended-fit2.pdf"}


def test_an_unfinished_record_says_so_and_one_epoch_is_one_epoch(tmp_path: Path) -> None:
    from gapdoctor.record import RunRecord, save_record

    run = RunRecord.empty(run_name="killed")
    run.meta.update(completed=False, epochs_planned=300)
    run.curves = pd.DataFrame({"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.9, 0.95]})
    save_record(run, tmp_path / "killed")
    proc = gd("analyze", str(tmp_path / "killed"), "--json", str(tmp_path / "killed.json"))
    assert proc.returncode == 0, proc.stderr
    assert "(gapdoctor, 3 epochs)" in proc.stdout
    assert "unfinished: training stopped after 3 of 300 planned epochs" in proc.stdout
    # epochs counted from 0 as in CSVLogger files, with the progress bar's count beside them
    assert "best 0.9 at epoch 1 (Keras printed 'Epoch 2/300')" in proc.stdout
    summary = json.loads((tmp_path / "killed.json").read_text())["summary"]
    assert summary["completed"] is False and summary["epochs_planned"] == 300
    batch = gd("batch", str(tmp_path / "killed"), "--out", str(tmp_path / "out"), "--jobs", "1",
               "--no-pdf")
    assert batch.returncode == 0, batch.stderr
    assert pd.read_csv(tmp_path / "out" / "summary.csv")["unfinished"].tolist() == [True]
    (tmp_path / "one.csv").write_text("epoch,loss,val_loss\n0,1.0,1.1\n")
    one = gd("analyze", str(tmp_path / "one.csv"))
    assert "(csv_logger, 1 epoch)" in one.stdout and "unfinished: training" not in one.stdout
    finished = gd("batch", str(tmp_path / "one.csv"), "--out", str(tmp_path / "out1"), "--jobs", "1",
                  "--no-pdf")
    assert finished.returncode == 0, finished.stderr
    assert pd.read_csv(tmp_path / "out1" / "summary.csv")["unfinished"].tolist() == [False]


def test_batch_reads_the_tab_separated_logs_analyze_reads(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "tabs.tsv").write_text("epoch\tloss\tval_loss\n0\t1.0\t1.1\n1\t0.8\t1.0\n")
    assert gd("analyze", str(runs / "tabs.tsv")).returncode == 0
    proc = gd("batch", str(runs), "--out", str(tmp_path / "out"), "--jobs", "1", "--no-pdf")
    assert proc.returncode == 0, proc.stderr
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert [Path(p).name for p in summary["path"]] == ["tabs.tsv"]


@pytest.mark.parametrize("name, content, fragment", [
    ("random.txt", "The quick brown fox, being quick, jumps over the lazy dog.\nThen it "
                   "naps, sleeps and dreams of more dogs to jump over.\n", "not a training log"),
    ("null", "null", "JSON null, not a training log"),
    ("bad\nname.json", '{"loss": [1.0, "x"]}', "bad\\nname.json"),
])
def test_error_is_one_line(tmp_path: Path, name: str, content: str, fragment: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    proc = gd("analyze", str(path))
    assert_one_line_error(proc, fragment)
    assert "header but no rows" not in proc.stderr


def test_json_output_under_a_regular_file(overfit: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "report.txt"
    blocker.write_text("not a folder")
    proc = gd("analyze", str(overfit), "--json", str(blocker / "out.json"))
    assert_one_line_error(proc, "report.txt is a file, not a directory")
    assert "File exists" not in proc.stderr


def test_cli_keeps_our_warnings_and_hides_library_noise(
        monkeypatch: pytest.MonkeyPatch, overfit: Path) -> None:
    import warnings

    from gapdoctor.cli.main import main
    from gapdoctor.rules.base import Rule

    class Noisy(Rule):
        cause = "label_noise"

        def evaluate(self, run, ctx):  # noqa: ANN001, ANN201
            np.nanmean(np.array([np.nan]))  # numpy: "Mean of empty slice"
            warnings.warn("gapdoctor: a record field was unreadable", UserWarning, stacklevel=1)
            return Finding(cause=self.cause, score=0.1, summary="noisy")

    monkeypatch.setattr("gapdoctor.engine.RULES", [Noisy])
    monkeypatch.setattr(sys, "warnoptions", [])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        assert main(["analyze", str(overfit)]) == 0
    messages = [str(w.message) for w in caught]
    assert "gapdoctor: a record field was unreadable" in messages, messages
    assert not any("Mean of empty slice" in m for m in messages), messages


def test_subcommands_return_exit_code_constants() -> None:
    import ast

    import gapdoctor.cli as cli

    for name in ("analyze.py", "batch.py", "main.py"):
        tree = ast.parse((Path(cli.__file__).parent / name).read_text())
        literals = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Return)
                    and isinstance(node.value, ast.Constant) and type(node.value.value) is int]
        assert not literals, f"{name} returns literal exit codes at lines {literals}"


def test_a_score_under_the_threshold_never_prints_as_the_threshold(
        monkeypatch: pytest.MonkeyPatch, overfit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """0.4996 is not reported, so it must not read '0.50' (scores print rounded down)."""
    from gapdoctor.cli.main import main
    from gapdoctor.rules.base import Rule

    class Fixed(Rule):
        cause = "label_noise"

        def evaluate(self, run, ctx):  # noqa: ANN001, ANN201
            return Finding(cause=self.cause, score=0.4996, summary="fixed")

    monkeypatch.setattr("gapdoctor.engine.RULES", [Fixed])
    assert main(["analyze", str(overfit)]) == 0
    out = capsys.readouterr().out
    assert "below threshold: label_noise 0.49" in out and "label_noise 0.50" not in out
