"""The decisions behind confirmation experiments, on arrays with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from gapdoctor.confirm import apply_confirmations, paired_effect
from gapdoctor.confirm.checks import (
    bootstrap_accuracy,
    label_alignment,
    threshold_tuning,
)
from gapdoctor.confirm.domain import domain_classifier, restandardized
from gapdoctor.confirm.evalmode import EvalPredictions, evaluation_mode, logged_gap
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
    refuted = threshold_tuning(p, balanced)
    assert refuted.outcome == "refuted"
    # a threshold that changes nothing rules out that kind of mismatch only (a metric of
    # the wrong quantity is untested): the user must not read the mismatch as refuted
    assert "score stands" in refuted.text and "this cause to explain" not in refuted.text


def test_bootstrap_width():
    assert bootstrap_accuracy(np.r_[np.ones(30), np.zeros(10)]).outcome == "confirmed"
    assert bootstrap_accuracy(np.r_[np.ones(4000), np.zeros(1000)]).outcome == "refuted"


def test_the_interval_restates_the_size_and_moves_no_ranking():
    """A 99-row validation set's wide interval is the size the small_validation_set rule
    already weighed: reported, not counted again (fresh14: it turned a healthy run and an
    optimisation fault into small validation sets)."""
    from gapdoctor.confirm.ranking import apply_confirmations
    from gapdoctor.diagnosis import Diagnosis, Finding

    c = bootstrap_accuracy(np.r_[np.ones(86), np.zeros(13)])
    assert c.outcome == "confirmed" and c.restates and c.to_dict()["restates"]
    d = Diagnosis(findings=[Finding("optimization", 0.6, ""), Finding("small_validation_set", 0.5, "")])
    d = apply_confirmations(d, [c])
    assert d.verdict == "optimization"
    assert [round(f.score, 3) for f in d.findings] == [0.6, 0.5]
    assert "does not move the ranking" in c.text


def _sorted_run(n: int = 600, k: int = 6, seed: int = 7):
    """Probabilities of a model right on 90 % of a class-sorted validation set (shuffled
    batches), and what batch statistics do to it in the stored order: whole batches of one
    class pushed to a wrong class."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n // k)
    good = np.where(rng.random(n) < 0.9, y, (y + 1) % k)
    shuffled = np.eye(k)[good] * 0.8 + 0.2 / k
    in_order = shuffled.copy()
    batches = np.arange(n) // 50
    wrong = np.isin(batches, rng.choice(batches.max() + 1, 8, replace=False))
    in_order[wrong] = np.eye(k)[(y[wrong] + 2) % k] * 0.8 + 0.2 / k
    return y, in_order, shuffled


def test_evaluation_mode_confirms_batch_statistics_and_names_the_mechanism():
    y, in_order, shuffled = _sorted_run()
    p = EvalPredictions(in_order, shuffled, batch_size=50, shuffled_batch_size=50,
                        repeat_change=0.0, layers={"batch_norm": ["stuck_bn"]})
    c = evaluation_mode(p, y)
    assert c.outcome == "confirmed" and c.specific and c.experiment == "evaluation_mode"
    assert c.details["mechanism"] == "batch statistics" and "stuck_bn" in c.text
    assert c.after - c.before == pytest.approx(c.effect) and c.interval[0] > 0.3
    # stored order: 8 of 12 batches wrong, the rest right 90 % of the time
    assert c.before < 0.4 and f"from {c.before:.3f} to {c.after:.3f}" in c.text


def test_evaluation_mode_refutes_a_deterministic_model_and_keeps_random_outputs_open():
    y, _, shuffled = _sorted_run()
    same = EvalPredictions(shuffled, shuffled + 1e-7, batch_size=50, repeat_change=0.0)
    c = evaluation_mode(same, y)
    assert c.outcome == "refuted" and c.details["mechanism"] is None
    # dropout at inference: outputs move, accuracy does not -> neither a bug nor innocent
    rng = np.random.default_rng(8)
    noisy = np.clip(shuffled + rng.normal(0, 0.02, shuffled.shape), 0, 1)
    p = EvalPredictions(shuffled, noisy, batch_size=50, repeat_change=0.02,
                        layers={"dropout": ["mc_dropout"]})
    c = evaluation_mode(p, y, logged=[0.5])
    assert c.outcome == "inconclusive" and c.details["mechanism"] == "randomness"
    assert "mc_dropout" in c.text
    # a random model's logged accuracy is another draw, not evidence of another path
    assert not c.details["logged"]["clear"] and c.details["logged"]["random"]


