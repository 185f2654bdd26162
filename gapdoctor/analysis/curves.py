"""Facts read off the per-epoch curves: turning points, gaps, trends, noise, oscillation.

Example:
    >>> import pandas as pd
    >>> c = pd.DataFrame({"loss": [1.0, .5, .3, .2], "val_loss": [1.0, .6, .7, .9],
    ...                   "accuracy": [.5, .8, .9, 1.], "val_accuracy": [.5, .7, .7, .7]})
    >>> f = curve_facts(c, "val_accuracy")
    >>> round(f.val_loss_rise, 2), f.best_epoch
    (0.5, 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gapdoctor.record.schema import metric_mode


def series(curves: pd.DataFrame, column: str | None) -> pd.Series:
    """A curves column as floats with non-finite values dropped (empty if absent)."""
    if not column or column not in curves.columns:
        return pd.Series(dtype=float)
    values = pd.to_numeric(curves[column], errors="coerce").astype(float)
    return values[np.isfinite(values)]


def tail_mean(s: pd.Series, k: int = 3) -> float:
    return float(s.iloc[-k:].mean()) if len(s) else float("nan")


@dataclass
class CurveFacts:
    """Headline measurements of a run's curves (NaN where not measurable)."""

    n_epochs: int
    monitor: str | None
    mode: str
    train_metric: str | None
    best_epoch: int | None = None
    best_value: float = float("nan")
    first_value: float = float("nan")
    last_value: float = float("nan")
    epochs_past_best: int = 0
    val_loss_min: float = float("nan")
    val_loss_min_epoch: int | None = None
    val_loss_last: float = float("nan")
    val_loss_rise: float = float("nan")
    val_loss_fall_last_third: float = float("nan")
    loss_first: float = float("nan")
    loss_last: float = float("nan")
    loss_drop: float = float("nan")
    loss_drop_after_val_best: float = float("nan")
    loss_drop_second_half: float = float("nan")
    gap: float = float("nan")
    # the gap with the logged training value moved to the epoch's end (see curve_facts)
    gap_epoch_end: float = float("nan")
    train_metric_last: float = float("nan")
    metric_gain: float = float("nan")
    metric_gain_second_half: float = float("nan")
    metric_jitter: float = float("nan")
    loss_up_fraction: float = float("nan")
    loss_spike: float = float("nan")
    val_loss_jump: float = float("nan")


def _improvement(a: float, b: float, mode: str) -> float:
    """How much ``b`` is better than ``a`` in the metric's direction."""
    return (b - a) if mode == "max" else (a - b)


def _val_loss_jump(vloss: pd.Series, loss: pd.Series, scale: float = float("nan")) -> float:
    """The largest one-epoch jump of the validation loss that also leaves its best so far,
    over the training loss's own rise in that epoch (1.0: none; NaN: fewer than 3 epochs).

    Memorisation lifts the validation loss a little each epoch; a jump to several times its
    best within one epoch while the training loss holds is the evaluated model jumping.
    ``scale`` is a constant prediction's loss (the first training loss when NaN). Only epochs
    after the validation loss had halved from it count: before that a model still searching
    leaps about freely. Losses below a tenth of it count as that tenth: near the ceiling a
    ratio of two tiny losses measures rounding, not the model.

    Example:
        >>> v = pd.Series([1.0, 0.5, 0.4, 4.0, 0.35])
        >>> round(_val_loss_jump(v, pd.Series([1.0, 0.6, 0.5, 0.45, 0.4])), 1)
        10.0
    """
    joint = pd.concat([vloss, loss], axis=1, join="inner").to_numpy(float)
    v, t = joint[:, 0], joint[:, 1]
    if len(v) < 3 or not (np.all(np.isfinite(v)) and np.all(v > 0)):
        return float("nan")
    scale = scale if math.isfinite(scale) and scale > 0 else float(t[0])
    if not (math.isfinite(scale) and scale > 0):
        return float("nan")
    floor = 0.1 * scale
    best = np.minimum.accumulate(v)[:-1]
    with np.errstate(over="ignore", under="ignore"):  # extreme logged values: inf reads as a leap
        own = v[1:] / np.maximum(v[:-1], floor)
        train = t[1:] / t[:-1] if np.all(np.isfinite(t)) and np.all(t > 0) else np.ones_like(own)
        jump = np.minimum(own / np.maximum(train, 1.0), v[1:] / np.maximum(best, floor))
    learned = best <= 0.5 * scale
    # capped: a ratio that overflowed is a leap as large as any, not a missing number
    return float(np.clip(np.max(jump[learned]), 1.0, 1e6)) if learned.any() else 1.0


