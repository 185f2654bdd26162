"""What an experiment measured, and whether that confirms, refutes or leaves the cause open.

An experiment predicts that an intervention moves a per-sample utility (1 for a correct
validation prediction, 0 otherwise) in one direction against a control retrained the same
way. The effect is the mean paired difference; its 95 % interval combines the validation
sampling noise (a bootstrap over validation samples) with the retraining noise (the spread
of the effect across seeds), so an effect is only "confirmed" beyond both.

Example:
    >>> import numpy as np
    >>> t = np.ones((2, 400)); c = np.zeros((2, 400)); c[:, :200] = 1
    >>> e = paired_effect(t, c)
    >>> round(e.effect, 2), e.low > 0
    (0.5, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# The smallest effect on accuracy we call meaningful: two percentage points, about twice
# the seed-to-seed spread of validation accuracy of a small model retrained on the same data;
# a remedy that moves it less would not change what a user does next.
MIN_EFFECT = 0.02
Z95 = 1.959964
BOOTSTRAP_RESAMPLES = 2000
# A bootstrap over validation samples sees sampling noise only. On null retrainings (two arms
# that should not differ: another seed, or another random 10 % of rows at weight 0; 58 pairs
# on 29 cases of the fresh sets fresh2, fresh3 and fresh5, benchmarks/confirm/null_arms.py)
# the one-seed effect fell outside its bootstrap 95 % interval 16 % of the time, and the
# interval had to be 2.06 times as wide to hold 95 %: retraining noise has about
# 2.06**2 - 1 = 3.2 times the variance of the sampling noise. Retrained arms carry it.
RETRAINING_WIDENING = 2.06


@dataclass
class Effect:
    """A mean effect with its 95 % interval and where the interval's width comes from."""

    effect: float
    low: float
    high: float
    sampling_halfwidth: float
    seed_sd: float | None
    n_seeds: int
    n_samples: int


