"""Property-based fuzzing of every importer and the record loader (fast profile).

The property (``fixtures/fuzz_check.py``): an input either loads into records that
``diagnose`` handles, or raises ``GapDoctorError``; nothing else may escape. About 300
inputs per target, derandomised so a run is repeatable; ``benchmarks/fuzz.py`` runs the
long profile (10,000+ inputs, random) and prints counts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from fuzz_binary import base_record, event_file_bytes, mutated_manifest  # noqa: E402
from fuzz_check import csv_case, events_case, history_case, record_case  # noqa: E402
from fuzz_inputs import csv_bytes, history_json_bytes  # noqa: E402

FAST = settings(max_examples=300, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    run_dir = tmp_path_factory.mktemp("base") / "run"
    return run_dir, base_record(run_dir)


def test_history_json(tmp: Path) -> None:
    outcomes: list[str] = []

    @FAST
    @given(history_json_bytes())
    def check(data: bytes) -> None:
        outcomes.append(history_case(tmp, data)[0])

    check()
    assert {"ok", "error"} <= set(outcomes), "the generator must reach both outcomes"


def test_csv_logger(tmp: Path) -> None:
    outcomes: list[str] = []

    @FAST
    @given(csv_bytes())
    def check(data: bytes) -> None:
        outcomes.append(csv_case(tmp, data)[0])

    check()
    assert {"ok", "error"} <= set(outcomes)


def test_tensorboard_events(tmp: Path) -> None:
    outcomes: list[str] = []

    @FAST
    @given(event_file_bytes(), st.sampled_from(["train", "validation"]))
    def check(data: bytes, split: str) -> None:
        outcomes.append(events_case(tmp, data, split)[0])

    check()
    assert {"ok", "error"} <= set(outcomes)


def test_record_loader(tmp: Path, base: tuple[Path, dict]) -> None:
    base_dir, manifest = base
    outcomes: list[str] = []

    @FAST
    @given(mutated_manifest(manifest))
    def check(text: str) -> None:
        outcomes.append(record_case(tmp, base_dir, text)[0])

    check()
    assert {"ok", "error"} <= set(outcomes)