def infer_mode(curves: pd.DataFrame, monitor: str) -> str:
    """A metric's direction read off the run itself when no name or class tells it.

    Over epochs a useful metric moves against the validation loss when higher is better and
    with it when lower is better; |Spearman rho| > 0.6 over at least 5 epochs is taken as
    telling (below that, "unknown").
    """
    joint = pd.concat([series(curves, monitor), series(curves, "val_loss")], axis=1,
                      join="inner").to_numpy(float)
    if len(joint) < 5 or np.ptp(joint[:, 0]) == 0 or np.ptp(joint[:, 1]) == 0:
        return "unknown"
    ranks = [pd.Series(col).rank().to_numpy() for col in joint.T]
    rho = float(np.corrcoef(ranks[0], ranks[1])[0, 1])
    return "max" if rho < -0.6 else "min" if rho > 0.6 else "unknown"


def curve_facts(curves: pd.DataFrame, monitor: str | None, mode: str | None = None,
                loss_scale: float = float("nan")) -> CurveFacts:
    """Measure the curves; every field is NaN/None when its columns are missing.

    ``loss_scale`` is the loss of a constant prediction (ln K for a K-class cross-entropy),
    the yardstick for what counts as a rise of the training loss; the first epoch's loss
    stands in when it is unknown.

    ``mode`` is the monitor's direction (``"max"``/``"min"``); by default it is looked up by
    name, then inferred from the curves; when still unknown, "best" facts stay NaN.
    """
    if mode not in ("max", "min"):
        mode = metric_mode(monitor) if monitor else "min"
        if mode == "unknown" and monitor:
            mode = infer_mode(curves, monitor)
    train_metric = monitor[4:] if monitor and monitor.startswith("val_") else None
    if train_metric not in curves.columns:
        train_metric = None
    f = CurveFacts(n_epochs=len(curves.index), monitor=monitor, mode=mode,
                   train_metric=train_metric)
    loss, vloss = series(curves, "loss"), series(curves, "val_loss")
    val, train = series(curves, monitor), series(curves, train_metric)
    if len(loss):
        f.loss_first, f.loss_last = float(loss.iloc[0]), tail_mean(loss, 2)
        # one epoch has no drop to measure (its first and last loss are the same number)
        f.loss_drop = (1 - f.loss_last / f.loss_first if f.loss_first > 0 and len(loss) >= 2
                       else float("nan"))
        half = loss.iloc[len(loss) // 2:]
        if len(half) >= 2 and half.iloc[0] > 0:
            f.loss_drop_second_half = 1 - tail_mean(half, 2) / float(half.iloc[0])
        if len(loss) >= 3:
            values = loss.to_numpy()
            ratios = values[1:] / np.maximum(values[:-1], 1e-12)
            # near a loss of zero a bump of 0.002 is a large ratio: a rise counts when it is
            # also 1% of the run's drop (a spike, 5%)
            rise = np.diff(values)
            start = loss_scale if math.isfinite(loss_scale) else values[0]
            progress = float(start - values.min())
            floor = progress if progress > 0 else 0.0
            f.loss_up_fraction = float(np.mean((ratios > 1.02) & (rise > 0.01 * floor)))
            big = rise > 0.05 * floor
            f.loss_spike = float(ratios[big].max()) if big.any() else 1.0
    if len(vloss):
        f.val_loss_min_epoch = int(vloss.idxmin())
        f.val_loss_min = float(vloss.min())
        f.val_loss_last = tail_mean(vloss)
        # a rise past the minimum needs the minimum before the last epochs: a loss still
        # falling (its minimum among the last k) has not turned, whatever their mean says
        k = min(3, max(1, len(vloss) // 4))
        before = vloss.iloc[:-k]
        if len(before) and float(before.min()) <= float(vloss.iloc[-k:].min()) and before.min() > 0:
            f.val_loss_rise = max(0.0, tail_mean(vloss, k) / float(before.min()) - 1)
        elif f.val_loss_min > 0:
            f.val_loss_rise = 0.0
        third = vloss.iloc[-max(3, len(vloss) // 3):]
        if len(vloss) >= 6 and third.iloc[0] > 0:
            # relative fall from the start of the last third to its last 2 epochs' mean
            f.val_loss_fall_last_third = 1 - tail_mean(third, 2) / float(third.iloc[0])
        f.val_loss_jump = _val_loss_jump(vloss, loss, loss_scale)
        after = loss[loss.index >= f.val_loss_min_epoch]
        if len(after) >= 2 and after.iloc[0] > 0:
            f.loss_drop_after_val_best = 1 - tail_mean(after, 2) / float(after.iloc[0])
    if len(val) and mode in ("max", "min"):
        best = val.idxmax() if mode == "max" else val.idxmin()
        f.best_epoch, f.best_value = int(best), float(val[best])
        f.first_value, f.last_value = float(val.iloc[0]), tail_mean(val)
        f.epochs_past_best = int((val.index > best).sum())
        f.metric_gain = _improvement(f.first_value, f.best_value, mode)
        half = val.iloc[len(val) // 2:]
        f.metric_gain_second_half = _improvement(float(half.iloc[0]), tail_mean(half), mode)
        f.metric_jitter = float(np.std(np.diff(half.to_numpy()))) if len(half) >= 3 else np.nan
    if len(val) and len(train) and mode in ("max", "min"):
        # the first epoch's logged training value averages over the untrained start (it
        # trails validation in every run): it is no gap, and a one-epoch run has none
        everything = pd.concat([train, val], axis=1, join="inner").to_numpy()
        joint, sign = everything[1:], (1 if mode == "max" else -1)
        if len(joint):
            gaps = (joint[:, 0] - joint[:, 1]) * sign
            f.gap = float(np.mean(gaps[-3:]))
            f.train_metric_last = float(np.mean(joint[-3:, 0]))
            # Keras logs the training value as its running mean over the epoch: the weights
            # at mid-epoch, half an epoch behind validation's. Moved to the epoch's end by
            # half the epoch's progress, a run still learning fast shows no lag.
            end = joint[:, 0] + 0.5 * np.diff(everything[:, 0])
            f.gap_epoch_end = float(np.mean(((end - joint[:, 1]) * sign)[-3:]))
    return f


@dataclass
class FlatStretch:
    """The longest run of epochs with the metric flat, and what the loss did meanwhile."""

    start: int
    length: int
    loss_gain: float
    level: float


def flat_stretch(metric: pd.Series, val_loss: pd.Series, tol: float = 0.02) -> FlatStretch | None:
    """Longest stretch of epochs over which ``metric`` stays within ``tol``.

    ``loss_gain`` is the relative fall of ``val_loss`` within it (0.6 = fell by 60%);
    ``level`` is the metric's mean over it.

    Example:
        >>> m = pd.Series([0., 0., 0., 0., .5, .8])
        >>> s = flat_stretch(m, pd.Series([1., .8, .6, .5, .4, .3]))
        >>> s.start, s.length, round(s.loss_gain, 2)
        (0, 4, 0.5)
    """
    joint = pd.concat([metric, val_loss], axis=1, join="inner").dropna().to_numpy(float)
    if len(joint) < 3:
        return None
    best = (0, 0, 0.0)
    for i in range(len(joint)):
        lo = hi = joint[i, 0]
        j = i
        while j + 1 < len(joint) and max(hi, joint[j + 1, 0]) - min(lo, joint[j + 1, 0]) <= tol:
            j += 1
            lo, hi = min(lo, joint[j, 0]), max(hi, joint[j, 0])
        gain = 1 - joint[i:j + 1, 1].min() / joint[i, 1] if joint[i, 1] > 0 else 0.0
        if (j - i + 1, gain) > (best[1], best[2]):
            best = (i, j - i + 1, gain)
        if j == len(joint) - 1:
            break
    start, length, gain = best
    return FlatStretch(start=start, length=length, loss_gain=float(gain),
                       level=float(joint[start:start + length, 0].mean()))
