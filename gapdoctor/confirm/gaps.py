"""Experiments read as a *gap* between two sets of samples: accuracy on set A minus accuracy
on set B, and how an intervention moves it (a difference in differences).

distribution_shift (re-split): A = training rows neither arm trained on, B = validation rows
neither arm trained on. overfitting (half the data): A = the rows the half-data arm trained
on, B = the validation set.

Example:
    >>> import numpy as np
    >>> a, b = np.ones((1, 400)), np.zeros((1, 400)); b[:, :200] = 1
    >>> e = gap_change(a, a, b, b)          # the same arm twice: the gap did not move
    >>> round(e.effect, 3), e.low <= 0 <= e.high
    (0.0, True)
"""

from __future__ import annotations

import numpy as np

from gapdoctor.confirm.outcome import (
    BOOTSTRAP_RESAMPLES,
    MIN_EFFECT,
    Z95,
    Confirmation,
    Effect,
    paired_effect,
    retraining_halfwidth,
)


def gap_change(treated_a: np.ndarray, control_a: np.ndarray, treated_b: np.ndarray,
               control_b: np.ndarray, seed: int = 0) -> Effect:
    """The treated arm's gap (mean over A minus mean over B) minus the control's.

    Rows are seeds, columns samples; A and B are resampled independently (a stratified
    bootstrap: each keeps its size), and the spread of the per-seed changes is added in
    quadrature, as in :func:`gapdoctor.confirm.outcome.paired_effect`. A gap of one arm is
    ``gap_change(a, zeros, b, zeros)``.
    """
    da = np.atleast_2d(np.asarray(treated_a, float) - np.asarray(control_a, float))
    db = np.atleast_2d(np.asarray(treated_b, float) - np.asarray(control_b, float))
    pa, pb = da.mean(axis=0), db.mean(axis=0)
    effect = float(pa.mean() - pb.mean())
    rng = np.random.default_rng(seed)
    means = np.array([pa[rng.integers(0, pa.size, pa.size)].mean()
                      - pb[rng.integers(0, pb.size, pb.size)].mean()
                      for _ in range(BOOTSTRAP_RESAMPLES)])
    lo, hi = np.percentile(means, [2.5, 97.5])
    sampling = float(max(effect - lo, hi - effect))
    seed_sd, halfwidth = None, sampling
    if da.shape[0] >= 2:
        per_seed = da.mean(axis=1) - db.mean(axis=1)
        seed_sd = float(per_seed.std(ddof=1))
        halfwidth = float(np.hypot(sampling, Z95 * seed_sd / np.sqrt(da.shape[0])))
    # every gap here is read off retrained arms: at least the measured retraining noise
    halfwidth = max(halfwidth, retraining_halfwidth(sampling, da.shape[0]))
    return Effect(effect, effect - halfwidth, effect + halfwidth, sampling, seed_sd,
                  da.shape[0], pa.size + pb.size)


