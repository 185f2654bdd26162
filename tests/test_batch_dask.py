"""``gapdoctor batch --backend dask``: the CLI, run as a user would, sends the work to a real
dask.distributed scheduler (a LocalCluster in this process, reached over TCP) and writes
the same summary as the local backend; a missing dask or a scheduler that does not answer
is one line on stderr and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.batch_speed import write_histories

pytest.importorskip("distributed")

GAPDOCTOR = Path(sys.executable).parent / "gapdoctor"


def batch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GAPDOCTOR), "batch", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def histories(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("histories")
    write_histories(folder, 6)  # healthy, overfitting, plateau, unstable runs
    (folder / "broken.json").write_text("{not json")  # one unreadable run: an error row
    return folder


@pytest.fixture(scope="module")
def scheduler() -> str:
    """A dask cluster whose two worker threads live in this process, reached over TCP."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                      dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_dask_backend_writes_the_local_backends_summary(histories, scheduler, tmp_path):
    local = batch(str(histories / "*.json"), "--out", str(tmp_path / "local"), "--no-pdf",
                  "--jobs", "1")
    assert local.returncode == 0, local.stderr
    remote = batch(str(histories / "*.json"), "--out", str(tmp_path / "dask"), "--no-pdf",
                   "--backend", "dask", "--scheduler", scheduler)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout.startswith("analysed 7 runs") and "(1 with errors)" in remote.stdout
    expected = pd.read_csv(tmp_path / "local" / "summary.csv")
    got = pd.read_csv(tmp_path / "dask" / "summary.csv")
    pd.testing.assert_frame_equal(got, expected)
    assert expected["verdict"].notna().sum() == 6 and expected["error"].notna().sum() == 1


def test_dask_backend_writes_pdfs_and_the_overview(histories, scheduler, tmp_path):
    two = [str(p) for p in sorted(histories.glob("run*.json"))[:2]]
    proc = batch(*two, "--out", str(tmp_path / "out"), "--backend", "dask",
                 "--scheduler", scheduler)
    assert proc.returncode == 0, proc.stderr
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert [Path(p).exists() for p in summary["pdf"]] == [True, True]
    assert (tmp_path / "out" / "overview.pdf").stat().st_size > 1000


def test_missing_dask_is_one_line_and_exit_2(histories, tmp_path):
    fake = tmp_path / "site"
    (fake / "distributed").mkdir(parents=True)
    (fake / "distributed" / "__init__.py").write_text(
        "raise ImportError(\"No module named 'distributed'\")\n")
    proc = batch(str(histories / "*.json"), "--out", str(tmp_path / "out"), "--no-pdf",
                 "--backend", "dask", env={"PYTHONPATH": str(fake)})
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "needs dask.distributed" in proc.stderr and "gapdoctor[cluster]" in proc.stderr


def test_a_scheduler_that_does_not_answer_is_one_line_and_exit_2(histories, tmp_path):
    proc = batch(str(histories / "*.json"), "--out", str(tmp_path / "out"), "--no-pdf",
                 "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9",
                 env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"})
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "'tcp://127.0.0.1:9': no dask scheduler answered" in proc.stderr


def test_scheduler_without_the_dask_backend_is_a_usage_error(histories, tmp_path):
    proc = batch(str(histories / "*.json"), "--out", str(tmp_path / "out"),
                 "--scheduler", "tcp://127.0.0.1:8786")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "needs --backend dask (received --backend local)" in proc.stderr
