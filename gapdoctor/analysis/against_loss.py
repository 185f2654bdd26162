"""Does the monitored metric move against its own direction while the validation loss improves?

A metric whose direction is known (its recorded Keras class or its name, never read off the
run) should get better as the validation loss falls. One that gets worse instead, over the
whole run and from its first epoch to its last, rewards something the loss does not: a
threshold, one class, a ranking sorted the wrong way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gapdoctor.analysis.accuracy import estimate_n_from_steps


@dataclass
class AgainstLoss:
    """How the monitored metric moved against the validation loss over a run.

    ``rho`` is the Spearman correlation of the metric, signed so that larger is better, with
    the validation loss over epochs: positive means the metric got worse as the loss fell.
    ``worse`` is its first value minus the mean of its last three, in the better direction
    (positive: it ended worse than it began). ``loss_gain`` is the validation loss's fall from
    its first epoch to its minimum, relative (0.3 = fell by 30 %).
    """

    rho: float
    worse: float
    loss_gain: float
    first: float
    last: float


def against_loss(metric: pd.Series, val_loss: pd.Series, direction: str) -> AgainstLoss | None:
    """The metric's movement against the validation loss; None below 5 common epochs, for
    a constant metric or loss, or an unknown direction.

    Example:
        >>> m = pd.Series([.50, .45, .42, .40, .38])   # higher is better, yet it falls
        >>> v = pd.Series([1.0, .8, .7, .6, .55])
        >>> a = against_loss(m, v, "max")
        >>> round(a.rho, 2), round(a.worse, 3), round(a.loss_gain, 2)
        (1.0, 0.1, 0.45)
    """
    if direction not in ("max", "min"):
        return None
    joint = pd.concat([metric, val_loss], axis=1, join="inner").dropna()
    joint = joint[np.isfinite(joint.to_numpy(float)).all(axis=1)]
    if len(joint) < 5 or np.ptp(joint.iloc[:, 0]) == 0 or np.ptp(joint.iloc[:, 1]) == 0:
        return None
    better = joint.iloc[:, 0].astype(float) * (1 if direction == "max" else -1)
    loss = joint.iloc[:, 1].astype(float)
    rho = float(better.rank().corr(loss.rank()))
    first_loss = float(loss.iloc[0])
    gain = 1 - float(loss.min()) / first_loss if first_loss > 0 else float("nan")
    return AgainstLoss(rho=rho, worse=float(better.iloc[0] - better.iloc[-3:].mean()),
                       loss_gain=gain, first=float(joint.iloc[0, 0]),
                       last=float(joint.iloc[-3:, 0].mean()))


def proportion_se(value: float, n: int | None, curve: pd.Series) -> float:
    """Standard error of a metric read as a share of ``n`` validation rows (NaN when it is
    not a share, between 0 and 1, or no size is known). Without a recorded size, the steps of
    the metric's curve bound it, as for accuracy in an imported log.

    Example:
        >>> round(proportion_se(0.9, 100, pd.Series([0.9])), 3)
        0.03
    """
    values = curve.dropna().to_numpy(float)
    if not (0.0 <= value <= 1.0) or not len(values) or values.min() < 0 or values.max() > 1:
        return float("nan")
    if not n:
        n = estimate_n_from_steps(values)
    if not n:
        return float("nan")
    p = min(max(value, 0.05), 0.95)  # a share at 0 or 1 still moves by a row or two
    return float(np.sqrt(p * (1 - p) / n))