def gap_of(a: np.ndarray, b: np.ndarray) -> Effect:
    """One arm's gap, mean over A minus mean over B, with its interval."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    return gap_change(a, np.zeros_like(a), b, np.zeros_like(b))


def _pts(e: Effect) -> str:
    return f"{e.effect * 100:+.1f} points (95 % interval {e.low * 100:+.1f} to {e.high * 100:+.1f})"


def resplit(control_ht: np.ndarray, control_hv: np.ndarray, mixed_ht: np.ndarray,
            mixed_hv: np.ndarray, details: dict) -> Confirmation:
    """distribution_shift: does moving validation rows into training close the gap between
    held-out training rows (``*_ht``) and held-out validation rows (``*_hv``)?

    Each array holds per-sample correctness, a row per seed. Confirmed when the control
    shows a gap (interval above 0) and mixing closes it by at least ``MIN_EFFECT`` beyond
    noise; refuted when the control shows no gap of ``MIN_EFFECT`` (a model trained on the
    training distribution scores unseen rows of either split alike); else inconclusive.
    """
    gap = gap_of(control_ht, control_hv)
    after = gap_of(mixed_ht, mixed_hv)
    closed = gap_change(control_ht, mixed_ht, control_hv, mixed_hv)   # control gap - mixed
    n_mix, n_ht, n_hv = details["mixed_in"], control_ht.shape[-1], control_hv.shape[-1]
    head = (f"Re-split: {n_mix} validation rows moved into training in place of as many "
            f"training rows (same training size, same seed). Scored on {n_ht} training rows "
            f"and {n_hv} validation rows neither run trained on, the original split's gap "
            f"(training rows minus validation rows) is {_pts(gap)}; mixing moves it to "
            f"{after.effect * 100:+.1f}, closing {_pts(closed)}")
    if gap.high < MIN_EFFECT:
        outcome = "refuted"
        tail = (": unseen rows of either split score alike for a model trained on the "
                "training rows, so the inputs do not differ in a way that costs accuracy.")
    elif gap.low > 0 and closed.low > 0 and closed.effect >= MIN_EFFECT:
        outcome = "confirmed"
        tail = (": the validation inputs differ from the training inputs in a way the model "
                "cannot bridge without seeing them. A pipeline bug applied to the validation "
                "inputs only (unscaled or differently encoded) is closed the same way; the "
                "pipeline checks tell the two apart.")
    else:
        outcome = "inconclusive"
        tail = (": validation rows are harder, but mixing them into training does not close "
                "the gap beyond noise (a harder or noisier validation set, or too few rows to "
                "learn the new region)." if gap.low > 0 else ": within noise.")
    if gap.n_seeds == 1:
        tail += (" (One seed: the interval carries the retraining noise measured on null "
                 "retrainings, not this run's.)")
    # generic (x4.5 odds), not specific: a validation-only pipeline bug passes this test too
    return Confirmation(
        "distribution_shift", "resplit_training", outcome, metric="accuracy gap",
        before=gap.effect, after=after.effect, effect=closed.effect,
        interval=(closed.low, closed.high), text=head + tail,
        details={**details, "control_gap": [round(gap.low, 4), round(gap.high, 4)],
                 "seeds": gap.n_seeds, "scored_training_rows": n_ht,
                 "scored_validation_rows": n_hv, "seed_sd": closed.seed_sd})


def memorisation(control_h: np.ndarray, half_h: np.ndarray, control_v: np.ndarray,
                 half_v: np.ndarray) -> dict:
    """overfitting, half the data: with half the training rows a memorising model keeps
    fitting its training rows (``*_h``: the half's rows) while validation (``*_v``) drops, so
    its gap widens. ``verdict``: ``corroborates`` (the gap widens by ``MIN_EFFECT`` beyond
    noise and validation falls beyond noise), ``contradicts`` (the gap reliably widens by
    less than ``MIN_EFFECT``: training data is not what limits validation), else ``neither``.
    """
    widened = gap_change(half_h, control_h, half_v, control_v)
    val = paired_effect(half_v, control_v, retrained=True)
    if widened.low > 0 and widened.effect >= MIN_EFFECT and val.high < 0:
        verdict = "corroborates"
    elif widened.high < MIN_EFFECT:
        verdict = "contradicts"
    else:
        verdict = "neither"
    text = (f"With half the training data (same recipe, same seed) validation accuracy moved "
            f"{_pts(val)} and the training-minus-validation gap {_pts(widened)}: ")
    text += {"corroborates": "the way memorisation predicts.",
             "contradicts": "the gap barely moved, which memorisation does not predict.",
             "neither": "within noise, neither for nor against memorisation."}[verdict]
    return {"verdict": verdict, "text": text,
            "validation_before": round(float(np.mean(control_v)), 4),
            "validation_after": round(float(np.mean(half_v)), 4),
            "validation_effect": round(val.effect, 4),
            "validation_interval": [round(val.low, 4), round(val.high, 4)],
            "gap_before": round(float(np.mean(control_h) - np.mean(control_v)), 4),
            "gap_after": round(float(np.mean(half_h) - np.mean(half_v)), 4),
            "gap_widening": round(widened.effect, 4),
            "gap_interval": [round(widened.low, 4), round(widened.high, 4)],
            "seeds": widened.n_seeds}
