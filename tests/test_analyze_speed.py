"""What the speed work on ``gapdoctor analyze`` must not change: the report drawn in parts
while a forked process diagnoses is the report drawn in one go, the JSON is the diagnosis,
and ``import gapdoctor`` stays light. (The timings themselves: benchmarks/analyze_speed.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

from benchmarks.analyze_speed import make_record
from gapdoctor import diagnose, load_run
from gapdoctor.report import prebuild_sections, write_report

GAPDOCTOR = Path(sys.executable).parent / "gapdoctor"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return make_record(tmp_path_factory.mktemp("bench") / "bench-100")


def pdf_content(path: Path) -> list[tuple[str, list[bytes]]]:
    """Each page's text and the pixels of its images."""
    return [(page.extract_text(), [image.image.tobytes() for image in page.images])
            for page in pypdf.PdfReader(path).pages]


def test_prebuilt_report_equals_the_report_drawn_in_one_go(run_dir, tmp_path):
    run = load_run(run_dir)
    diagnosis = diagnose(run)
    assert diagnosis.summary["best_epoch"] not in (None, run.n_epochs - 1)  # (so it shows)
    write_report(run, diagnosis, tmp_path / "one-go.pdf")
    write_report(run, diagnosis, tmp_path / "parts.pdf", prebuild_sections(run))
    one_go, parts = pdf_content(tmp_path / "one-go.pdf"), pdf_content(tmp_path / "parts.pdf")
    assert len(one_go) >= 5 and sum(len(images) for _, images in one_go) >= 5
    assert parts == one_go


def test_prebuilt_sections_for_another_best_epoch_are_redrawn(run_dir, tmp_path):
    run = load_run(run_dir)
    diagnosis = diagnose(run)
    prebuilt = prebuild_sections(run)
    moved = diagnose(run)
    moved.summary = {**moved.summary, "best_epoch": 3}
    write_report(run, moved, tmp_path / "moved.pdf", prebuilt)
    write_report(run, moved, tmp_path / "fresh.pdf")
    assert pdf_content(tmp_path / "moved.pdf") == pdf_content(tmp_path / "fresh.pdf")
    assert diagnosis.summary["best_epoch"] != 3


