"""Whether a retrained control reached the memorisation phase, where label noise and
overfitting do their harm.

Wrong labels and excess capacity cost validation accuracy only once the model fits its
training rows beyond what generalises (before that, in the early-learning phase, the clean
majority dominates the gradient). A control that never got there - a retraining shortened
by the budget, typically - cannot show their harm, so an intervention that moves nothing is
no evidence against the cause: its refutation becomes ``inconclusive``.

Example:
    >>> memorisation_phase(0.70, 0.92, [0.75, 0.64, 0.62, 0.58, 0.56]).reached
    False
    >>> memorisation_phase(0.996, 0.95, [0.4, 0.3, 0.3]).reached   # fits beyond validation
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gapdoctor.confirm.outcome import MIN_EFFECT, Confirmation

# Training accuracy (on the labels as given) above validation accuracy by the smallest
# accuracy difference the experiments call meaningful: the model fits its rows beyond what
# carries over to unseen ones. With wrong labels in training this happens only once the
# model fits many of them, so one threshold serves both causes.
MEMORISED_GAP = MIN_EFFECT


def patience(epochs: int) -> int:
    """Epochs without a better validation loss after which training is past its best: a
    fifth of the run, at least 3, as Keras examples set EarlyStopping (the regularisation
    arm stops with the same patience)."""
    return max(3, int(epochs) // 5)


@dataclass
class Phase:
    """What the control's end state shows (accuracies in [0, 1])."""

    reached: bool
    train_accuracy: float
    val_accuracy: float
    epochs_since_best: int | None = None
    flagged_fitted: float | None = None
    n_flagged: int = 0

    def details(self) -> dict:
        out = {"memorisation_reached": self.reached,
               "control_train_accuracy": round(self.train_accuracy, 4),
               "control_val_accuracy": round(self.val_accuracy, 4),
               "control_epochs_since_best_val_loss": self.epochs_since_best}
        if self.flagged_fitted is not None:
            out["control_flagged_fitted"] = round(self.flagged_fitted, 4)
        return out

    def why(self) -> str:
        text = (f"its training accuracy ({self.train_accuracy:.1%}, labels as given) is not "
                f"{MEMORISED_GAP * 100:.0f} points above its validation accuracy "
                f"({self.val_accuracy:.1%})")
        if self.epochs_since_best is not None:
            text += (f" and its validation loss was still at or near its best "
                     f"({self.epochs_since_best} epoch(s) since the best)")
        if self.flagged_fitted is not None:
            text += (f"; it fits only {self.flagged_fitted:.1%} of the {self.n_flagged} "
                     "flagged samples' labels")
        return text


def memorisation_phase(train_accuracy: float, val_accuracy: float,
                       val_loss: Sequence[float] | None = None,
                       flagged_fitted: float | None = None, n_flagged: int = 0) -> Phase:
    """Reached when the control shows either symptom of memorisation: its training accuracy
    exceeds its validation accuracy by :data:`MEMORISED_GAP`, or its validation loss
    (``val_loss``, per epoch) has not improved for :func:`patience` epochs while training
    went on (what early stopping reads as "past its best"). ``flagged_fitted`` (the share
    of flagged samples whose given label it predicts at its end) is reported, not used: on
    clean data the flagged samples are outliers a memorising model may still never fit."""
    reached = train_accuracy - val_accuracy >= MEMORISED_GAP
    since = None
    losses = np.asarray(val_loss if val_loss is not None else [], float)
    losses = losses[np.isfinite(losses)]
    if losses.size:
        since = int(losses.size - 1 - np.argmin(losses))
        reached = reached or since >= patience(losses.size)
    return Phase(bool(reached), float(train_accuracy), float(val_accuracy), since,
                 None if flagged_fitted is None else float(flagged_fitted), int(n_flagged))


def advice(epochs: int, original_epochs: int) -> str:
    """What to run instead, in one clause."""
    if epochs < original_epochs:
        return (f"run with a larger budget (budget= or max_seconds=) or epochs="
                f"{original_epochs} or more")
    return f"run with more epochs (e.g. epochs={2 * epochs})"


def withhold_refutation(c: Confirmation, phase: Phase | None, epochs: int,
                        original_epochs: int) -> Confirmation:
    """``c`` with a refutation turned ``inconclusive`` when the control did not reach the
    memorisation phase (a confirmation stands: an effect was measured all the same)."""
    if phase is None:
        return c
    c.details.update(phase.details())
    if phase.reached or c.outcome != "refuted":
        return c
    c.outcome = "inconclusive"
    c.text += (f" Not a refutation: the control did not reach the memorisation phase in "
               f"{epochs} epochs ({phase.why()}), and the harm of {c.cause.replace('_', ' ')} "
               f"shows only there; {advice(epochs, original_epochs)}.")
    return c
