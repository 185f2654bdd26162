"""The decisions behind confirmation experiments, on arrays with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from gapdoctor.confirm import apply_confirmations, paired_effect
from gapdoctor.confirm.checks import (
    bootstrap_accuracy,
    label_alignment,
    prediction_stability,
    threshold_tuning,
)
from gapdoctor.confirm.domain import domain_classifier, restandardized
from gapdoctor.confirm.outcome import Confirmation, decide
from gapdoctor.confirm.plan import causes_to_test
from gapdoctor.diagnosis import Diagnosis, Finding


def test_paired_effect_interval_covers_the_truth_and_excludes_zero():
    rng = np.random.default_rng(1)
    control = (rng.random((2, 2000)) < 0.70).astype(float)
    treated = (rng.random((2, 2000)) < 0.80).astype(float)
    e = paired_effect(treated, control)
    assert e.low < 0.10 < e.high and e.low > 0
    assert e.seed_sd is not None and e.n_seeds == 2


def test_no_effect_is_refuted_only_when_the_interval_is_narrow():
    rng = np.random.default_rng(2)
    same = (rng.random((2, 5000)) < 0.8).astype(float)
    e = paired_effect(same, same)
    assert decide(e.low, e.high, e.effect) == "refuted"
    small = (rng.random((1, 40)) < 0.8).astype(float)
    noisy = (rng.random((1, 40)) < 0.8).astype(float)
    e = paired_effect(small, noisy)
    assert decide(e.low, e.high, e.effect) == "inconclusive"


@pytest.mark.parametrize("relabel, found", [
    (lambda y: (y + 1) % 5, "class remap"), (lambda y: np.roll(y, 1), "rows shifted by -1")])
def test_label_alignment_finds_misaligned_labels(relabel, found):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 5, 600)
    probs = np.eye(5)[y] * 0.8 + 0.04
    c = label_alignment(probs, relabel(y))
    assert c.outcome == "confirmed" and c.details["alignment"] == found and c.effect > 0.5
    assert label_alignment(probs, y).outcome == "refuted"


def test_threshold_tuning_helps_a_rare_class_scored_at_one_half():
    rng = np.random.default_rng(4)
    y = (rng.random(3000) < 0.08).astype(int)
    # the positives score higher, but mostly below 0.5: a 0.5 threshold misses them
    p = np.clip(np.where(y == 1, rng.normal(0.35, 0.1, y.size), rng.normal(0.1, 0.07, y.size)),
                0, 1)
    assert threshold_tuning(p, y).outcome == "confirmed"
    balanced = rng.integers(0, 2, 3000)
    p = np.clip(np.where(balanced == 1, rng.normal(0.8, 0.15, 3000), rng.normal(0.2, 0.15, 3000)),
                0, 1)
    assert threshold_tuning(p, balanced).outcome == "refuted"


def test_prediction_stability_and_bootstrap_width():
    p = np.random.default_rng(5).random((100, 3))
    assert prediction_stability(p, p + 1e-7).outcome == "refuted"
    assert prediction_stability(p, p[::-1]).outcome == "confirmed"
    assert bootstrap_accuracy(np.r_[np.ones(30), np.zeros(10)]).outcome == "confirmed"
    assert bootstrap_accuracy(np.r_[np.ones(4000), np.zeros(1000)]).outcome == "refuted"


def test_domain_classifier_and_restandardisation():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(600, 6))
    assert domain_classifier(a, rng.normal(size=(600, 6))).outcome == "refuted"
    assert domain_classifier(a, rng.normal(0.8, 1, size=(600, 6))).outcome == "confirmed"
    assert restandardized(a, rng.normal(size=(300, 6))) is None
    raw = rng.normal(50, 20, size=(300, 6))
    fixed = restandardized(a, raw)
    assert fixed is not None and abs(fixed.std() - a.std()) < 0.1


def test_outcomes_re_rank_the_diagnosis():
    d = Diagnosis(findings=[Finding("overfitting", 0.8, ""), Finding("label_noise", 0.55, "")])
    apply_confirmations(d, [
        Confirmation("overfitting", "regularise", "refuted", effect=0.0, interval=(-0.01, 0.01)),
        Confirmation("label_noise", "drop", "confirmed", specific=True, effect=0.1,
                     interval=(0.05, 0.15))])
    assert d.verdict == "label_noise"
    assert d.finding("overfitting").score < 0.5
    assert d.finding("overfitting").details["score_before_confirmation"] == 0.8
    assert d.to_dict()["confirmations"][1]["outcome"] == "confirmed"


def test_a_refuted_partial_experiment_does_not_move_the_cause():
    d = Diagnosis(findings=[Finding("metric_mismatch", 0.7, "")])
    apply_confirmations(d, [Confirmation("metric_mismatch", "threshold_tuning", "refuted",
                                         partial=True)])
    assert d.finding("metric_mismatch").score == 0.7 and d.verdict == "metric_mismatch"


def test_plan_tests_cheap_causes_first_and_nothing_after_divergence():
    d = Diagnosis(findings=[Finding("label_noise", 0.9, ""), Finding("overfitting", 0.6, ""),
                            Finding("optimization", 0.5, ""), Finding("metric_mismatch", 0.3, "")])
    assert causes_to_test(d) == ["metric_mismatch", "label_noise", "overfitting"]
    d.status = "diverged"
    assert causes_to_test(d) == []
    assert causes_to_test(d, only=["overfitting", "pipeline_bug"]) == ["pipeline_bug", "overfitting"]
