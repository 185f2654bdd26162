"""Does the monitored metric follow the learning at all?

The callback scores the model on the validation rows at every epoch's end (arg-max accuracy,
``split_metrics``). When that accuracy moves by several standard errors over the run while
the monitored metric, a share between 0 and 1, moves by a small part of it, the metric does
not read what the model learns: a positive rate, a recall over 1000 classes of which 3
exist, a top-k over almost every class. Its direction need not be known: a metric that
barely moves says nothing either way. A metric at its good end (a recall of 1.0 from the
start) has no room left to move and is not judged here. Only the accuracy gained above the
majority rate counts as learning: a model that drifts from predicting the rare class to the
common one gains accuracy without learning anything a ranking metric such as AUC would show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gapdoctor.analysis.curves import series
from gapdoctor.record.schema import RunRecord


@dataclass
class InertMetric:
    """The monitored metric's movement against the callback's validation accuracy.

    ``ratio``: the metric's range over the common epochs / the accuracy's gain (its best
    over its first epoch's, or over the majority rate when that is higher);
    ``own_range`` and ``own_se``: that gain and the standard error of one epoch's accuracy
    (at its mean, on ``n`` rows); ``headroom``: the metric's distance from its
    good end at the last epoch (from the nearer end when its direction is unknown).
    """

    ratio: float
    metric_range: float
    own_range: float
    own_se: float
    headroom: float
    n_epochs: int


def inert_metric(run: RunRecord, monitor: str | None, direction: str,
                 n: int | None, chance: float = float("nan")) -> InertMetric | None:
    """The monitored metric against the callback's accuracy; None without the callback's
    validation scores, below 5 common epochs, or when the metric is not a share in [0, 1].

    Example (a positive rate that drifts by 0.006 while accuracy rises by 0.08):
        >>> import pandas as pd
        >>> from gapdoctor.record.schema import RunRecord
        >>> run = RunRecord.empty()
        >>> run.curves = pd.DataFrame({"val_positive_rate": [.509, .511, .512, .513, .515]})
        >>> run.split_metrics = pd.DataFrame({"epoch": range(5), "split": "val",
        ...                                   "accuracy": [.56, .60, .62, .63, .64]})
        >>> found = inert_metric(run, "val_positive_rate", "unknown", 600, chance=0.5)
        >>> round(found.ratio, 3), round(found.own_range / found.own_se, 1)
        (0.075, 4.0)
        >>> inert_metric(run, "val_positive_rate", "unknown", 600, chance=0.7) is None
        True
    """
    if not monitor or not n or not run.has("split_metrics"):
        return None
    own = run.split_metrics[run.split_metrics["split"] == "val"].set_index("epoch")["accuracy"]
    joint = pd.concat([series(run.curves, monitor), own.astype(float)], axis=1,
                      join="inner").dropna()
    values = joint.to_numpy(float)
    if len(joint) < 5 or not np.isfinite(values).all() or values[:, 0].min() < 0 \
            or values[:, 0].max() > 1:
        return None
    metric, accuracy = values[:, 0], values[:, 1]
    floor = max(float(accuracy[0]), chance) if np.isfinite(chance) else float(accuracy[0])
    own_range = float(accuracy.max()) - floor
    if own_range <= 0:
        return None
    p = float(np.clip(accuracy.mean(), 0.05, 0.95))  # a share at 0 or 1 still moves by a row
    last = float(metric[-3:].mean())
    headroom = 1 - last if direction == "max" else last if direction == "min" else min(last, 1 - last)
    return InertMetric(ratio=float(np.ptp(metric)) / own_range, metric_range=float(np.ptp(metric)),
                       own_range=own_range, own_se=float(np.sqrt(p * (1 - p) / n)),
                       headroom=headroom, n_epochs=len(joint))
