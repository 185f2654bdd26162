"""The fresh5 fault implementations apply to every layout they claim and change the split
their cause says (no TensorFlow, no training: each fault is applied to a small synthetic
case, preprocessed, and compared with the same case left clean)."""

from __future__ import annotations

import numpy as np
import pytest
from test_fresh2_faults import _case

from benchmarks.corpus.faults import IMPLEMENTATIONS as CORPUS
from benchmarks.fresh2.faults import IMPLEMENTATIONS as FRESH2
from benchmarks.fresh5 import faults2  # noqa: F401 - registers the second half
from benchmarks.fresh5.faults import IMPLEMENTATIONS

LAYOUTS = ("vector", "image", "signal", "tokens")
PAIRS = [(i, layout) for i, impl in IMPLEMENTATIONS.items() for layout in LAYOUTS
         if layout in impl.layouts]
# the causes whose fault lives in one split only (the others change the recipe or both)
VALIDATION_ONLY = {"pipeline_bug/minmax_val", "pipeline_bug/axis_flip",
                   "pipeline_bug/factorized_labels", "pipeline_bug/oov_val",
                   "distribution_shift/imputed_outage", "distribution_shift/new_device",
                   "distribution_shift/boilerplate"}


def _applied(impl_id: str, layout: str, severity: float = 0.7, k: int = 3):
    """(clean, faulty) copies of one synthetic case, both preprocessed."""
    clean, case = _case(layout, k=k), _case(layout, k=k)
    IMPLEMENTATIONS[impl_id].fn(case, severity, np.random.default_rng(1))
    clean.finalize()
    case.finalize()
    return clean, case


def test_a_third_registry_with_every_cause_and_no_shared_id():
    assert not set(IMPLEMENTATIONS) & (set(CORPUS) | set(FRESH2))
    causes = {i.split("/")[0] for i in IMPLEMENTATIONS}
    assert len(causes) == 10
    for cause in causes - {"healthy"}:
        assert sum(i.startswith(cause + "/") for i in IMPLEMENTATIONS) >= 2
    assert all(impl.knob and impl.doc for impl in IMPLEMENTATIONS.values())


@pytest.mark.parametrize("impl_id, layout", PAIRS)
def test_every_implementation_applies_to_the_layouts_it_claims(impl_id, layout):
    for severity in (0.0, 1.0):
        _, case = _applied(impl_id, layout, severity)
        assert len(case.x_train) == len(case.y_train) and len(case.x_val) == len(case.y_val)
        # a de-duplicated validation set keeps one row per key value: as few as the key has
        floor = 2 if impl_id.startswith("small_validation_set/") else 8
        assert len(case.y_val) >= floor and len(np.unique(case.y_train)) >= 2


@pytest.mark.parametrize("impl_id", [i for i in IMPLEMENTATIONS if i.startswith("label_noise/")])
def test_label_noise_changes_training_labels_only(impl_id):
    clean, case = _applied(impl_id, "vector", 1.0)
    np.testing.assert_array_equal(case.y_val, clean.y_val)
    np.testing.assert_allclose(case.x_val, clean.x_val, atol=1e-4)
    rows = [int(np.flatnonzero(np.isclose(clean.x_train, r, atol=1e-4).all(1))[0])
            for r in case.x_train]
    assert 0.03 < float((case.y_train != clean.y_train[rows]).mean()) < 0.9


@pytest.mark.parametrize("impl_id, layout", [(i, lay) for i, lay in PAIRS if i in VALIDATION_ONLY])
def test_validation_side_faults_leave_training_alone(impl_id, layout):
    clean, case = _applied(impl_id, layout, 1.0)
    np.testing.assert_array_equal(case.y_train, clean.y_train)
    np.testing.assert_allclose(case.x_train, clean.x_train, atol=1e-5)
    assert (not np.allclose(case.x_val, clean.x_val, atol=1e-5)
            or not np.array_equal(case.y_val, clean.y_val))


def test_small_validation_sets_and_optimiser_recipes():
    for impl_id in ("small_validation_set/dedup_key", "small_validation_set/one_batch"):
        for severity in (0.0, 1.0):
            _, case = _applied(impl_id, "vector", severity)
            extra = getattr(case.spec, "extra", {})
            assert len(case.y_val) <= 60 or extra.get("validation_steps") == 1
    _, summed = _applied("optimization/sum_reduction", "vector")
    assert summed.spec.extra["reduction"] == "sum"
    _, saturated = _applied("optimization/saturated_init", "vector", 1.0)
    assert saturated.spec.extra["init_std"] >= 1.5 and saturated.spec.extra["activation"] == "tanh"
