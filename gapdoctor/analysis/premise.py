"""The premise of every gap story: did the model train at all?

A train/validation gap needs a training loss that falls. Before any cause of a gap is
weighed, two facts are checked: the run *diverged* (the training loss turned NaN/inf or
exploded), or it *never learned* (the loss stayed at the level of a constant prediction and
the accuracy at chance or at the majority rate). Either one is itself the finding.

Example:
    >>> import pandas as pd
    >>> flat = pd.DataFrame({"loss": [2.303, 2.302, 2.302, 2.303, 2.302, 2.302],
    ...                      "accuracy": [.1, .1, .1, .1, .1, .1]})
    >>> p = premise_facts(flat)
    >>> round(p.never_learned, 2), p.diverged
    (1.0, False)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gapdoctor.analysis.curves import series

# Uniform predictions over K classes cost ln K; within 3% of it the model predicts nothing.
_LEVEL_TOLERANCE = 0.03


@dataclass
class Premise:
    """Whether the run trained at all. Strengths are in [0, 1]; reasons are plain sentences."""

    n_epochs: int
    nonfinite_epoch: int | None = None  # where the loss turned NaN/inf for good
    # epochs whose loss was NaN/inf with finite epochs after them: a batch's loss overflowed
    # (log(0) of a saturated output), the weights did not (NaN weights stay NaN)
    nonfinite_recovered: tuple[int, ...] = ()
    explosion: float = float("nan")
    rise: float = float("nan")  # mean loss of the last 3 epochs / the first epoch's loss
    rebound: float = float("nan")  # share of the drop undone after the minimum
    loss_change: float = float("nan")
    accuracy_range: float = float("nan")
    accuracy_above_chance: float = float("nan")
    level_match: str = ""
    train_auc: float = float("nan")  # set when it, not the loss change, says "flat"
    settled_at_level: bool = False  # flat judged on the second half (after the fall to the level)
    blown_first_epoch: bool = False  # epoch 0's loss was over 10x every later epoch's
    zero_loss: bool = False  # the loss was exactly 0 in every epoch, the first included
    never_learned: float = 0.0
    reasons: tuple[str, ...] = ()

    @property
    def diverged(self) -> bool:
        """The training loss turned NaN/inf, ended 10x above its minimum (exploded), or ended
        and stayed 25% above its first epoch's."""
        # NaN compares False; an overflowing ratio (inf) is an explosion too
        # Or it ends, and stays, a quarter above the first epoch's average loss, which
        # already includes the descent from initialisation: the optimiser made the fit worse.
        return self.nonfinite_epoch is not None or self.explosion > 10.0 or self.rise >= 1.25


def _ramp_down(value: float, full: float, none: float) -> float:
    """1 at or below ``full``, 0 at or above ``none``, linear between; 0 for NaN."""
    if not math.isfinite(value):
        return 0.0
    return float(min(1.0, max(0.0, (none - value) / (none - full))))


def _constant_level(loss: float, accuracy: float, n_classes: int = 0,
                    frequency_loss: float = float("nan"), chance: float = float("nan")) -> str:
    """Which constant prediction the loss equals, if any: uniform over K classes (ln K, with
    accuracy 1/K); for a binary task (or one of unknown classes) the base rate (binary entropy
    of the accuracy); for more classes the class frequencies (``frequency_loss``: their
    entropy, with the accuracy at the majority rate ``chance`` when known).

    Example:
        >>> _constant_level(0.680, 0.581, n_classes=2)[:5]
        '0.680'
        >>> _constant_level(0.680, 0.581, n_classes=6)  # six classes: not a constant's loss
        ''
    """
    if not (math.isfinite(loss) and 0 < loss < 12):  # ln K for up to ~160,000 classes
        return ""
    k = int(round(math.exp(loss)))
    if k >= 2 and abs(loss - math.log(k)) <= _LEVEL_TOLERANCE * math.log(k) and (
            not math.isfinite(accuracy) or abs(accuracy - 1 / k) <= 0.05):
        return f"ln {k} = {math.log(k):.3f}, the loss of uniform guessing over {k} classes"
    if n_classes > 2:
        # the binary entropy of the accuracy is no constant prediction's loss over K > 2
        # classes (at 6 classes and accuracy 0.58 it is 0.68, far below any constant's)
        if math.isfinite(frequency_loss) and frequency_loss > 0 and \
                abs(loss - frequency_loss) <= _LEVEL_TOLERANCE * frequency_loss and (
                    not (math.isfinite(chance) and math.isfinite(accuracy))
                    or abs(accuracy - chance) <= 0.05):
            return f"{frequency_loss:.3f}, the loss of predicting the class frequencies"
        return ""
    if math.isfinite(accuracy) and 0.5 <= accuracy < 1:
        h = -(accuracy * math.log(accuracy) + (1 - accuracy) * math.log(1 - accuracy))
        if abs(loss - h) <= _LEVEL_TOLERANCE * max(h, 0.05):
            return (f"{h:.3f}, the loss of always predicting the majority class "
                    f"(accuracy {accuracy:.3f})")
    return ""


