"""Do the training labels agree with the data? Two reads, each in standard errors:

- the share of train-probe samples whose margins stay negative (AUM < 0) beyond the
  validation error rate: hard samples are missed on validation as often as they are
  flagged in training, wrong training labels are flagged far more often;
- how much more a reference model fitted on validation data disagrees with the training
  labels than with held-out validation labels, trusted as far as the inputs look alike;
- how much more labels agree with their nearest neighbours in the model's representation
  within each split than across the two (:mod:`split_neighbours`), trusted likewise;
- how much better the same reference model learns the validation labels from validation
  inputs than the training labels from training inputs, each cross-validated within its
  own split (:func:`label_consistency`): which split's labels follow their inputs less.

Example:
    >>> round(proportion_se(0.5, 100, 100), 4)
    0.0707
"""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.features import FeatureFacts
from gapdoctor.analysis.margins import MarginFacts
from gapdoctor.analysis.ramps import finite_number, ramp
from gapdoctor.analysis.split_neighbours import SplitNeighbours

# Comparing labels across the splits presumes the inputs are alike: trust falls from full at
# a domain classifier AUC of 0.55 to none at 0.7. The corpus and fresh runs with wrong
# training labels (same inputs) read 0.56 at most, healthy runs 0.63; a split by writer or
# by time reads 0.67 (digits, first rows against last) and its labels then differ with the
# inputs, not because they are wrong. (The shift tests' own 0.6-0.8 is wider: there a
# moderate AUC is the finding, here it is what the finding must rule out.)
LABEL_AUC_SAME, LABEL_AUC_DIFFERENT = 0.55, 0.7


def inputs_alike(f: FeatureFacts) -> float:
    """Trust in a label read across the splits, by the domain classifier (1 without it)."""
    if not finite_number(f.domain_auc):
        return 1.0
    return 1.0 - ramp(f.domain_auc, LABEL_AUC_SAME, LABEL_AUC_DIFFERENT)


def noise_excess(margins: MarginFacts | None, val_error: float) -> float:
    """Share of train-probe samples with AUM < 0 minus the validation error rate."""
    if margins is None or not finite_number(val_error):
        return float("nan")
    return margins.flagged_fraction - val_error


def noise_excess_z(margins: MarginFacts | None, excess: float, val_error: float,
                   n_val: int | None) -> float:
    """``excess`` (:func:`noise_excess`) in standard errors of a difference of two
    proportions (train probe of size P, validation of size N): sizes run from 50 to 20,000
    samples, so a difference is only read against the noise its two sample sizes allow."""
    if margins is None or not finite_number(excess) or not n_val or not margins.n:
        return float("nan")
    p1 = min(max(margins.flagged_fraction, 0.01), 0.99)
    p2 = min(max(val_error, 0.01), 0.99)
    se = float(np.sqrt(p1 * (1 - p1) / margins.n + p2 * (1 - p2) / n_val))
    return excess / se


# how the reverse reference's disagreement is read, by every rule that reads it
DISAGREE_FACT = ("reference model fitted on validation data: accuracy on held-out validation minus "
                 "agreement with the training labels, per class at the training class shares, in "
                 "standard errors")
DISAGREE_RANGE = (3.0, 5.0)
DISAGREE_WHY = ("per-class recalls at one set of shares, so class shares that differ between the "
                "splits change nothing; "
                "beyond 3 standard errors a run with right labels lands about once in 700, beyond 5 "
                "about once in 3 million")


def label_disagreement(f: FeatureFacts | None) -> tuple[float, float, float, str]:
    """How much more a reference model fitted on validation data disagrees with the
    training labels than with held-out validation labels: ``(excess, excess in standard
    errors, trust 0..1, why the trust)``; NaNs without the reverse reference.

    Trust fades as the domain classifier tells the inputs apart (a model extrapolating to
    other inputs disagrees too) and below 200 samples a side (none below 60: a model
    fitted on a few dozen validation samples is too unsteady)."""
    nan = float("nan")
    if f is None or not (finite_number(f.rev_cv_accuracy) and finite_number(f.rev_train_agreement)):
        return nan, nan, 0.0, "no reverse reference"
    excess = f.rev_cv_accuracy - f.rev_train_agreement
    se = f.rev_se
    same = inputs_alike(f)
    sizes = ramp(min(f.n_train, f.n_val), 60, 200)
    why = (f"domain classifier AUC {f.domain_auc:.2f} (none from {LABEL_AUC_DIFFERENT}); "
           f"{min(f.n_train, f.n_val)} samples on the smaller side (full from 200)")
    return excess, excess / se if finite_number(se) and se > 0 else nan, same * sizes, why


SPLITS_FACT = ("labels agreeing with their nearest neighbours in the model's representation: across "
               "the two splits, short of what each split's own agreement predicts, in standard errors")
# the bootstrap over rows leaves out that neighbouring rows share neighbours, so this reading
# runs wider than a standard normal: on the 115 fresh runs with right labels and alike inputs
# the largest is 3.5 (4.1 before the class matching; heavily overfitted runs); so one
# standard error later than the reverse reference
SPLITS_RANGE = (4.0, 6.0)
SPLITS_WHY = ("both splits drawn with equal rows per class, so a neighbour lies as far in either; labels drawn from "
              "one P(label | input) agree across the splits as each split's own purity predicts, "
              "however much better the model fits training; 4 to 6 standard errors, one later than "
              "the reverse reference, because neighbouring rows share neighbours")


