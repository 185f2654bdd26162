"""The reference model reads a signal's or an image's spectrum when that predicts far better."""

from __future__ import annotations

import numpy as np
import pytest

from gapdoctor.analysis.context import Context
from gapdoctor.analysis.features import feature_facts
from gapdoctor.analysis.spectra import spectral_view
from gapdoctor.record import RunRecord

LENGTH = 64


def _waves(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Three classes of waveform (3, 6 or 10 periods) at a random phase, plus noise: the
    class is in the spectrum, and no sample position carries it."""
    y = rng.integers(0, 3, n)
    t = np.linspace(0, 2 * np.pi, LENGTH, endpoint=False)
    periods = np.array([3, 6, 10])[y]
    phase = rng.uniform(0, 2 * np.pi, n)
    x = np.sin(periods[:, None] * t[None, :] + phase[:, None]) + rng.normal(0, 0.5, (n, LENGTH))
    return x, y


def _facts(x_tr: np.ndarray, y_tr: np.ndarray, x_va: np.ndarray, y_va: np.ndarray):
    shape = [LENGTH, 1]
    views = {"spectra": (spectral_view(x_tr, shape), spectral_view(x_va, shape))}
    return feature_facts(x_tr, y_tr, x_va, y_va, views=views)


@pytest.mark.parametrize("seed", [0, 1])
def test_waveforms_at_random_phase(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x_tr, y_tr = _waves(400, rng)
    x_va, y_va = _waves(300, rng)
    raw = feature_facts(x_tr, y_tr, x_va, y_va)
    facts = _facts(x_tr, y_tr, x_va, y_va)
    assert raw.ref_cv_accuracy < 0.5  # chance is 1/3: positions carry no class
    assert facts.ref_view == "spectra" and facts.ref_cv_accuracy > 0.9
    assert facts.reference_read("0.9") == "0.9 (inputs read as spectra)"  # what the user sees
    assert facts.ref_val_accuracy > 0.9
    # validation labels permuted among classes: only the spectral reference can tell
    remapped = _facts(x_tr, y_tr, x_va, (y_va + 1) % 3)
    assert remapped.ref_val_accuracy < 0.1 and remapped.ref_cv_accuracy > 0.9


def test_raw_view_kept_when_it_predicts_as_well() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 600)
    x = rng.normal(0, 1, (600, LENGTH)) + 1.5 * y[:, None] * (np.arange(LENGTH) < 8)
    facts = _facts(x[:400], y[:400], x[400:], y[400:])
    assert facts.ref_view == "raw" and facts.ref_cv_accuracy > 0.95


@pytest.mark.parametrize("shape", [[64], [4, 16], [64, 2], None, "abc", [None, 1], [64, "x"]])
def test_no_spectrum_for_tabular_short_or_mismatched_shapes(shape: object) -> None:
    assert spectral_view(np.zeros((5, 64)), shape) is None


def test_images_get_a_two_dimensional_spectrum() -> None:
    x = np.zeros((2, 16 * 16))
    assert spectral_view(x, [16, 16, 1]).shape == (2, 16 * 9)


def test_context_uses_the_recorded_input_shape() -> None:
    rng = np.random.default_rng(3)
    x_tr, y_tr = _waves(300, rng)
    x_va, y_va = _waves(300, rng)
    run = RunRecord.empty(source="test", run_name="waves")
    run.arrays.update(x_train=x_tr.astype(np.float32), x_val=x_va.astype(np.float32),
                      probe_labels=y_tr, y_val_features=y_va)
    run.meta["data"] = {"input_shape": [LENGTH, 1]}
    assert Context(run).features.ref_view == "spectra"
    run.meta["data"] = {"input_shape": [LENGTH, 1], "feature_projection": "random"}
    assert Context(run).features.ref_view == "raw"  # projected features have no axis


def test_a_hum_in_validation_is_told_apart_on_the_spectra() -> None:
    """Validation recordings pick up a weak hum (20 periods at random phase, a quarter of the
    waves' amplitude): no sample position carries it, the spectrum does; the domain AUC is read
    there and says so. Two samples of one generator stay on the raw reading."""
    rng = np.random.default_rng(0)
    x_tr, y_tr = _waves(400, rng)
    x_va, y_va = _waves(300, rng)
    t = np.linspace(0, 2 * np.pi, LENGTH, endpoint=False)
    x_va = x_va + 0.25 * np.sin(20 * t + rng.uniform(0, 2 * np.pi, (300, 1)))
    raw = feature_facts(x_tr, y_tr, x_va, y_va)
    shifted = _facts(x_tr, y_tr, x_va, y_va)
    assert raw.domain_auc < 0.65 and raw.domain_view == "raw"
    assert shifted.domain_auc > raw.domain_auc + 0.2 and shifted.domain_view == "spectra"
    assert shifted.domain_read("0.9") == "0.9 (inputs read as spectra)"
    same = _facts(x_tr, y_tr, *_waves(300, rng))
    assert same.domain_view == "raw" and same.domain_auc < 0.6
