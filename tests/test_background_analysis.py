"""The train-end analysis in a spawned process: ``fit`` returns when training ends, the first
read of ``doctor.diagnosis`` waits for the result, failures reach the user, and the analysis
process never outlives the training process (exit, SIGKILL, Ctrl-C)."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pypdf  # noqa: E402
from scripts.tiny import digits, fit, mlp  # noqa: E402

from gapdoctor import diagnose, load_run  # noqa: E402
from gapdoctor.callback import GapDoctor, Probe  # noqa: E402
from gapdoctor.callback.background import child_command  # noqa: E402

SCRIPT = Path(__file__).parent / "scripts" / "background_fit.py"


@pytest.fixture(scope="module")
def data():
    return digits(n_train=200)


def train(data, output_dir, **kwargs):
    """Fit with GapDoctor; returns (doctor, GapDoctor warnings raised inside fit)."""
    x_tr, x_va, y_tr, y_va = data
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=output_dir, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(mlp(), data, doctor, epochs=2)
    return doctor, [str(w.message) for w in caught if "GapDoctor" in str(w.message)]


def read_diagnosis(doctor):
    """``doctor.diagnosis`` and the GapDoctor warnings its first read raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        diagnosis = doctor.diagnosis
    return diagnosis, [str(w.message) for w in caught if "GapDoctor" in str(w.message)]


