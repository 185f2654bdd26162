"""The class-weight experiment for subgroup_underfitting counts only what a re-tuned decision
rule does not give. On an imbalanced task any reweighting raises balanced accuracy by moving
the threshold; the control gets that for free (both arms are scored with their rule re-tuned
on the other validation half), so only a model that learned the lagging class better gains.

Synthetic arms (no training): the predictions are made up so the answer is known, and the
same scores are read the way the experiment read them before (rule as trained)."""

from __future__ import annotations

import numpy as np

from gapdoctor.callback.confirm.arms import ArmResult, Recipe
from gapdoctor.callback.confirm.experiments import retuned_rule, subgroup

RNG = np.random.default_rng(0)
N = 2000
LABELS = (RNG.random(N) < 0.12).astype(int)           # a rare positive class
HALF_A, HALF_B = np.arange(0, N, 2), np.arange(1, N, 2)


def _arm(p1: np.ndarray, name: str) -> ArmResult:
    return ArmResult(Recipe(name, 0, 5, 32), np.column_stack([1 - p1, p1]), {}, 1.0)


def _scores(separation: float, seed: int) -> np.ndarray:
    """A ranking of the positives that is as good as ``separation`` (logit units)."""
    r = np.random.default_rng(seed)
    return LABELS * separation + r.normal(0, 1, N)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def test_a_reweighting_that_only_moves_the_threshold_is_not_confirmed():
    score = _scores(2.0, 1)
    control = [_arm(_sigmoid(score - 3.0), "control")]     # rarely says "positive"
    weighted = [_arm(_sigmoid(score - 1.0), "class_weights")]   # same ranking, lower bar
    c = subgroup(weighted, control, LABELS, np.array([1]), HALF_B, HALF_A)
    assert c.outcome != "confirmed" and abs(c.effect) < 0.005   # the same decisions
    # read with the rule as trained, the same arms looked like a large gain
    as_trained = subgroup(weighted, control, LABELS, np.array([1]), HALF_B, np.array([], int))
    assert as_trained.effect > 0.15


def test_a_model_that_learned_the_lagging_class_better_is_confirmed():
    control = [_arm(_sigmoid(_scores(0.8, 1) - 3.0), "control")]
    weighted = [_arm(_sigmoid(_scores(3.0, 2) - 1.0), "class_weights")]
    c = subgroup(weighted, control, LABELS, np.array([1]), HALF_B, HALF_A)
    assert c.outcome == "confirmed" and c.effect > 0.1
    assert c.metric == "balanced accuracy" and "re-tuned" in c.text


def test_the_rule_is_retuned_for_one_sigmoid_column_and_for_several_classes():
    p1 = _sigmoid(_scores(2.0, 3) - 3.0)
    fixed = retuned_rule(ArmResult(Recipe("control", 0, 5, 32), p1[:, None], {}, 1.0),
                         LABELS, HALF_A)
    assert fixed.val_probs.shape == (N, 2)
    assert fixed.val_probs.argmax(1).mean() > 3 * (p1 >= 0.5).mean()   # more positives called
    labels3 = RNG.integers(0, 3, N)
    skewed = np.eye(3)[labels3] * 0.3 + np.array([0.6, 0.05, 0.05])   # always says class 0
    fixed3 = retuned_rule(ArmResult(Recipe("control", 0, 5, 32), skewed, {}, 1.0),
                          labels3, HALF_A)
    assert (fixed3.val_probs.argmax(1) == labels3).mean() > 0.9
