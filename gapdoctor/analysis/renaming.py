"""Are the validation predictions a renaming of the validation labels?

A model that learned its task predicts each class as itself. When validation labels were
encoded with another class order (a re-fitted label encoder, ``pd.factorize`` on another
file, an off-by-one id), the model still recognises every class, under the other name:
the validation confusion matrix is a permutation of a diagonal one. The best one-to-one
renaming of classes (the assignment that maximises the matches, ``linear_sum_assignment``)
then regains what plain accuracy lost. Wrong training labels do not do this while fewer
than half of a class's labels are wrong: the model learns the majority label and predicts
the right class on validation.

The same read on the training probe is subtracted: a model that mixes its own classes
up in training (a broken optimisation) is no renaming of validation labels.

Example:
    >>> cm = np.array([[[2, 40], [38, 3]]])           # rows: true class, columns: predicted
    >>> r = renaming_of(cm, None)
    >>> round(r.gain, 3), r.pairs
    (0.88, [(0, 1), (1, 0)])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gapdoctor.analysis.ramps import ramp
from gapdoctor.record.schema import RunRecord

_LAST_EPOCHS = 3  # the last epochs' matrices summed: one epoch's few rows per class are noisy


@dataclass
class Renaming:
    gain: float          # validation accuracy regained by the renaming, beyond training's
    val_gain: float
    train_gain: float
    accuracy: float      # validation accuracy as labelled
    renamed: float       # validation accuracy after the renaming
    z: float             # rows regained in standard errors of a sign test over the moved cells
    pairs: list[tuple[int, int]]  # (label, predicted as) for every class the renaming moves

    def described(self, names: dict[int, str] | None = None) -> str:
        """The renaming as the user reads it, e.g. ``"label 0 -> predicted 1, 1 -> 0"``."""
        names = names or {}
        shown = [f"{names.get(a, a)} -> {names.get(b, b)}" for a, b in self.pairs[:6]]
        more = f" and {len(self.pairs) - 6} more" if len(self.pairs) > 6 else ""
        return "label " + ", ".join(shown) + more


def _best_renaming(cm: np.ndarray) -> tuple[float, float, float, list[tuple[int, int]]]:
    """(accuracy, accuracy after the best renaming, sign-test z, moved pairs) of one matrix."""
    from scipy.optimize import linear_sum_assignment

    total = cm.sum()
    if total <= 0:
        return float("nan"), float("nan"), 0.0, []
    rows, cols = linear_sum_assignment(cm, maximize=True)
    moved = rows != cols
    won = float(cm[rows[moved], cols[moved]].sum())
    kept = float(cm[rows[moved], rows[moved]].sum())
    # under "each class is itself" a row of a moved class lands on its own column at least
    # as often as on another: won vs kept is a sign test over those rows
    z = (won - kept) / np.sqrt(won + kept) if won + kept > 0 else 0.0
    # a class with no validation rows can land anywhere at no cost: it renames nothing
    pairs = [(int(r), int(c)) for r, c in zip(rows[moved], cols[moved], strict=True) if cm[r, c] > 0]
    return float(np.trace(cm) / total), float(cm[rows, cols].sum() / total), float(z), pairs


def _matrices(value: object) -> np.ndarray | None:
    """Per-epoch confusion matrices ``(epochs, C, C)`` as float counts, or None when there
    are none or a damaged record's (not numbers, not square, NaN or negative counts)."""
    if value is None:
        return None
    try:
        m = np.asarray(value, float)
    except (TypeError, ValueError):
        return None
    if m.ndim != 3 or not len(m) or m.shape[1] < 2 or m.shape[1] != m.shape[2] \
            or not np.isfinite(m).all() or (m < 0).any():
        return None
    return m


def renaming_of(confusion_val: np.ndarray, confusion_train: np.ndarray | None) -> Renaming | None:
    """The renaming read of per-epoch confusion matrices ``(epochs, C, C)``, rows = labels."""
    val, train = _matrices(confusion_val), _matrices(confusion_train)
    if val is None:
        return None
    acc, renamed, z, pairs = _best_renaming(val[-_LAST_EPOCHS:].sum(0))
    if not np.isfinite(acc):
        return None
    train_gain = 0.0
    if train is not None:
        t_acc, t_renamed, _, _ = _best_renaming(train[-_LAST_EPOCHS:].sum(0))
        train_gain = t_renamed - t_acc if np.isfinite(t_acc) else 0.0
    return Renaming(gain=(renamed - acc) - train_gain, val_gain=renamed - acc, train_gain=train_gain,
                    accuracy=acc, renamed=renamed, z=z, pairs=pairs)


def class_renaming(run: RunRecord) -> Renaming | None:
    """The renaming read of a record (None without validation confusion matrices)."""
    if not run.has("confusion_val"):
        return None
    train = run.arrays["confusion_train"] if run.has("confusion_train") else None
    return renaming_of(run.arrays["confusion_val"], train)


# how every rule reads it
RENAMED_FACT = ("validation accuracy regained by renaming classes one-to-one (the best renaming), "
                "beyond the same on the training probe")
# 5 points of validation is beyond the rounding of a confusion matrix on a few hundred rows;
# 20 points is a whole class of a five-class task predicted as another
RENAMED_RANGE = (0.05, 0.2)
# the rows regained, as a sign test over the moved cells: 2 standard errors is where chance
# confusions between two classes stop explaining them, 4 where nothing else does
RENAMED_Z = (2.0, 4.0)


def renaming_trust(r: Renaming) -> tuple[float, str]:
    """How far a renaming's gain is beyond chance confusions (sign test), and why."""
    return (ramp(r.z, *RENAMED_Z),
            f"the rows regained are {r.z:.1f} standard errors beyond chance confusions "
            f"(none below {RENAMED_Z[0]:g}, full from {RENAMED_Z[1]:g})")