def split_disagreement(s: SplitNeighbours | None, f: FeatureFacts | None
                       ) -> tuple[float, float, float, str]:
    """``(excess, excess in standard errors, trust 0..1, why the trust)`` of the cross-split
    neighbour agreement's shortfall; NaNs without both representations. Trust fades as the
    inputs, or the model's representations of them, tell the splits apart (neighbours
    across different inputs lie further away and agree less whatever the labels): the
    domain classifier on the inputs, and the neighbours' own split in the representation,
    which sees a stretched signal or a zoomed image that a classifier on raw inputs misses."""
    nan = float("nan")
    if s is None or not finite_number(s.z):
        return nan, nan, 0.0, "no validation representation recorded"
    auc = f.domain_auc if f is not None else nan
    apart = max(v for v in (auc, s.domain_auc, 0.5) if finite_number(v))
    same = 1.0 - ramp(apart, LABEL_AUC_SAME, LABEL_AUC_DIFFERENT)
    why = (f"splits told apart at AUC {auc:.2f} on the inputs, {s.domain_auc:.2f} by "
           f"neighbours in the representation (none from {LABEL_AUC_DIFFERENT})")
    return s.excess, s.z, same, why


PURITY_FACT = ("labels agreeing with their nearest neighbours in the model's representation, within "
               "each split: validation minus training, in standard errors")
# Rows share neighbours, so this reading runs wider than a standard normal too: the 130
# healthy runs of the corpus and fresh2-fresh9 read 3.3 at most, the 67 overfitting runs 0.55
PURITY_RANGE = (3.0, 6.0)
PURITY_WHY = ("both splits drawn with equal rows per class and read at the epoch of lowest validation "
              "loss; 3 to 6 standard errors because neighbouring rows share neighbours (healthy runs "
              "reach 3.3)")


def purity_lead(s: SplitNeighbours | None, f: FeatureFacts | None) -> tuple[float, float, float, str]:
    """``(lead, lead in standard errors, trust 0..1, why the trust)`` of validation's
    within-split neighbour agreement over training's (:attr:`SplitNeighbours.purity_lead`);
    NaNs without both representations. Trusted as the cross-split read is: an easier
    validation region (a shift) is purer too."""
    nan = float("nan")
    if s is None or not finite_number(s.purity_lead_z):
        return nan, nan, 0.0, "no validation representation recorded"
    _, _, same, why = split_disagreement(s, f)
    return s.purity_lead, s.purity_lead_z, same, why


CONSISTENCY_FACT = ("reference model cross-validated within each split: accuracy on the validation "
                    "labels minus accuracy on the training labels, per class at the training class "
                    "shares, in standard errors")
# 2 standard errors is where the difference stops being noise: the 496 corpus and fresh runs
# with right labels read 2.9 at most, at 5 a difference is beyond doubt
CONSISTENCY_RANGE = (2.0, 5.0)


def label_consistency(f: FeatureFacts | None) -> tuple[float, float, float, str]:
    """How much better the reference model learns validation's labels than training's, each
    within its own split: ``(difference, in standard errors, trust 0..1, why the trust)``;
    NaNs without both references.

    The reads across the splits above say that the splits' labels disagree, not which
    split is wrong. Labels that contradict their own inputs (flips, a region relabelled at
    random) are harder to learn within their split, whichever way they are wrong across it:
    this read says which split that is. A consistent renaming (a class remap) leaves both
    learnable and this read at 0. Trust is 0 when validation's model sees more rows than
    training's (more rows alone learn better: a small training set would read as noisy),
    and fades as the domain classifier tells the inputs apart (an easier validation region
    is learned better too)."""
    nan = float("nan")
    if f is None or not (finite_number(f.rev_cv_accuracy) and finite_number(f.ref_cv_accuracy)):
        return nan, nan, 0.0, "no reference models"
    difference = f.rev_cv_accuracy - f.ref_cv_accuracy
    se = proportion_se((f.rev_cv_accuracy + f.ref_cv_accuracy) / 2, f.n_train, f.n_val)
    same = inputs_alike(f)
    fair = 1.0 if f.n_val <= f.n_train else 0.0
    why = (f"domain classifier AUC {f.domain_auc:.2f} (none from {LABEL_AUC_DIFFERENT}); "
           f"{f.n_val} validation rows against {f.n_train} training rows (none when validation "
           "has more)")
    return difference, difference / se if finite_number(se) and se > 0 else nan, same * fair, why


def proportion_se(p: float, n_a: int | None, n_b: int | None) -> float:
    """Standard error of a difference of two accuracies near ``p`` measured on ``n_a``
    and ``n_b`` samples (NaN when a size is unknown)."""
    if not n_a or not n_b or not finite_number(p):
        return float("nan")
    p = min(max(p, 0.02), 0.98)
    return float(np.sqrt(p * (1 - p) / n_a + p * (1 - p) / n_b))
