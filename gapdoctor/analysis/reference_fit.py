"""Does the network fit its own training rows at least as well as a simple model fits rows it
never saw?

The reference model of ``features`` (a logistic regression, scored by 3-fold cross-validation
on the training probe) gives a floor for what the inputs plainly hold. A network scored on
the very rows it trained on should reach it: it has more capacity and has seen the answers.
One that stays far below it after several epochs is held back by its training, not by the
data: a learning rate too small, a weight decay that pins the weights, batches that never
mix the classes, units that died. Label noise, memorisation, shifts and pipeline faults all
leave the network's *training* fit at or above the reference's held-out one.

Example:
    >>> fit = ReferenceFit(network=0.51, reference=0.70, majority=0.50, n=600,
    ...                    measured="eval-mode predictions on training rows")
    >>> round(fit.share, 2)
    0.05
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gapdoctor.analysis.accuracy import accuracy_series, logged_accuracy_series
from gapdoctor.analysis.features import FeatureFacts
from gapdoctor.record.schema import RunRecord

# The reference must beat the majority rate by this much (and by 3 standard errors of its
# own accuracy) before falling short of it means anything: a table no model learns gives
# no floor to fall below.
MIN_ROOM = 0.05
# Epochs a network needs before "still below a linear model" is a finding: a run stopped
# after 1-3 epochs is short, not held back.
MIN_EPOCHS = 4


@dataclass(frozen=True)
class ReferenceFit:
    """The network's training accuracy against the reference's cross-validated accuracy."""

    network: float  # the better of eval-mode and logged training accuracy, last 3 epochs
    reference: float  # the reference model's 3-fold CV accuracy on the same training rows
    majority: float  # accuracy of always predicting the commonest training class
    n: int  # training rows behind the reference
    measured: str  # which of the network's accuracies was the better

    @property
    def share(self) -> float:
        """The network's accuracy above the majority rate, as a share of the reference's:
        1 = as good as the reference on held-out rows, 0 = at the majority rate."""
        return (self.network - self.majority) / (self.reference - self.majority)


def reference_fit(run: RunRecord, features: FeatureFacts | None) -> ReferenceFit | None:
    """The comparison, or None when it says nothing: no reference, no training accuracy,
    fewer than :data:`MIN_EPOCHS` epochs, a reference within noise of the majority rate,
    or class/sample weights (they trade plain accuracy for the rare classes on purpose)."""
    if features is None or not math.isfinite(features.ref_cv_accuracy) or \
            run.n_epochs < MIN_EPOCHS or not run.has("probe_labels"):
        return None
    fit_args = run.meta.get("fit") or {}
    if fit_args.get("class_weight") or fit_args.get("sample_weight"):
        return None
    labels = np.asarray(run.arrays["probe_labels"], dtype=float).ravel()
    labels = labels[np.isfinite(labels) & (labels >= 0)]
    if not len(labels) or (labels != np.round(labels)).any():
        return None  # no class ids (a regression target, a broken record)
    labels = labels.astype(np.int64)
    majority = float(np.bincount(labels).max() / len(labels))
    ref, n = float(features.ref_cv_accuracy), int(features.n_train)
    se = math.sqrt(max(ref * (1 - ref), 1e-6) / max(n, 1))
    if ref - majority < max(MIN_ROOM, 3 * se):
        return None
    candidates = {"eval-mode predictions on training rows": accuracy_series(run, "train"),
                  "fit's logged training accuracy": logged_accuracy_series(run)}
    recent = {name: float(s.iloc[-3:].mean()) for name, s in candidates.items()
              if len(s) and math.isfinite(float(s.iloc[-3:].mean()))}
    if not recent:
        return None
    measured = max(recent, key=recent.get)
    return ReferenceFit(network=recent[measured], reference=ref, majority=majority, n=n,
                        measured=measured)