def test_logged_accuracy_far_from_the_models_own_confirms_unless_weights_were_restored():
    y, _, shuffled = _sorted_run()
    p = EvalPredictions(shuffled, shuffled, batch_size=50, repeat_change=0.0)
    now = 0.9  # accuracy of `shuffled` up to the sampling of flips
    c = evaluation_mode(p, y, logged=[0.3, 0.5, 0.6])
    assert c.outcome == "confirmed" and c.before == 0.6 and c.effect > 0.25
    assert c.interval[0] > 0 and "evaluation path" in c.text
    correct = (shuffled.argmax(1) == y).astype(float)
    assert abs(correct.mean() - now) < 0.05
    agree = evaluation_mode(p, y, logged=[0.5, float(correct.mean()) + 0.004])
    assert agree.outcome == "refuted" and not agree.details["logged"]["clear"]
    restored = logged_gap(correct, [0.7, float(correct.mean()), 0.6], restorable=[1])
    assert restored["restored_epoch"] == 1 and not restored["clear"]
    assert logged_gap(correct, [0.7, float(correct.mean()), 0.6], restorable=[0])["clear"]


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


def test_a_specific_confirmation_explains_away_a_remedy_its_cause_also_predicts():
    """Dropping the flagged samples confirmed: regularisation helping as well (which wrong
    labels predict too) no longer counts for overfitting; without the label-noise
    confirmation it does."""
    def outcomes(noise: str) -> list[Confirmation]:
        return [Confirmation("overfitting", "regularise_and_stop_early", "confirmed",
                             effect=0.19, interval=(0.07, 0.30)),
                Confirmation("label_noise", "drop_flagged_samples", noise, specific=True,
                             effect=0.21, interval=(0.12, 0.29))]

    d = Diagnosis(findings=[Finding("overfitting", 0.88, ""), Finding("label_noise", 0.32, "")])
    apply_confirmations(d, outcomes("confirmed"))
    assert d.verdict == "label_noise" and d.finding("overfitting").score == 0.88
    tested = d.finding("overfitting").confirmation[0]
    assert tested["details"]["explained_by"] == "label_noise"
    assert "Counted for nothing: label noise" in tested["text"]
    d = Diagnosis(findings=[Finding("overfitting", 0.88, ""), Finding("label_noise", 0.32, "")])
    apply_confirmations(d, outcomes("inconclusive"))
    assert d.verdict == "overfitting" and d.finding("overfitting").score > 0.88


def test_a_refuted_partial_experiment_does_not_move_the_cause():
    d = Diagnosis(findings=[Finding("metric_mismatch", 0.7, "")])
    apply_confirmations(d, [Confirmation("metric_mismatch", "threshold_tuning", "refuted",
                                         partial=True)])
    assert d.finding("metric_mismatch").score == 0.7 and d.verdict == "metric_mismatch"


def test_a_confirmed_premise_does_not_outweigh_a_refuted_causal_test():
    def shift_after(*resplit: str) -> float:
        d = Diagnosis(findings=[Finding("distribution_shift", 0.8, ""),
                                Finding("metric_saturation", 0.6, "")])
        tested = [Confirmation("distribution_shift", "domain_classifier", "confirmed",
                               partial=True, premise=True)]
        tested += [Confirmation("distribution_shift", "resplit_training", r) for r in resplit]
        apply_confirmations(d, tested)
        return d.finding("distribution_shift").score

    alone = shift_after()
    assert alone > 0.8  # the inputs differ: some support for a shift
    # mixing the splits did not close the gap: the difference does not explain it
    refuted = shift_after("refuted")
    assert refuted < 0.5 and refuted == pytest.approx(_refuted_only(), abs=1e-4)
    assert shift_after("inconclusive") == pytest.approx(alone, abs=1e-4)
    assert shift_after("confirmed") > alone


def _refuted_only() -> float:
    d = Diagnosis(findings=[Finding("distribution_shift", 0.8, "")])
    apply_confirmations(d, [Confirmation("distribution_shift", "resplit_training", "refuted")])
    return d.finding("distribution_shift").score


def test_plan_tests_cheap_causes_first_and_nothing_after_divergence():
    d = Diagnosis(findings=[Finding("label_noise", 0.9, ""), Finding("overfitting", 0.6, ""),
                            Finding("optimization", 0.5, ""), Finding("metric_mismatch", 0.3, "")])
    assert causes_to_test(d) == ["metric_mismatch", "label_noise", "overfitting"]
    d.status = "diverged"
    assert causes_to_test(d) == []
    assert causes_to_test(d, only=["overfitting", "pipeline_bug"]) == ["pipeline_bug", "overfitting"]