@pytest.fixture(scope="module")
def background_run(data, tmp_path_factory):
    """One default fit (background analysis, report, verbose) and what it printed."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        doctor, ours = train(data, tmp_path_factory.mktemp("runs"))
        at_fit_end = {"printed": out.getvalue(), "timings": dict(doctor.timings),
                      "pending": doctor._pending is not None, "warnings": ours}
        diagnosis, read_warnings = read_diagnosis(doctor)
    return doctor, diagnosis, at_fit_end, out.getvalue(), read_warnings


def test_fit_returns_before_the_analysis_and_diagnosis_waits_for_it(background_run):
    doctor, diagnosis, at_fit_end, printed, read_warnings = background_run
    assert at_fit_end["pending"] and not at_fit_end["warnings"]
    assert at_fit_end["timings"]["background_start"] < 1.0  # only the process start
    assert "diagnosis" not in at_fit_end["timings"]  # not analysed inside fit
    assert "diagnosing it in the background" in at_fit_end["printed"]
    assert "verdict" not in at_fit_end["printed"]
    # the first read waited for the whole analysis: both files are complete
    assert diagnosis is not None and not read_warnings and doctor._pending is None
    saved = json.loads((doctor.run_dir / "diagnosis.json").read_text())
    assert saved["verdict"] == diagnosis.verdict
    assert len(pypdf.PdfReader(doctor.run_dir / "report.pdf").pages) >= 1
    assert not [p.name for p in doctor.run_dir.iterdir() if p.name.endswith(".tmp")]
    # ... and the summary was printed then, with the files' paths
    assert f"GapDoctor: verdict {diagnosis.verdict!r}" in printed
    assert str(doctor.run_dir / "report.pdf") in printed
    assert doctor.timings["diagnosis"] > 0 and doctor.timings["report"] > 0


def test_background_diagnosis_equals_the_offline_one(background_run):
    doctor, diagnosis, *_ = background_run
    offline = diagnose(load_run(doctor.run_dir))
    assert [(f.cause, round(f.score, 6)) for f in diagnosis.findings] == \
        [(f.cause, round(f.score, 6)) for f in offline.findings]
    assert doctor.diagnosis is diagnosis  # later reads return the same object at once


def test_the_analysis_process_never_imports_tensorflow(background_run):
    doctor = background_run[0]
    command = child_command(doctor.run_dir, seq=3, report=False)
    command[1:1] = ["-X", "importtime"]
    proc = subprocess.run(command, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in
                proc.stderr.decode().splitlines() if line.startswith("import time:")]
    assert "gapdoctor.engine" in imported  # (the check reads the right lines)
    assert not [m for m in imported if m.split(".")[0] in ("tensorflow", "keras")]
    assert pickle.loads(proc.stdout)["diagnosis"].verdict == doctor.diagnosis.verdict


def test_synchronous_option_analyses_inside_fit(data, tmp_path):
    doctor, ours = train(data, tmp_path, background=False, verbose=0)
    assert not ours and doctor._pending is None and "background_start" not in doctor.timings
    assert (doctor.run_dir / "diagnosis.json").exists() and (doctor.run_dir / "report.pdf").exists()
    assert doctor.timings["diagnosis"] > 0 and doctor.diagnosis is not None


class ReportInTheWay(Probe):
    """Puts a folder where report.pdf should go, so that writing the report fails."""

    name = "report_in_the_way"

    def on_train_end(self, state):
        (state.run_dir / "report.pdf").mkdir()


def test_a_failure_in_the_background_is_recorded_and_warned_when_read(data, tmp_path):
    doctor, ours = train(data, tmp_path, probes=[ReportInTheWay()], verbose=0)
    assert not ours  # nothing had failed when fit returned
    diagnosis, warned = read_diagnosis(doctor)
    assert diagnosis is not None and len(warned) == 1
    assert "failed in the background analysis (report)" in warned[0]
    assert "diagnosis.json, no report.pdf" in warned[0] and str(doctor.run_dir) in warned[0]
    assert [f["probe"] for f in doctor.record.failures] == ["report"]
    on_disk = load_run(doctor.run_dir)  # the record on disk says so too
    assert [f["probe"] for f in on_disk.failures] == ["report"]
    assert "IsADirectoryError" in on_disk.failures[0]["error"]


def test_a_killed_analysis_process_is_reported_not_raised(data, tmp_path):
    doctor, _ = train(data, tmp_path, verbose=0)
    doctor._pending.proc.kill()
    diagnosis, warned = read_diagnosis(doctor)
    assert diagnosis is None and len(warned) == 1
    assert "background_analysis" in warned[0] and "gapdoctor analyze" in warned[0]
    assert "no diagnosis.json" in warned[0]
    assert load_run(doctor.run_dir).meta["completed"] is True  # the record is intact


def test_a_second_fit_first_finishes_the_last_analysis(data, tmp_path):
    doctor, _ = train(data, tmp_path, run_name="again", verbose=0)
    first = doctor.run_dir
    fit(mlp(), data, doctor, epochs=1)
    assert (first / "diagnosis.json").exists() and (first / "report.pdf").exists()
    assert doctor.diagnosis is not None and doctor.run_dir.name == "again-1"
    assert (doctor.run_dir / "report.pdf").exists()


# -- the training process ends: the analysis process goes with it ------------------------------
def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie has exited (its parent died before reaping it)


def _start(tmp_path: Path, mode: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(tmp_path / "runs"), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    lines = []
    while not (lines and lines[-1].startswith("child ")):
        lines.append(proc.stdout.readline())
        if not lines[-1]:
            proc.wait(60)
            pytest.fail(f"the script ended early: {''.join(lines)} {proc.stderr.read()[-2000:]}")
    assert "diagnosing it in the background" in "".join(lines)
    return proc, int(lines[-1].split()[1])


def _wait_gone(pid: int, seconds: float = 15.0) -> None:
    deadline = time.time() + seconds
    while not _gone(pid):
        assert time.time() < deadline, f"the analysis process {pid} outlived its parent"
        time.sleep(0.1)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_script_that_ends_after_fit_still_gets_its_report(tmp_path):
    proc, child = _start(tmp_path, "exit")
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err[-2000:]
    _wait_gone(child, 1.0)
    run_dir = tmp_path / "runs" / "bg"
    assert (run_dir / "diagnosis.json").exists()
    assert len(pypdf.PdfReader(run_dir / "report.pdf").pages) >= 1
    assert "GapDoctor: verdict" in out  # the summary, printed while exiting


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("mode", ["sigkill", "wait"])
def test_no_orphan_after_sigkill_or_ctrl_c(tmp_path, mode):
    proc, child = _start(tmp_path, mode)
    if mode == "wait":
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole group
    proc.wait(timeout=240)   # importing TensorFlow and training, on a possibly busy machine
    # stopped, not left to finish: the analysis takes longer than this (imports alone ~1 s)
    _wait_gone(child, 3.0 if mode == "sigkill" else 15.0)
    run_dir = tmp_path / "runs" / "bg"
    if mode == "sigkill":
        assert not (run_dir / "report.pdf").exists()
    leftovers = [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers  # interrupted, the analysis removed its temporary files
    assert load_run(run_dir).meta["completed"] is True
    if (run_dir / "diagnosis.json").exists():  # whatever is on disk is complete
        assert json.loads((run_dir / "diagnosis.json").read_text())["verdict"]
