"""Is the validation accuracy fit logged the share of validation rows the model gets right?

The callback scores the same weights on the validation rows at each epoch's end (arg-max
accuracy and cross-entropy, in inference mode, ``split_metrics``). A metric logged under an
accuracy's name must agree with that accuracy up to the sampling noise of the callback's rows.
When it does not while the two losses agree, the metric computes something else (a label
offset, a broadcast over pairs, an exact comparison). When the losses disagree too, fit
evaluated another model or other data: the evaluation path, not the metric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gapdoctor.analysis.against_loss import proportion_se
from gapdoctor.analysis.curves import series
from gapdoctor.record.schema import RunRecord

# Logged names that mean "share of rows whose arg-max (or 0.5 threshold) is the label"
ACCURACY_NAMES = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
                  "binary_accuracy")


@dataclass
class LoggedAgainstOwn:
    """fit's logged validation accuracy against the callback's, epoch by epoch.

    ``diff``: mean absolute difference over the common epochs; ``se``: the standard error of
    such a difference from the callback reading a sample of the validation rows (at least one
    row's worth, 1 / n); ``loss_ratio``: median of fit's validation loss over the callback's
    cross-entropy (NaN when fit's loss is not a cross-entropy).
    """

    diff: float
    se: float
    loss_ratio: float
    logged_last: float
    own_last: float
    n_epochs: int


def logged_against_own(run: RunRecord, monitor: str | None,
                       loss_column: str | None) -> LoggedAgainstOwn | None:
    """Compare the monitored validation accuracy with the callback's own; None when the
    monitor is not an accuracy by name or the callback recorded no validation scores.

    ``loss_column`` is the logged training loss when it is the cross-entropy the callback
    computes (``lags.logged_cross_entropy``); its ``val_`` twin is compared.
    """
    if not monitor or monitor.removeprefix("val_") not in ACCURACY_NAMES \
            or not run.has("split_metrics"):
        return None
    val = run.split_metrics[run.split_metrics["split"] == "val"].set_index("epoch")
    joint = pd.concat([series(run.curves, monitor), val["accuracy"].astype(float)], axis=1,
                      join="inner").dropna()
    if not len(joint):
        return None
    used = int(val["n"].max()) if "n" in val and np.isfinite(val["n"]).any() else 0
    full = (run.meta.get("data") or {}).get("n_val") or used
    if used <= 0:
        return None
    # the callback's rows are a sample of the validation set: its binomial error shrinks by
    # the share it left unread (none when it read every row), and is never under one row
    unread = max(0.0, 1.0 - used / full) if full else 0.0
    own = joint.iloc[:, 1]
    se = max(proportion_se(float(own.mean()), used, own) * float(np.sqrt(unread)), 1.0 / used)
    ratio = float("nan")
    if loss_column:
        losses = pd.concat([series(run.curves, "val_" + loss_column), val["loss"].astype(float)],
                           axis=1, join="inner").dropna()
        losses = losses[(losses > 0).all(axis=1)]
        if len(losses):
            ratio = float((losses.iloc[:, 0] / losses.iloc[:, 1]).median())
    return LoggedAgainstOwn(diff=float((joint.iloc[:, 0] - joint.iloc[:, 1]).abs().mean()),
                            se=se, loss_ratio=ratio, logged_last=float(joint.iloc[-1, 0]),
                            own_last=float(joint.iloc[-1, 1]), n_epochs=len(joint))
