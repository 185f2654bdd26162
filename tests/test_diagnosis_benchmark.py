"""The fast subset of the fault-injection benchmark, on real Keras trainings.

Each of the 11 runs (every fault once at the strong severity, two healthy runs) trains a
small model with one known fault (or none) and lets the GapDoctor callback diagnose it. The build fails below top-1 0.8; every rule must fire on
its own fault and stay quiet on the healthy runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.diagnosis.run import run_benchmark, score
from gapdoctor import CAUSES, diagnose, load_run
from gapdoctor.diagnosis import Diagnosis


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    out = tmp_path_factory.mktemp("diagnosis-benchmark")
    results = run_benchmark("fast", jobs=2, out=out, progress=False)
    return results, out / "records-fast"


def _record(records: Path, row: pd.Series) -> Path:
    return records / f"{row.fault}-{row.dataset}-{row.arch}-s{row.severity}-r{row.seed}"


@pytest.fixture(scope="module")
def diagnosed() -> Callable[[Path], Diagnosis]:
    """The diagnosis of a saved record, read from disk once per module: every cause's test
    reads the two healthy runs, and diagnosing a record takes about two seconds."""
    return functools.cache(lambda path: diagnose(load_run(path)))


def test_fast_subset_meets_the_build_threshold(fast: tuple[pd.DataFrame, Path]) -> None:
    results, _ = fast
    s = score(results)
    wrong = results[results["verdict"] != results["fault"]][["fault", "dataset", "verdict", "top3"]]
    assert s["top1"] >= 0.8, f"top-1 {s['top1']:.2f}; misses:\n{wrong}"
    assert s["false_alarm"] <= 0.5, wrong
    assert (results["errors"].fillna("") == "").all(), results["errors"].tolist()


@pytest.mark.parametrize("cause", CAUSES)
def test_rule_fires_on_its_fault_and_not_on_healthy_runs(fast: tuple[pd.DataFrame, Path],
                                                          diagnosed: Callable[[Path], Diagnosis],
                                                          cause: str) -> None:
    results, records = fast
    faulty = results[(results["fault"] == cause) & (results["severity"] == 2)].iloc[0]
    d = diagnosed(_record(records, faulty))
    assert d.score_of(cause) >= 0.5, [(f.cause, round(f.score, 2)) for f in d.findings]
    finding = d.finding(cause)
    assert finding.evidence and finding.fixes and finding.summary and "?" not in finding.summary
    for _, row in results[results["fault"] == "healthy"].iterrows():
        control = diagnosed(_record(records, row))
        assert control.score_of(cause) < 0.5, (row.dataset, cause, control.score_of(cause))


def test_label_noise_names_the_flipped_samples(fast: tuple[pd.DataFrame, Path],
                                               diagnosed: Callable[[Path], Diagnosis]) -> None:
    from gapdoctor.faults import build_case

    results, records = fast
    row = results[(results["fault"] == "label_noise") & (results["severity"] == 2)].iloc[0]
    finding = diagnosed(_record(records, row)).finding("label_noise")
    suspects = [s["index"] for s in finding.details["suspects"]]
    # the case is deterministic: rebuild it to know which training labels were flipped
    case = build_case("label_noise", row.dataset, row.arch, int(row.severity), int(row.seed))
    clean = build_case("healthy", row.dataset, row.arch, 1, int(row.seed))
    flipped = set((case.y_train != clean.y_train).nonzero()[0].tolist())
    hits = sum(i in flipped for i in suspects)
    assert len(suspects) >= 10 and hits / len(suspects) >= 0.8, (hits, len(suspects))


def test_memorised_wrong_labels_cost_validation_accuracy_clean_ones_do_not(
        fast: tuple[pd.DataFrame, Path], diagnosed: Callable[[Path], Diagnosis]) -> None:
    results, records = fast

    def drop_weight(fault: str) -> list[float]:
        rows = results[results["fault"] == fault]
        return [sum(e.weight for e in diagnosed(_record(records, row)).finding("label_noise").evidence
                    if e.key == "label_noise.val_drop") for _, row in rows.iterrows()]

    assert min(drop_weight("label_noise")) > 1.0
    assert max(drop_weight("overfitting") + drop_weight("healthy")) == 0.0