def test_resplit_reads_a_closed_gap_as_shift_and_no_gap_as_refuted():
    from gapdoctor.confirm.gaps import resplit

    rng = np.random.default_rng(3)

    def acc(p: float, n: int = 4000) -> np.ndarray:
        return (rng.random((1, n)) < p).astype(float)

    shifted = resplit(acc(0.95), acc(0.60), acc(0.94), acc(0.90), {"mixed_in": 500})
    assert shifted.outcome == "confirmed" and shifted.interval[0] > 0.2
    assert shifted.before > shifted.after and shifted.metric == "accuracy gap"
    # one seed: the interval carries the retraining noise of null retrainings (x2.06), so a
    # refutation under the 2-point effect that matters takes 16,000 rows a side
    alike = resplit(*(acc(0.95, 16000) for _ in range(4)), {"mixed_in": 500})
    assert alike.outcome == "refuted"
    train_rows, val_rows = acc(0.95), acc(0.60)    # mixing changes no prediction
    harder = resplit(train_rows, val_rows, train_rows, val_rows, {"mixed_in": 500})
    assert harder.outcome == "inconclusive" and "does not close" in harder.text


def test_memorisation_verdicts_on_the_half_data_arm():
    from gapdoctor.confirm.gaps import memorisation

    rng = np.random.default_rng(4)
    fits = np.ones((2, 500))
    control_v = (rng.random((2, 2000)) < 0.80).astype(float)
    dropped = control_v * (rng.random((2, 2000)) > 0.1)    # validation falls ~8 points
    assert memorisation(fits, fits, control_v, dropped)["verdict"] == "corroborates"
    assert memorisation(fits, fits, control_v, control_v)["verdict"] == "contradicts"


def test_distribution_shift_gets_its_check_and_a_retraining():
    from gapdoctor.confirm.plan import plan_experiments

    d = Diagnosis(findings=[Finding("distribution_shift", 0.8, ""),
                            Finding("overfitting", 0.6, ""), Finding("label_noise", 0.5, "")])
    assert plan_experiments(d) == (["distribution_shift"], ["distribution_shift", "overfitting"])
    assert causes_to_test(d) == ["distribution_shift", "overfitting"]


def test_outcomes_a_look_alike_predicts_as_well_keep_their_order():
    """The inputs differ and mixing the splits closes the gap: a bug on the validation input
    path predicts both as well as a shift, so a pipeline bug that led keeps the lead, both rise
    against the rest, and the outcome says it counted twice. A refuted re-split is not shared
    (misaligned labels do not close a gap by mixing), nor then is the premise."""
    def after(resplit: str) -> Diagnosis:
        d = Diagnosis(findings=[Finding("pipeline_bug", 0.6, ""), Finding("distribution_shift", 0.5, ""),
                                Finding("overfitting", 0.55, "")])
        return apply_confirmations(d, [
            Confirmation("distribution_shift", "domain_classifier", "confirmed", partial=True, premise=True),
            Confirmation("distribution_shift", "resplit_training", resplit)])

    d = after("confirmed")
    assert [f.cause for f in d.findings] == ["pipeline_bug", "distribution_shift", "overfitting"]
    assert d.finding("pipeline_bug").score > 0.9 and d.finding("overfitting").score == 0.55
    assert d.finding("pipeline_bug").details["shared_confirmations"] == [
        "distribution_shift/domain_classifier", "distribution_shift/resplit_training"]
    assert all("counts for both" in c["text"] for c in d.confirmations)
    # mixing did not close the gap: the differing inputs explain it for neither cause
    d = after("refuted")
    assert "shared_confirmations" not in d.finding("pipeline_bug").details
    assert d.finding("pipeline_bug").score == 0.6 and d.finding("distribution_shift").score < 0.5


def test_a_class_remap_on_inputs_that_differ_counts_for_a_shift_too():
    """A shift can move whole classes onto others: re-aligned class labels gaining on inputs a
    classifier confirmed differ count for both; a row shift, or inputs alike, for the bug only."""
    def after(alignment: str, differ: str) -> Diagnosis:
        d = Diagnosis(findings=[Finding("distribution_shift", 0.77, ""), Finding("pipeline_bug", 0.23, "")])
        return apply_confirmations(d, [
            Confirmation("distribution_shift", "domain_classifier", differ, partial=True, premise=True),
            Confirmation("pipeline_bug", "label_alignment", "confirmed", specific=True,
                         details={"alignment": alignment}),
            Confirmation("distribution_shift", "resplit_training", "confirmed")])

    assert after("class remap", "confirmed").verdict == "distribution_shift"
    assert after("rows +1", "confirmed").verdict == "pipeline_bug"
    assert "shared_confirmations" not in after("class remap", "refuted").finding("distribution_shift").details