@dataclass
class Confirmation:
    """One experiment's result for one cause (``outcome``: confirmed | refuted |
    inconclusive | failed | skipped)."""

    cause: str
    experiment: str
    outcome: str
    metric: str = "accuracy"
    before: float | None = None
    after: float | None = None
    effect: float | None = None
    interval: tuple[float, float] | None = None
    min_effect: float = MIN_EFFECT
    specific: bool = False
    # the experiment tests one way the cause happens (e.g. a threshold, not every metric
    # mismatch): it can confirm the cause, but a refutation rules out that way only
    partial: bool = False
    # the experiment checks a condition the cause needs (the splits differ), not that it
    # explains the gap: its confirmation stops counting once a causal test was refuted
    premise: bool = False
    # the outcome restates what the rules already read off the record (a validation set's
    # size and accuracy give its interval): reported with its interval, it adds no log-odds.
    # Counted, the interval of every set under ~380 rows raised small_validation_set again:
    # on fresh10-fresh14 it turned no verdict right and 2 of 5 it moved wrong (99-row sets)
    restates: bool = False
    seconds: float = 0.0
    text: str = ""
    curves: dict[str, list[float]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from gapdoctor.jsonsafe import json_safe

        return json_safe({
            "cause": self.cause, "experiment": self.experiment, "outcome": self.outcome,
            "metric": self.metric, "before": _r(self.before), "after": _r(self.after),
            "effect": _r(self.effect),
            "interval": [_r(v) for v in self.interval] if self.interval else None,
            "min_effect": self.min_effect, "specific": self.specific,
            "partial": self.partial, "premise": self.premise, "restates": self.restates,
            "seconds": round(self.seconds, 2), "text": self.text, "curves": self.curves,
            "details": self.details})


def _r(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 4)


def retraining_halfwidth(sampling: float, n_seeds: int) -> float:
    """The half-width a retrained comparison needs at least: the bootstrap's ``sampling``
    half-width plus the retraining noise measured on null retrainings
    (:data:`RETRAINING_WIDENING`), averaged over ``n_seeds`` seeds.

    Example:
        >>> round(retraining_halfwidth(0.01, 1), 4), round(retraining_halfwidth(0.01, 2), 4)
        (0.0206, 0.0162)
    """
    excess = RETRAINING_WIDENING ** 2 - 1.0
    return float(sampling * np.sqrt(1.0 + excess / max(n_seeds, 1)))


def paired_effect(treated: np.ndarray, control: np.ndarray, seed: int = 0,
                  retrained: bool = False) -> Effect:
    """Mean of ``treated - control`` over seeds (rows) and validation samples (columns).

    The sampling half-width is a percentile bootstrap over samples of the seed-averaged
    difference; with two or more seeds, the spread of the per-seed effects (its standard
    error) is added in quadrature, as retraining noise the bootstrap cannot see.
    ``retrained``: the arms are separate trainings, so the half-width is at least
    :func:`retraining_halfwidth` (a spread over two seeds is itself too noisy to trust alone).
    """
    treated = np.atleast_2d(np.asarray(treated, float))
    control = np.atleast_2d(np.asarray(control, float))
    diff = treated - control
    per_sample = diff.mean(axis=0)
    n = per_sample.size
    effect = float(per_sample.mean())
    rng = np.random.default_rng(seed)
    means = np.array([per_sample[rng.integers(0, n, n)].mean()
                      for _ in range(BOOTSTRAP_RESAMPLES)])
    lo, hi = np.percentile(means, [2.5, 97.5])
    sampling = float(max(effect - lo, hi - effect))
    seed_sd = None
    halfwidth = sampling
    if diff.shape[0] >= 2:
        per_seed = diff.mean(axis=1)
        seed_sd = float(per_seed.std(ddof=1))
        halfwidth = float(np.hypot(sampling, Z95 * seed_sd / np.sqrt(diff.shape[0])))
    if retrained:
        halfwidth = max(halfwidth, retraining_halfwidth(sampling, diff.shape[0]))
    return Effect(effect, effect - halfwidth, effect + halfwidth, sampling, seed_sd,
                  diff.shape[0], n)


def decide(low: float, high: float, effect: float, min_effect: float = MIN_EFFECT) -> str:
    """``confirmed`` when the whole interval lies above zero and the effect is meaningful;
    ``refuted`` when even its upper end stays below the meaningful effect; else
    ``inconclusive`` (more seeds or validation data would settle it)."""
    if low > 0 and effect >= min_effect:
        return "confirmed"
    if high < min_effect:
        return "refuted"
    return "inconclusive"


def describe(outcome: str, what: str, effect: float, low: float, high: float,
             metric: str = "accuracy", scale: float = 100.0, unit: str = " points",
             partial: bool = False) -> str:
    """One sentence a user reads: the measured effect, its interval and what it means.
    ``partial``: the experiment tests one way the cause arises, so a refutation rules out
    that way only (the finding's score is left as it was: ``ranking.shift_for``).

    Example:
        >>> print(describe("refuted", "Tuning the threshold", 0.001, -0.01, 0.012, partial=True))
        Tuning the threshold moved +0.1 points of validation accuracy (95 % interval -1.0 to +1.2): too little for what it changes to explain the gap. That rules out one way this cause arises; other ways are not tested, so its score stands.
    """
    amount = f"{effect * scale:+.1f}{unit} of validation {metric} (95 % interval " \
             f"{low * scale:+.1f} to {high * scale:+.1f})"
    if outcome == "confirmed":
        return f"{what} moved {amount}: beyond retraining and sampling noise."
    if outcome == "refuted" and partial:
        return (f"{what} moved {amount}: too little for what it changes to explain the gap. "
                "That rules out one way this cause arises; other ways are not tested, so its "
                "score stands.")
    if outcome == "refuted":
        return f"{what} moved {amount}: too little for this cause to explain the gap."
    return f"{what} moved {amount}: within noise; more seeds or validation data would settle it."