def test_cli_writes_the_diagnosis_and_the_same_report(run_dir, tmp_path):
    proc = subprocess.run([str(GAPDOCTOR), "analyze", str(run_dir), "--json",
                           str(tmp_path / "d.json"), "--pdf", str(tmp_path / "cli.pdf")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    run = load_run(run_dir)
    diagnosis = diagnose(run)
    assert json.loads((tmp_path / "d.json").read_text()) == json.loads(diagnosis.to_json())
    write_report(run, diagnosis, tmp_path / "here.pdf")
    assert pdf_content(tmp_path / "cli.pdf") == pdf_content(tmp_path / "here.pdf")


def test_import_gapdoctor_imports_nothing_heavy():
    code = ("import sys, gapdoctor\n"
            "heavy = ('numpy', 'pandas', 'scipy', 'sklearn', 'matplotlib', 'reportlab',"
            " 'tensorflow', 'keras')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip() == "[]"


def test_the_analyze_process_loads_no_scipy_stats_or_scikit_learn_before_the_fork():
    """The modules ``gapdoctor analyze`` imports in its own process (the analysis facts come
    with the report's imports) leave scipy.stats and scikit-learn to the diagnosing child:
    loaded here, they cost about 0.7 s of CPU on the critical path (a module-level
    ``from scipy.stats import binom`` did, 2026-11-29)."""
    code = ("import sys\n"
            "import gapdoctor.cli.analyze, gapdoctor.report, gapdoctor.engine, gapdoctor.rules\n"
            "import gapdoctor.analysis.context, gapdoctor.analysis.integrity\n"
            "print(sorted({m for m in sys.modules if m.startswith(('scipy.stats', 'sklearn'))})[:3])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip() == "[]"


# -- the warm child (gapdoctor/cli/diagnosis_child.py) ------------------------------------------
def _children() -> set[int]:
    """This process's child processes (zombies included): none may be left behind."""
    tasks = list(Path("/proc/self/task").glob("*/children"))
    if not tasks:
        pytest.skip("reads /proc/self/task/*/children")
    return {int(pid) for task in tasks for pid in task.read_text().split()}


def test_the_warm_child_preloads_what_the_diagnosis_imports(run_dir):
    code = ("import importlib, sys\n"
            "from gapdoctor.cli.diagnosis_child import PRELOAD\n"
            "for name in PRELOAD: importlib.import_module(name)\n"
            f"from gapdoctor import diagnose, load_run; run = load_run({str(run_dir)!r})\n"
            "before = set(sys.modules); diagnose(run)\n"
            "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in "
            "('gapdoctor', 'sklearn', 'scipy', 'numpy', 'joblib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("trouble", ["child fails", "no memfd"])
def test_the_warm_child_in_trouble(run_dir, tmp_path, monkeypatch, trouble):
    """A failing warm child leaves the diagnosis to this process; without memfd_create
    the record goes through a temporary file."""
    from gapdoctor.cli import diagnosis_child
    from gapdoctor.cli.main import main

    served = []
    take = diagnosis_child.WarmChild.take
    monkeypatch.setattr(diagnosis_child.WarmChild, "take",
                        lambda self: served.append(take(self)) or served[-1])
    if trouble == "child fails":
        monkeypatch.setattr(diagnosis_child, "PRELOAD", ("gapdoctor.no_such_module",))
    else:  # the record goes through a temporary file instead
        def no_memfd(*args):
            raise OSError("not allowed here")

        monkeypatch.setattr(diagnosis_child.os, "memfd_create", no_memfd, raising=False)
    before = _children()
    assert main(["analyze", str(run_dir), "--json", str(tmp_path / "d.json")]) in (0, 1)
    assert _children() == before
    expected = json.loads(diagnose(load_run(run_dir)).to_json())
    assert json.loads((tmp_path / "d.json").read_text()) == expected
    assert served and (served[0] is not None or trouble == "child fails")  # it took the run


def test_the_warm_child_serves_the_first_readable_run_and_stops_without_one(
        run_dir, tmp_path, monkeypatch, capsys):
    from gapdoctor.cli import diagnosis_child
    from gapdoctor.cli.main import main

    started = []
    start = diagnosis_child.WarmChild.start
    monkeypatch.setattr(diagnosis_child.WarmChild, "start",
                        classmethod(lambda cls: started.append(start()) or started[-1]))
    before = _children()
    assert main(["analyze", str(tmp_path / "missing.json")]) == 2
    assert started[-1] is not None and _children() == before  # stopped and reaped
    other = make_record(tmp_path / "other", seed=1)
    assert main(["analyze", str(tmp_path / "missing.json"), str(run_dir), str(other),
                 "--json", str(tmp_path / "out/")]) == 2
    assert _children() == before and started[-1]._taken
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("missing.json" in line for line in err)
    for path, name in ((run_dir, "bench-100"), (other, "bench-100-2")):  # same run name
        written = json.loads((tmp_path / "out" / f"{name}.json").read_text())
        assert written == json.loads(diagnose(load_run(path)).to_json())


def test_artists_built_without_set_docs_still_set_everything():
    code = ("from gapdoctor.cli.lean_imports import artists_without_set_docs\n"
            "from matplotlib.artist import Artist\n"
            "hook = Artist.__dict__['_update_set_signature_and_docstring']\n"
            "with artists_without_set_docs():\n"
            "    from matplotlib.lines import Line2D\n"
            "    from matplotlib.text import Text\n"
            "line = Line2D([0, 1], [0, 1]); line.set(color='red', lw=3)\n"
            "text = Text(text='a'); text.set(fontsize=7, color='blue')\n"
            "print(line.get_color(), line.get_linewidth(), text.get_fontsize(),\n"
            "      Artist.__dict__['_update_set_signature_and_docstring'] is hook)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.split() == ["red", "3.0", "7.0", "True"]


def test_scipy_without_backend_notes_keeps_scipy_working():
    code = ("import numpy as np\n"
            "from gapdoctor.cli.lean_imports import scipy_without_backend_notes\n"
            "from scipy._lib import _array_api\n"
            "parser = _array_api.FunctionDoc\n"
            "with scipy_without_backend_notes():\n"
            "    from scipy import stats\n"
            "a, b = np.arange(20.0), np.arange(20.0) + 3\n"
            "print(round(stats.ks_2samp(a, b).pvalue, 6), round(stats.spearmanr(a, b)[0], 6),\n"
            "      'Array API Standard Support' in (stats.ks_2samp.__doc__ or ''),\n"
            "      _array_api.FunctionDoc is parser)")
    plain = code.replace("with scipy_without_backend_notes():\n    ", "")
    run = [subprocess.run([sys.executable, "-c", c], capture_output=True, text=True, timeout=60,
                          check=True).stdout.split() for c in (code, plain)]
    assert run[0][:2] == run[1][:2] and run[0][2:] == ["False", "True"]