def _blown_first_epoch(loss: pd.Series, train_accuracy: pd.Series) -> bool:
    """A first epoch that blew up and fell back: its loss is over 10x every later epoch's (the
    explosion cut-off), yet the training accuracy took under a tenth of the room it had left.
    A model that learned while its loss fell tenfold gains far more (easy tasks: 0.9 -> 1.0);
    without a training accuracy the two cannot be told apart, so no."""
    if len(train_accuracy) < 2 or not float(loss.iloc[0]) > 10.0 * float(loss.iloc[1:].max()) > 0:
        return False
    first = float(train_accuracy.iloc[0])
    room = 1.0 - first
    return room > 0 and (float(train_accuracy.iloc[1:].mean()) - first) / room < 0.1


def first_loss_vs_uniform(curves: pd.DataFrame, n_classes: int) -> float:
    """The first epoch's training loss over ln K, the cross-entropy of a uniform prediction
    over K classes (NaN when K < 2 or the first loss is not finite). A network at
    initialisation predicts close to uniformly and the first epoch averages its descent from
    there, so the ratio starts near 1; well above it, the outputs started far from uniform.

    Example:
        >>> round(first_loss_vs_uniform(pd.DataFrame({"loss": [363.7, 1.9]}), 8), 1)
        174.9
    """
    loss = pd.to_numeric(curves["loss"], errors="coerce") if "loss" in curves.columns else None
    if loss is None or not len(loss) or n_classes < 2 or not math.isfinite(float(loss.iloc[0])):
        return float("nan")
    return float(loss.iloc[0]) / math.log(n_classes)


def _zero_from_the_start(raw: np.ndarray) -> bool:
    """Every epoch's loss, the first included, is exactly 0 (Keras prints 0.0000e+00). A
    model starting from random weights cannot average a zero loss over its first epoch, so
    the loss gives no gradient at all: a loss that does not fit the output (categorical
    cross-entropy on one sigmoid unit is always 0) or the labels."""
    return len(raw) >= 2 and bool(np.all(np.isfinite(raw))) and bool(np.all(raw == 0))


def _zero_loss(p: Premise, curves: pd.DataFrame, n: int) -> Premise:
    """A loss of 0 from the start: the optimiser gets no gradient, nothing can be learned."""
    p.zero_loss, p.never_learned, p.loss_change = True, 1.0, 0.0
    accuracy = next((a for a in (series(curves, name) for name in ("accuracy", "acc"))
                     if len(a)), None)
    seen = (f"; the training accuracy stays at {float(accuracy.iloc[-1]):.3f}"
            if accuracy is not None else "")
    p.reasons = (f"the training loss is exactly 0 in all {n} epochs, the first included, so it "
                 f"gives the optimiser no gradient{seen} - the loss most likely does not fit the "
                 "output layer or the labels (categorical cross-entropy on a one-unit sigmoid "
                 "output is always 0)",)
    return p


