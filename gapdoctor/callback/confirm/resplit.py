"""distribution_shift by retraining: a re-split that moves validation rows into training.

Two arms from the same seed train on as many rows: ``original_split`` on the training rows
minus a held-back set, ``resplit`` on the same rows with some of them swapped for validation
rows. Both are scored on rows neither trained on: the held-back training rows (the training
distribution) and the scored validation half (the validation distribution). A model trained
on the training rows alone shows how much a shift costs (the gap between the two); the
re-split shows whether seeing validation-like rows in training closes it. Scoring on
validation rows alone would not do: the control would be judged on rows from one
distribution only, and an overfit model's usual train/validation gap (seen vs unseen rows)
would read as a shift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gapdoctor.callback.confirm.arms import ArmResult
from gapdoctor.callback.confirm.data import stratified_sample
from gapdoctor.callback.confirm.experiments import _curves, correct
from gapdoctor.confirm import gaps
from gapdoctor.confirm.checks import predicted_class
from gapdoctor.confirm.outcome import Confirmation

# At most a quarter of the training rows are held back for scoring, so both arms keep three
# quarters of the training set whatever the validation set's size.
MAX_HELD_SHARE = 0.25
# At most half of the re-split arm's training rows come from validation: it must still learn
# the training distribution to be scored on it.
MAX_MIXED_SHARE = 0.5


@dataclass
class ResplitRows:
    """Row indices: ``held_train`` (training rows scored, trained on by neither arm),
    ``control`` (the training rows of ``original_split``), ``mixed_train`` and ``mixed_val``
    (the ``resplit`` arm's rows from each split), ``scored_val`` (validation rows scored)."""

    held_train: np.ndarray
    control: np.ndarray
    mixed_train: np.ndarray
    mixed_val: np.ndarray
    scored_val: np.ndarray


def choose_rows(train_labels: np.ndarray, val_labels: np.ndarray, half_a: np.ndarray,
                half_b: np.ndarray, seed: int = 12345) -> ResplitRows:
    """Hold back as many training rows as validation rows are scored (``half_b``), drawn
    with the training split's class shares; swap validation rows of ``half_a`` for as many
    training rows, each drawn with its split's class shares (a stratified re-split)."""
    rng = np.random.default_rng(seed)
    everything = np.arange(len(train_labels))
    n_held = min(len(half_b), int(MAX_HELD_SHARE * len(everything)))
    held = stratified_sample(train_labels, everything, n_held, rng)
    control = np.setdiff1d(everything, held)
    k = min(len(half_a), int(MAX_MIXED_SHARE * len(control)))
    swapped_out = stratified_sample(train_labels, control, k, rng)
    mixed_val = stratified_sample(val_labels, np.asarray(half_a), k, rng)
    return ResplitRows(held, control, np.setdiff1d(control, swapped_out), mixed_val,
                       np.asarray(half_b))


def train_pair(plan: Any, seed: int, first: bool) -> bool:
    """Train ``original_split`` and ``resplit`` for one seed in ``plan`` (a
    :class:`~gapdoctor.callback.confirm.schedule.RetrainPlan`), both validated on the
    scored validation half that neither trains on (which gives their curves). False when the
    pair does not fit the budget: a control without its re-split would measure nothing."""
    r, c = plan.resplit_rows, plan.c
    common = {"validation": plan.val_b, "score_rows": r.held_train}
    one = (float(np.mean(plan.arm_seconds)) if plan.arm_seconds else
           (c.original_seconds or 0.0) * plan.epochs / c.original_epochs)
    if 2 * one * len(r.control) / max(plan.n_train, 1) > c._left():
        return False
    if plan._train("original_split", plan._recipe("original_split", seed, rows=r.control,
                                                  **common), first=first) is None:
        return False
    plan._train("resplit", plan._recipe("resplit", seed, rows=r.mixed_train,
                                        val_rows=r.mixed_val, **common))
    return True


def read(control: list[ArmResult], mixed: list[ArmResult], rows: ResplitRows,
         labels: np.ndarray, train_labels: np.ndarray) -> Confirmation:
    """The re-split's outcome, paired by seed (see :func:`gapdoctor.confirm.gaps.resplit`)."""
    n = min(len(control), len(mixed))
    control, mixed = control[:n], mixed[:n]
    truth = train_labels[rows.held_train]

    def held_train(arms: list[ArmResult]) -> np.ndarray:
        return np.stack([(predicted_class(a.train_probs) == truth).astype(float) for a in arms])

    def held_val(arms: list[ArmResult]) -> np.ndarray:
        return np.stack([correct(a, labels)[rows.scored_val] for a in arms])

    result = gaps.resplit(held_train(control), held_val(control), held_train(mixed),
                          held_val(mixed), {"mixed_in": len(rows.mixed_val),
                                            "training_rows": len(rows.control)})
    result.seconds = sum(a.seconds for a in control + mixed)
    result.curves = _curves(control[0], mixed[0])
    return result
