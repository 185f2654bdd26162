"""Packaging, the diagnosis.json schema, the examples and the demo, run as a user would.

Every example runs as a real subprocess on logs written by ``examples/make_sample_logs.py``;
the wheel test builds and installs the package outside the repository, so the cause texts
must come from the wheel's package data.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCHEMA = json.loads((ROOT / "docs" / "diagnosis.schema.json").read_text(encoding="utf-8"))
BIN = Path(sys.executable).parent


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHON=sys.executable, TF_CPP_MIN_LOG_LEVEL="2")
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, timeout: float = 120, **env: str
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_env(**env), capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples") / "logs"
    proc = _run([sys.executable, str(EXAMPLES / "make_sample_logs.py"), str(out)], cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return out


def _validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(SCHEMA)


# -- diagnosis.json schema ---------------------------------------------------------------

@pytest.fixture(scope="module")
def history_diagnosis(samples: Path) -> dict[str, Any]:
    from gapdoctor import diagnose, load_run

    return json.loads(diagnose(load_run(samples / "history.json")).to_json())


def test_schema_accepts_a_real_diagnosis(history_diagnosis: dict[str, Any]) -> None:
    _validator().validate(history_diagnosis)
    assert history_diagnosis["verdict"] == "overfitting"
    assert history_diagnosis["findings"][0]["evidence"] and history_diagnosis["findings"][0]["fixes"]


def test_schema_cause_vocabulary_matches_the_code() -> None:
    from gapdoctor.diagnosis import CAUSES, DIAGNOSIS_SCHEMA

    assert SCHEMA["properties"]["schema"]["const"] == DIAGNOSIS_SCHEMA
    assert set(SCHEMA["$defs"]["cause"]["enum"]) == set(CAUSES)
    assert set(SCHEMA["properties"]["verdict"]["enum"]) == {*CAUSES, "healthy", "inconclusive"}


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    *parents, last = path
    for key in parents:
        doc = doc[key]
    if value is _DELETE:
        del doc[last]
    else:
        doc[last] = value


_DELETE = object()
BROKEN = {
    "score above 1": (("findings", 0, "score"), 1.2),
    "negative score": (("findings", 0, "score"), -0.1),
    "unknown cause": (("findings", 0, "cause"), "bad_luck"),
    "unknown verdict": (("verdict",), "probably_fine"),
    "no evidence list": (("findings", 0, "evidence"), _DELETE),
    "evidence without supports": (("findings", 0, "evidence", 0, "supports"), _DELETE),
    "supports as text": (("findings", 0, "evidence", 0, "supports"), "yes"),
    "fix without title": (("findings", 0, "fixes", 0, "title"), _DELETE),
    "other schema version": (("schema",), "gapdoctor.diagnosis/2"),
    "findings not a list": (("findings",), {"overfitting": 0.9}),
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_schema_rejects_a_broken_document(history_diagnosis: dict[str, Any], broken: str) -> None:
    doc = copy.deepcopy(history_diagnosis)
    _set(doc, *BROKEN[broken])
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(doc)


def test_schema_allows_added_fields(history_diagnosis: dict[str, Any]) -> None:
    doc = copy.deepcopy(history_diagnosis)
    doc["findings"][0]["details"]["new_measurement"] = [1, 2]
    doc["findings"][0]["confidence_band"] = [0.8, 0.9]
    doc["generated_by"] = "gapdoctor 0.2"
    _validator().validate(doc)


# -- examples ----------------------------------------------------------------------------

def test_offline_cli_example(tmp_path: Path) -> None:
    proc = _run(["sh", str(EXAMPLES / "offline_cli.sh"), "out"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for source in ("keras_history", "csv_logger", "tensorboard"):
        assert f"({source}, 30 epochs)" in proc.stdout
    assert proc.stdout.count("verdict: overfitting") == 3, proc.stdout
    _validator().validate(json.loads((tmp_path / "out" / "history-diagnosis.json").read_text()))
    assert (tmp_path / "out" / "csv-report.pdf").read_bytes()[:5] == b"%PDF-"


def test_sweep_batch_example(tmp_path: Path) -> None:
    proc = _run(["sh", str(EXAMPLES / "sweep_batch.sh"), "out"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    by_rate = {Path(row[2]).parent.name: (row[0], row[1]) for row in rows
               if len(row) == 3 and row[2].endswith("history.json")}
    assert by_rate == {rate: (verdict, f"{rate}-history.pdf") for rate, verdict in (
        ("lr-0.0001", "healthy"), ("lr-0.001", "healthy"), ("lr-0.003", "healthy"),
        ("lr-0.1", "optimization"))}, proc.stdout
    report = tmp_path / "out" / "sweep-report"
    assert (report / "overview.pdf").exists() and len(list(report.glob("lr-*-history.pdf"))) == 4


def test_ci_gate_example(samples: Path, tmp_path: Path) -> None:
    gate = ["sh", str(EXAMPLES / "ci_gate.sh")]
    failing = _run([*gate, str(samples / "history.json"), "0.6"], cwd=tmp_path)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "a cause reached 0.6" in failing.stdout
    assert json.loads((tmp_path / "gapdoctor-diagnosis.json").read_text())["verdict"] == "overfitting"
    passing = _run([*gate, str(samples / "sweep" / "lr-0.001" / "history.json")], cwd=tmp_path)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    missing = _run([*gate, str(tmp_path / "no-such-log.json")], cwd=tmp_path)
    assert missing.returncode == 2 and "could not analyse" in missing.stdout
    assert len(missing.stderr.strip().splitlines()) == 1, missing.stderr


def test_offline_api_example(samples: Path, tmp_path: Path) -> None:
    proc = _run([sys.executable, str(EXAMPLES / "offline_api.py"), str(samples / "training.csv"),
                 "--pdf", "r.pdf"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "verdict overfitting" in proc.stdout and "first fix:" in proc.stdout
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"


def test_groups_and_class_names_example(tmp_path: Path) -> None:
    """Trains a real (tiny) model: about 10 s, most of it importing TensorFlow."""
    proc = _run([sys.executable, str(EXAMPLES / "groups_and_class_names.py"), "--out", "runs",
                 "--epochs", "4"], cwd=tmp_path, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "faint strokes" in proc.stdout and "bold strokes" in proc.stdout
    record = json.loads(next((tmp_path / "runs").glob("*/record.json")).read_text())
    assert "zero" in json.dumps(record)  # the class names reached the record


# -- the wheel ---------------------------------------------------------------------------

def test_installed_wheel_reads_its_own_templates(samples: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "gapdoctor", src / "gapdoctor",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "--no-input"]
    built = _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                  "-w", "dist", str(src)], cwd=tmp_path, timeout=180)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("gapdoctor-*.whl"))
    target = tmp_path / "site"
    installed = _run([*pip, "install", "--no-deps", "--no-index", "--target", str(target),
                      str(wheel)], cwd=tmp_path, timeout=180)
    assert installed.returncode == 0, installed.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run([sys.executable, "-c", "import gapdoctor.templates as t; print(t.templates_dir())"],
                 cwd=elsewhere, PYTHONPATH=str(target))
    assert where.stdout.strip().startswith(str(target)), where.stdout + where.stderr
    proc = _run([sys.executable, "-m", "gapdoctor.cli.main", "analyze",
                 str(samples / "history.json"), "--json", "d.json"],
                cwd=elsewhere, PYTHONPATH=str(target))
    assert proc.returncode == 0, proc.stderr
    assert "verdict: overfitting" in proc.stdout
    doc = json.loads((elsewhere / "d.json").read_text())
    assert doc["errors"] == [] and doc["findings"][0]["title"] == "Overfitting"
    assert doc["findings"][0]["fixes"], "fix texts come from the packaged templates"


# -- the demo ----------------------------------------------------------------------------

def test_demo_shows_progress_stays_quiet_and_exits_promptly(tmp_path: Path) -> None:
    """``gapdoctor demo`` as a new user runs it (no TF_CPP_MIN_LOG_LEVEL set): ~20 s."""
    env = _env()
    env.pop("TF_CPP_MIN_LOG_LEVEL")
    stderr_file = tmp_path / "stderr.txt"
    with stderr_file.open("w") as err:
        proc = subprocess.Popen([str(BIN / "gapdoctor"), "demo", "--out", "demo-out"],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=err,
                                text=True)
        lines, reported_at = [], None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("report: "):
                reported_at = time.perf_counter()
        code = proc.wait(timeout=300)
        after_report = time.perf_counter() - reported_at if reported_at else None
    stdout, stderr = "".join(lines), stderr_file.read_text()
    assert code == 0, stdout + stderr
    report = Path(stdout.split("report: ", 1)[1].splitlines()[0])
    assert report.exists() and (report.parent / "diagnosis.json").exists()
    _validator().validate(json.loads((report.parent / "diagnosis.json").read_text()))
    assert "gapdoctor's verdict: label_noise" in stdout
    progress = re.findall(r"\] (\d+)/(\d+) epochs", stderr)
    assert len(progress) >= 5 and progress[-1][0] == progress[-1][1], stderr
    assert "oneDNN" not in stderr and "absl" not in stderr, stderr
    # Before: 1.1 s (idle) to 3.6 s (busy) between this line and the exit, spent in the
    # final garbage collection of TensorFlow's objects.
    assert after_report is not None and after_report < 1.0, after_report