def premise_facts(curves: pd.DataFrame, chance: float = float("nan"),
                  accuracy: pd.Series | None = None, loss_scale: float = float("nan"),
                  train_auc: float = float("nan"),
                  train_accuracy: pd.Series | None = None, n_classes: int = 0) -> Premise:
    """Check that training happened: divergence, and a loss that never left a constant level.

    Args:
        curves: the per-epoch curves (``loss`` and, if logged, ``accuracy``/``val_accuracy``).
        chance: accuracy of predicting the majority class, when the label counts are known.
        accuracy: a validation accuracy series to judge against chance (defaults to the
            logged ``val_accuracy`` or ``accuracy``).
        loss_scale: the loss of a constant prediction (ln K), against which a rebound of
            the loss is measured; the first epoch's loss when unknown.
        train_auc: ROC AUC of the last epoch's eval-mode predictions on training samples
            (NaN when not recorded).
        train_accuracy: fit's logged (training-mode) accuracy, when it is the same quantity
            as the callback's (``accuracy.logged_accuracy_series``): whether the model
            learned in training mode. Defaults to the ``accuracy`` curve.
        n_classes: the task's classes (0 when unknown): which constant predictions' losses
            the loss is compared with.
    """
    p = Premise(n_epochs=len(curves.index))
    if "loss" not in curves.columns:
        return p
    raw = pd.to_numeric(curves["loss"], errors="coerce").astype(float).to_numpy()
    bad = ~np.isfinite(raw)
    if len(bad) and bad[-1]:  # NaN/inf up to the end: diverged where that stretch began
        finite = np.flatnonzero(~bad)
        p.nonfinite_epoch = int(curves.index[finite[-1] + 1 if len(finite) else 0])
    p.nonfinite_recovered = tuple(int(curves.index[i]) for i in np.flatnonzero(bad)
                                  if p.nonfinite_epoch is None or curves.index[i] < p.nonfinite_epoch)
    loss = series(curves, "loss")
    if _zero_from_the_start(raw):
        return _zero_loss(p, curves, len(loss))
    if len(loss) >= 2 and float(loss.min()) > 0:
        # Python floats throughout: an extreme ratio of fuzzed losses is inf, not a numpy warning
        if len(loss) >= 4:
            p.rise = float(loss.iloc[-3:].mean()) / float(loss.iloc[0])
        p.explosion = (float(loss.iloc[-1]) / float(loss.min()) if loss.iloc[-1] > loss.iloc[0]
                       else 1.0)
        # the share of the run's progress undone after the minimum: a ratio to a minimum
        # near zero turns a bump of 0.003 into "3x", which means nothing
        start = loss_scale if math.isfinite(loss_scale) else float(loss.iloc[0])
        progress = start - float(loss.min())
        if progress > 0:
            undone = float(loss.loc[loss.idxmin():].max()) - float(loss.min())
            p.rebound = undone / progress  # Python floats: an extreme ratio is inf, silently
    reasons: list[str] = []
    if p.diverged:
        reasons.append("the training loss turned NaN/inf at epoch "
                       f"{p.nonfinite_epoch}" if p.nonfinite_epoch is not None else
                       f"the training loss ended {p.explosion:.0f}x above its minimum"
                       if p.explosion > 10.0 else
                       f"the training loss ended {p.rise - 1:.0%} above its first epoch's and stayed there")
    if accuracy is None or not len(accuracy):
        for name in ("val_accuracy", "val_acc", "accuracy", "acc"):
            accuracy = series(curves, name)
            if len(accuracy):
                break
    # Never learned: judged on at least 4 epochs, on the whole run (a plateau after a large
    # drop is a converged run, not a stuck one).
    if len(loss) >= 4 and float(loss.iloc[0]) > 0:
        train_acc = series(curves, "accuracy")
        trained = train_accuracy if train_accuracy is not None else train_acc
        p.blown_first_epoch = _blown_first_epoch(loss, train_acc)
        start = 1 if p.blown_first_epoch else 0
        p.loss_change = abs(float(loss.iloc[-1]) / float(loss.iloc[start]) - 1)
        # 2% is the epoch-to-epoch noise of a loss that does not move; 10% is real progress
        flat = _ramp_down(p.loss_change, 0.02, 0.10)
        if math.isfinite(train_auc):
            # or eval-mode predictions on training samples that rank no better than chance,
            # whatever the loss did (a first epoch that blew up and fell back "drops" a lot);
            # AUC, not the loss level: class weights move a model's losses, not its ranking
            unranked = _ramp_down(train_auc, 0.53, 0.60)
            if len(trained) and math.isfinite(chance):
                # unless the logged (training-mode) accuracy left chance: the model learned
                # and only its inference is at chance (BatchNorm statistics that lag, a
                # layer that behaves differently at inference) - pipeline_bug's finding;
                # 0.05-0.15 of the possible: the same "at chance" ramp as below
                logged = (float(trained.iloc[-3:].mean()) - chance) / max(1e-6, 1 - chance)
                unranked *= _ramp_down(logged, 0.05, 0.15)
            if unranked > flat:  # the accuracy must be at chance too (below)
                flat, p.train_auc = unranked, train_auc
        acc_last = float(accuracy.iloc[-3:].mean()) if len(accuracy) else float("nan")
        if len(accuracy) >= 4:
            p.accuracy_range = float(accuracy.max() - accuracy.min())
        if math.isfinite(chance) and len(accuracy):
            p.accuracy_above_chance = float((accuracy.max() - chance) / max(1e-6, 1 - chance))
        # the training loss's level against the training accuracy (same rows), if logged
        p.level_match = _constant_level(float(loss.iloc[-3:].mean()),
                                        float(train_acc.iloc[-3:].mean()) if len(train_acc)
                                        else acc_last, n_classes, loss_scale, chance)
        if p.level_match and len(loss) >= 8:
            # a loss that ends at a constant prediction's level: its early fall was the
            # initial loss coming down to that level, not learning - judge the second half
            half = float(loss.iloc[len(loss) // 2])
            settled = _ramp_down(abs(float(loss.iloc[-1]) / half - 1), 0.02, 0.10) if half > 0 else 0.0
            if settled > flat:
                flat, p.loss_change = settled, abs(float(loss.iloc[-1]) / half - 1)
                p.settled_at_level = True
        # the constant-prediction signs: accuracy at chance (known counts: within 5% of the
        # possible gain above it), or a loss equal to a constant prediction's
        at_chance = _ramp_down(p.accuracy_above_chance, 0.05, 0.15)
        still = _ramp_down(p.accuracy_range, 0.01, 0.04)
        # Long runs in which nothing moves at all: neither the loss nor the accuracy (or,
        # without an accuracy, the validation loss); a run at 98%+ accuracy learned earlier.
        vloss = series(curves, "val_loss")
        vflat = (_ramp_down(abs(float(vloss.iloc[-1]) / float(vloss.iloc[0]) - 1), 0.02, 0.10)
                 if len(vloss) >= 4 and vloss.iloc[0] > 0 else 0.0)
        learned = math.isfinite(acc_last) and acc_last >= 0.98
        # (only a flat loss: when the ranking, not the loss, says "flat", a loss that fell
        # while eval-mode predictions rank at chance is no frozen run - BN in training mode is)
        loss_fell = math.isfinite(p.train_auc) and p.loss_change > 0.10  # the ramp's "none" end
        frozen = (0.0 if len(loss) < 8 or learned or loss_fell else
                  (still if len(accuracy) >= 4 else vflat))
        # a validation loss identical to 6 digits over the last 3+ epochs: the outputs stopped
        # changing (frozen or dead weights), whatever the training loss does
        tail = vloss.iloc[-3:]
        if len(tail) >= 3 and float(np.ptp(tail)) <= 1e-6 * max(abs(float(tail.mean())), 1e-12):
            frozen = 1.0
        sign = max(at_chance * max(still, 0.5), 1.0 if p.level_match else 0.0, frozen)
        p.never_learned = float(flat * sign)
        if p.never_learned > 0:
            moved = (f"the model ranks its own training samples no better than chance (ROC AUC "
                     f"{p.train_auc:.2f} at the last epoch)" if math.isfinite(p.train_auc)
                     else f"the training loss changed by {p.loss_change:.1%}" + (
                         f" after a first epoch at {float(loss.iloc[0]):.4g}"
                         if p.blown_first_epoch else " in the second half of the run"
                         if p.settled_at_level else ""))
            reasons.append(f"{moved} over {len(loss)} epochs" + (f" and sits at {p.level_match}"
                                                    if p.level_match else "")
                           + (f"; the best accuracy is {p.accuracy_above_chance:.0%} of the "
                              "way from chance to perfect"
                              if math.isfinite(p.accuracy_above_chance) else ""))
    p.reasons = tuple(reasons)
    return p
